"""The fast path refuses what it cannot reproduce, and rejects bad windows clearly."""

from __future__ import annotations

import numpy as np
import pytest
from pyriemann.classification import MDM
from pyriemann.estimation import Covariances, Shrinkage
from pyriemann.tangentspace import TangentSpace
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

import bci.decoders._compile_linear as linear_compilers
from bci.decoders.fast import (
    FastPipeline,
    SklearnDecoder,
    WindowDecoder,
    compile_pipeline,
    fast_or_slow,
)
from bci.errors import DecoderError, ModelMismatchError, NotCalibratedError, SignalError

N_CHANNELS, N_TIMES = 6, 100


@pytest.fixture
def data(rng):
    y = np.arange(30) % 2
    X = rng.standard_normal((30, N_CHANNELS, N_TIMES))
    X[y == 1, 0] *= 1.3
    return X, y


@pytest.fixture
def ts_lr(data):
    X, y = data
    return make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()).fit(X, y)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            lambda: [Covariances("oas"), Shrinkage(), TangentSpace(), LogisticRegression()],
            "Step 'shrinkage' (pyriemann.estimation.Shrinkage) is not supported",
        ),
        (
            lambda: [Covariances("oas"), TangentSpace(), PCA(3), LogisticRegression()],
            "Step 'pca' (sklearn.decomposition._pca.PCA) is not supported",
        ),
        (
            lambda: [Covariances("oas"), TangentSpace(), SVC(kernel="linear")],
            "Step 'svc' (SVC) is not supported by the fast path",
        ),
        (
            lambda: [Covariances("mcd"), MDM()],
            "Step 'covariances' (Covariances) uses estimator 'mcd'",
        ),
        (
            lambda: [Covariances("scm", weights=np.ones(N_TIMES)), MDM()],
            "has keyword(s) ['weights'] the fast path does not reproduce",
        ),
        (
            lambda: [Covariances("oas"), TangentSpace(tsupdate=True), LogisticRegression()],
            "Step 'tangentspace' (TangentSpace) has tsupdate=True",
        ),
        (
            lambda: [Covariances("oas"), TangentSpace(metric="logeuclid"), LogisticRegression()],
            "maps with metric 'logeuclid'",
        ),
        (
            lambda: [Covariances("oas"), MDM(metric="logeuclid")],
            "Step 'mdm' (MDM) measures distances with metric 'logeuclid'",
        ),
        (lambda: [Covariances("oas"), TangentSpace()], "outputs features"),
    ],
)
def test_unsupported_step_raises_decoder_error_naming_it(steps, message, data):
    X, y = data
    pipeline = make_pipeline(*steps())
    pipeline.fit(X, y)
    with pytest.raises(DecoderError, match=None) as info:
        compile_pipeline(pipeline)
    assert message in str(info.value)


def test_not_a_pipeline_and_not_fitted(data):
    with pytest.raises(DecoderError, match="expects a fitted sklearn Pipeline, got MDM"):
        compile_pipeline(MDM())
    unfitted = make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression())
    with pytest.raises(NotCalibratedError, match=r"Step 'tangentspace' .* is not fitted"):
        compile_pipeline(unfitted)
    with pytest.raises(NotCalibratedError):
        fast_or_slow(unfitted)


def test_fast_or_slow_falls_back_to_the_sklearn_pipeline(data, caplog):
    X, y = data
    pipeline = make_pipeline(
        Covariances("oas"), Shrinkage(shrinkage=0.2), TangentSpace(), LogisticRegression()
    ).fit(X, y)
    with caplog.at_level("INFO", logger="bci.decoders.fast"):
        decoder = fast_or_slow(pipeline)
    assert isinstance(decoder, SklearnDecoder)
    assert isinstance(decoder, WindowDecoder)
    assert not decoder.is_fast
    assert "Shrinkage" in decoder.reason
    assert "Fast decode path unavailable" in caplog.text
    assert decoder.n_channels == N_CHANNELS  # from TangentSpace.reference_
    np.testing.assert_array_equal(decoder.classes_, [0, 1])
    np.testing.assert_array_equal(decoder.predict_proba(X), pipeline.predict_proba(X))
    np.testing.assert_array_equal(
        decoder.predict_proba_one(X[3]), pipeline.predict_proba(X[3:4])[0]
    )
    np.testing.assert_array_equal(decoder.predict(X), pipeline.predict(X))
    with pytest.raises(
        ModelMismatchError, match="window has 5 channels, the decoder was fitted on 6"
    ):
        decoder.predict_proba_one(X[0, :5])


