"""Every named pipeline of the registry compiles to the fast path and gives its probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC, LinearSVC

from bci.decoders import make_pipeline, pipeline_names
from bci.decoders.fast import FastPipeline, compile_pipeline, fast_or_slow
from bci.decoders.selection import META_PIPELINES
from bci.errors import DecoderError

ATOL = 1e-9
SFREQ = 160.0
LABELS = np.array(["feet", "left", "right"])


def make_windows(
    rng: np.random.Generator, n_windows: int, n_classes: int, n_channels: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """2 s windows at 160 Hz, in volts; one mixed source per class gains power."""
    mixing = np.random.default_rng(7).standard_normal((n_channels, n_channels))
    y = np.arange(n_windows) % n_classes
    sources = rng.standard_normal((n_windows, n_channels, 320))
    sources[np.arange(n_windows), y] *= 1.3
    return 1e-5 * (mixing @ sources), LABELS[y]


def _variants() -> list:
    out = []
    for name in pipeline_names():
        if name in META_PIPELINES:  # built from the others at fit time: no compiled path
            continue
        out.append(pytest.param(name, {}, id=name))
        if name != "csp-lda":
            out.append(pytest.param(name, {"recentering": True}, id=f"{name}-recentering"))
        out.append(pytest.param(name, {"cov_estimator": "lwf"}, id=f"{name}-lwf"))
    return out


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(("name", "params"), _variants())
def test_registry_pipeline_compiles_and_matches(name, params, n_classes, rng):
    X, y = make_windows(rng, 45, n_classes)
    pipeline = make_pipeline(name, sfreq=SFREQ, **params).fit(X, y)
    fast = compile_pipeline(pipeline)
    X_test, _ = make_windows(rng, 12, n_classes)
    expected = pipeline.predict_proba(X_test)
    assert np.max(np.abs(fast.predict_proba(X_test) - expected)) <= ATOL
    single = np.stack([fast.predict_proba_one(w) for w in X_test])
    assert np.max(np.abs(single - expected)) <= ATOL
    assert list(fast.classes_) == list(LABELS[:n_classes])
    assert isinstance(fast_or_slow(pipeline), FastPipeline)


def test_calibrated_variants(rng):
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.pipeline import make_pipeline as sk_pipeline

    X, y = make_windows(rng, 45, 3)
    X_test, _ = make_windows(rng, 12, 3)
    for clf in (
        CalibratedClassifierCV(SVC(kernel="linear"), cv=3),  # ensemble: mean of 3 members
        CalibratedClassifierCV(SVC(kernel="linear", decision_function_shape="ovo"), cv=3),
        CalibratedClassifierCV(LinearSVC(), cv=3, ensemble=False),
    ):
        pipeline = sk_pipeline(Covariances("oas"), TangentSpace(), clf).fit(X, y)
        fast = compile_pipeline(pipeline)
        assert np.max(np.abs(fast.predict_proba(X_test) - pipeline.predict_proba(X_test))) <= ATOL


@pytest.mark.parametrize(
    ("clf", "message"),
    [
        (CalibratedClassifierCV(SVC(kernel="rbf"), cv=3), "has kernel='rbf'"),
        (CalibratedClassifierCV(SVC(kernel="linear"), cv=3, method="isotonic"), "'isotonic'"),
    ],
)
def test_calibrated_refusals(clf, message, rng):
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.pipeline import make_pipeline as sk_pipeline

    X, y = make_windows(rng, 45, 2)
    pipeline = sk_pipeline(Covariances("oas"), TangentSpace(), clf).fit(X, y)
    with pytest.raises(DecoderError) as info:
        compile_pipeline(pipeline)
    assert message in str(info.value)


def test_filter_bank_window_too_short(rng):
    from bci.errors import SignalError

    X, y = make_windows(rng, 30, 2)
    fast = compile_pipeline(make_pipeline("fbts-lr", sfreq=SFREQ).fit(X, y))
    with pytest.raises(SignalError, match="Windows of 20 samples are too short"):
        fast.predict_proba_one(X[0, :, :20])
