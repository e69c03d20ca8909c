"""The compiled fast path gives the sklearn/pyRiemann pipeline's probabilities (<= 1e-9)."""

from __future__ import annotations

import numpy as np
import pytest
from mne.decoding import CSP
from pyriemann.classification import MDM, FgMDM
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from bci.decoders.fast import FastPipeline, WindowDecoder, compile_pipeline, fast_or_slow

ATOL = 1e-9
N_CHANNELS, N_TIMES = 8, 128


def make_windows(
    rng: np.random.Generator,
    n_windows: int,
    n_classes: int,
    n_channels: int = N_CHANNELS,
    n_times: int = N_TIMES,
    scale: float = 1e-5,
    gain: float = 1.15,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows whose covariance depends on the class (one source per class gains power).

    A fixed mixing makes the channels correlated, the class sources overlap so the
    probabilities stay away from 0 and 1, and ``scale`` puts the data in volts like MNE.
    """
    mixing = np.random.default_rng(7).standard_normal((n_channels, n_channels))
    y = np.arange(n_windows) % n_classes
    sources = rng.standard_normal((n_windows, n_channels, n_times))
    sources[np.arange(n_windows), y] *= gain
    X = scale * (mixing @ sources + 0.3 * rng.standard_normal((n_windows, n_channels, n_times)))
    return X, y


def _head(kind: str) -> list:
    if kind == "lr":
        return [TangentSpace(metric="riemann"), LogisticRegression()]
    if kind == "lda":
        # shrinkage: 36 tangent features from 36 windows would overfit plain LDA
        lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
        return [TangentSpace(metric="riemann"), lda]
    return [MDM(metric="riemann")]


def assert_same(fast: FastPipeline, pipeline: Pipeline, X: np.ndarray) -> None:
    expected = pipeline.predict_proba(X)
    got = fast.predict_proba(X)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= ATOL
    # not a vacuous comparison: probabilities away from 0/1 for most windows
    assert np.mean((expected > 0.01) & (expected < 0.99)) > 0.3
    np.testing.assert_array_equal(fast.classes_, pipeline.classes_)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("head", ["lr", "lda", "mdm"])
@pytest.mark.parametrize("estimator", ["scm", "oas", "lwf"])
def test_fast_matches_sklearn_on_random_windows(estimator, head, n_classes, rng):
    X, y = make_windows(rng, 36, n_classes)
    pipeline = make_pipeline(Covariances(estimator=estimator), *_head(head)).fit(X, y)
    fast = compile_pipeline(pipeline)
    X_test, _ = make_windows(rng, 24, n_classes)
    assert_same(fast, pipeline, X_test)
    np.testing.assert_array_equal(fast.predict(X_test), pipeline.predict(X_test))


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(lambda: [Covariances("cov"), TangentSpace(), LogisticRegression()], id="cov"),
        pytest.param(lambda: [Covariances("oas", assume_centered=True), MDM()], id="oas-centered"),
        pytest.param(
            lambda: [Covariances("lwf", block_size=3), TangentSpace(), LogisticRegression()],
            id="lwf-block",
        ),
        pytest.param(lambda: [Covariances("oas"), FgMDM()], id="fgmdm"),
        pytest.param(
            lambda: [
                Covariances("oas"),
                TangentSpace(),
                StandardScaler(),
                LogisticRegression(C=10.0),
            ],
            id="scaler",
        ),
        pytest.param(
            lambda: [
                Covariances("oas"),
                TangentSpace(),
                StandardScaler(with_mean=False),
                LogisticRegression(C=10.0),
            ],
            id="scaler-no-mean",
        ),
        pytest.param(
            lambda: [
                Covariances("oas"),
                TangentSpace(metric={"mean": "logeuclid", "map": "riemann"}),
                LogisticRegression(),
            ],
            id="ts-logeuclid-mean",
        ),
        pytest.param(
            lambda: [Covariances("scm"), MDM(metric={"mean": "logeuclid", "distance": "riemann"})],
            id="mdm-logeuclid-mean",
        ),
        pytest.param(lambda: [CSP(n_components=4), LinearDiscriminantAnalysis()], id="csp-lda"),
        pytest.param(
            lambda: [CSP(n_components=4, log=False), LogisticRegression()], id="csp-nolog"
        ),
    ],
)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_fast_matches_other_configurations(steps, n_classes, rng):
    X, y = make_windows(rng, 36, n_classes)
    pipeline = make_pipeline(*steps()).fit(X, y)
    fast = compile_pipeline(pipeline)
    X_test, _ = make_windows(rng, 24, n_classes)
    assert_same(fast, pipeline, X_test)


def test_nested_pipeline_and_string_labels(rng):
    X, y = make_windows(rng, 36, 2)
    labels = np.array(["left", "right"])[y]
    inner = make_pipeline(Covariances("oas"), TangentSpace())
    pipeline = Pipeline(
        [("features", inner), ("skip", "passthrough"), ("clf", LogisticRegression())]
    )
    pipeline.fit(X, labels)
    fast = compile_pipeline(pipeline)
    assert fast.step_names == ("features__covariances", "features__tangentspace", "clf")
    X_test, _ = make_windows(rng, 12, 2)
    assert_same(fast, pipeline, X_test)
    assert list(fast.predict(X_test)) == list(pipeline.predict(X_test))


@pytest.mark.parametrize("head", ["lr", "mdm"])
def test_single_window_equals_batch(head, rng):
    X, y = make_windows(rng, 30, 3)
    pipeline = make_pipeline(Covariances("oas"), *_head(head)).fit(X, y)
    fast = compile_pipeline(pipeline)
    X_test, _ = make_windows(rng, 10, 3)
    batch = fast.predict_proba(X_test)
    for i, window in enumerate(X_test):
        one = fast.predict_proba_one(window)
        assert one.shape == (3,)
        np.testing.assert_allclose(one, batch[i], rtol=0, atol=1e-12)
        np.testing.assert_allclose(one, pipeline.predict_proba(window[None])[0], rtol=0, atol=ATOL)


def test_input_types_are_converted_to_float64(rng):
    X, y = make_windows(rng, 30, 2, scale=1.0)
    pipeline = make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()).fit(X, y)
    fast = compile_pipeline(pipeline)
    window = X[0]
    expected = pipeline.predict_proba(window[None])[0]
    np.testing.assert_allclose(fast.predict_proba_one(window.tolist()), expected, atol=ATOL)
    # float32 input is upcast once: equal to the float64 result on the rounded data
    w32 = window.astype(np.float32)
    np.testing.assert_allclose(
        fast.predict_proba_one(w32),
        pipeline.predict_proba(w32.astype(np.float64)[None])[0],
        atol=ATOL,
    )
    assert fast.predict_proba_one(w32).dtype == np.float64


def test_probabilities_sum_to_one_and_repr(rng):
    X, y = make_windows(rng, 30, 3)
    fast = compile_pipeline(make_pipeline(Covariances("oas"), MDM()).fit(X, y))
    P = fast.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    assert fast.n_channels == N_CHANNELS
    assert "mdm" in repr(fast)


def test_fast_or_slow_returns_the_fast_path_when_supported(rng):
    X, y = make_windows(rng, 30, 2)
    pipeline = make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()).fit(X, y)
    decoder = fast_or_slow(pipeline)
    assert isinstance(decoder, FastPipeline)
    assert decoder.is_fast
    assert isinstance(decoder, WindowDecoder)