def test_fast_or_slow_rejects_a_compiled_path_that_disagrees(ts_lr, monkeypatch, caplog):
    # a library version whose formula moved would show up as a mismatch: simulate one
    monkeypatch.setattr(linear_compilers, "expit", lambda z: 0.5 + 0.0 * z)
    with caplog.at_level("WARNING", logger="bci.decoders.fast"):
        decoder = fast_or_slow(ts_lr)
    assert isinstance(decoder, SklearnDecoder)
    assert "differ from the sklearn pipeline by" in decoder.reason
    assert "Fast decode path rejected" in caplog.text
    assert isinstance(fast_or_slow(ts_lr, verify=False), FastPipeline)


@pytest.mark.parametrize(
    ("window", "error", "message"),
    [
        (np.zeros((N_CHANNELS,)), SignalError, r"window must be 2-D \(n_channels, n_times\)"),
        (np.zeros((1, N_CHANNELS, N_TIMES)), SignalError, "window must be 2-D"),
        (
            np.ones((N_TIMES, N_CHANNELS)),
            ModelMismatchError,
            "window has 100 channels, the decoder was fitted on 6",
        ),
        (np.ones((N_CHANNELS, 1)), SignalError, "at least 2 samples in time, got 1"),
    ],
)
def test_bad_window_shapes(ts_lr, window, error, message):
    fast = compile_pipeline(ts_lr)
    with pytest.raises(error, match=message):
        fast.predict_proba_one(window)


def test_bad_batch_shapes(ts_lr, data):
    X, _ = data
    fast = compile_pipeline(ts_lr)
    with pytest.raises(SignalError, match=r"X must be 3-D .* use predict_proba_one"):
        fast.predict_proba(X[0])
    with pytest.raises(ModelMismatchError, match="X has 4 channels, the decoder was fitted on 6"):
        fast.predict_proba(X[:, :4])
    with pytest.raises(SignalError, match="X holds no window"):
        fast.predict_proba(X[:0])


def test_nan_and_flat_windows(ts_lr, data):
    X, y = data
    mdm = compile_pipeline(make_pipeline(Covariances("scm"), MDM()).fit(X, y))
    for fast in (compile_pipeline(ts_lr), mdm):
        bad = X[0].copy()
        bad[2, 10] = np.nan
        with pytest.raises(SignalError, match="window contains NaN or infinite values"):
            fast.predict_proba_one(bad)
        bad[2, 10] = np.inf
        with pytest.raises(SignalError, match="NaN or infinite"):
            fast.predict_proba(bad[None])
    flat = np.zeros((N_CHANNELS, N_TIMES))  # a disconnected headset: zero covariance
    with pytest.raises(SignalError, match=r"not positive definite .* flat or duplicated channel"):
        mdm.predict_proba_one(flat)
    with pytest.raises(SignalError, match="not positive definite"):
        compile_pipeline(
            make_pipeline(Covariances("scm"), TangentSpace(), LogisticRegression()).fit(X, y)
        ).predict_proba_one(flat)


def test_sklearn_decoder_needs_predict_proba_and_classes(data):
    X, y = data
    with pytest.raises(DecoderError, match="has no predict_proba"):
        SklearnDecoder(make_pipeline(Covariances(), TangentSpace()).fit(X, y))
    with pytest.raises(NotCalibratedError, match="has no classes_: fit the pipeline first"):
        SklearnDecoder(make_pipeline(Covariances(), MDM()))
