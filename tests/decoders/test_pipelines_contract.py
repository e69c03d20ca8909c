"""Contract suite of every registered pipeline on 3-D epochs (scikit-learn's estimator rules).

``parametrize_with_checks`` feeds 2-D tables, which our epochs pipelines do not take, so the
same rules are checked here on epochs: shapes, ``classes_``, probabilities, determinism, refit
independence, ``clone``, pickling, ``NotFittedError``.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from bci.decoders import get_pipeline, make_pipeline, pipeline_names

SFREQ = 128.0
N_CH = 6
N_T = 256


def _epochs(
    rng: np.random.Generator, labels: list[str], n_per_class: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Epochs whose classes differ in the 8-30 Hz power of one channel each (an ERD)."""
    t = np.arange(N_T) / SFREQ
    X, y = [], []
    for k, lab in enumerate(labels):
        for _ in range(n_per_class):
            x = rng.standard_normal((N_CH, N_T))
            f = rng.uniform(10, 14)
            burst = np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
            gains = np.full(N_CH, 3.0)
            gains[k % N_CH] = 0.5  # this class suppresses the rhythm at its own channel
            x += gains[:, None] * burst
            X.append(x)
            y.append(lab)
    order = rng.permutation(len(y))
    return np.asarray(X)[order], np.asarray(y)[order]


@pytest.fixture(scope="module")
def data2() -> tuple[np.ndarray, np.ndarray]:
    return _epochs(np.random.default_rng(0), ["left", "right"])


@pytest.fixture(scope="module")
def fitted(data2: tuple[np.ndarray, np.ndarray]) -> dict[str, Pipeline]:
    X, y = data2
    return {n: make_pipeline(n, sfreq=SFREQ).fit(X, y) for n in pipeline_names()}


ALL = pipeline_names()


def test_registry_has_the_issue_pipelines() -> None:
    assert {"ts-lr", "ts-svm", "mdm", "fgmdm", "csp-lda", "fbts-lr", "fbts-svm"} <= set(ALL)
    assert get_pipeline("TS-LR").name == "ts-lr"
    assert get_pipeline("ts-lr").band == (8.0, 30.0)
    fb = get_pipeline("fbts-lr")
    assert fb.band == (4.0, 40.0) and fb.fixed_band and fb.needs_sfreq


@pytest.mark.parametrize("name", ALL)
def test_shapes_classes_and_probabilities(
    name: str, fitted: dict[str, Pipeline], data2: tuple[np.ndarray, np.ndarray]
) -> None:
    X, y = data2
    est = fitted[name]
    assert isinstance(est, Pipeline)
    assert list(est.classes_) == ["left", "right"]
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert ((proba >= 0) & (proba <= 1)).all()
    pred = est.predict(X)
    assert pred.shape == (len(X),)
    assert set(pred) <= {"left", "right"}
    # it learns the structure (training accuracy on clearly separable epochs)
    assert np.mean(pred == y) >= 0.9
    # one window at a time gives the same numbers as the batch
    np.testing.assert_allclose(est.predict_proba(X[:1]), proba[:1], atol=1e-10)


@pytest.mark.parametrize("name", ALL)
def test_float32_input_and_determinism(
    name: str, fitted: dict[str, Pipeline], data2: tuple[np.ndarray, np.ndarray]
) -> None:
    X, y = data2
    again = make_pipeline(name, sfreq=SFREQ).fit(X, y)
    np.testing.assert_allclose(again.predict_proba(X), fitted[name].predict_proba(X), atol=1e-12)
    p32 = fitted[name].predict_proba(X.astype(np.float32))
    np.testing.assert_allclose(p32, fitted[name].predict_proba(X), atol=1e-3)


@pytest.mark.parametrize("name", ALL)
def test_clone_pickle_and_not_fitted(
    name: str, fitted: dict[str, Pipeline], data2: tuple[np.ndarray, np.ndarray]
) -> None:
    X, _ = data2
    est = fitted[name]
    fresh = clone(est)
    assert fresh.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    with pytest.raises(NotFittedError):
        fresh.predict_proba(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
    assert list(restored.classes_) == list(est.classes_)


@pytest.mark.parametrize("name", ALL)
def test_refit_forgets_the_previous_fit(name: str, data2: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data2
    other_X, other_y = _epochs(np.random.default_rng(5), ["feet", "hands"], n_per_class=12)
    est = make_pipeline(name, sfreq=SFREQ).fit(X, y)
    est.fit(other_X, other_y)
    fresh = make_pipeline(name, sfreq=SFREQ).fit(other_X, other_y)
    assert list(est.classes_) == ["feet", "hands"]
    np.testing.assert_allclose(est.predict_proba(X), fresh.predict_proba(X), atol=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_three_classes(name: str) -> None:
    X, y = _epochs(np.random.default_rng(2), ["a", "b", "c"], n_per_class=12)
    est = make_pipeline(name, sfreq=SFREQ).fit(X, y)
    proba = est.predict_proba(X)
    assert list(est.classes_) == ["a", "b", "c"]
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("cov", ["oas", "lwf", "scm"])
def test_covariance_estimator_is_a_parameter(
    cov: str, data2: tuple[np.ndarray, np.ndarray]
) -> None:
    X, y = data2
    est = make_pipeline("ts-lr", cov_estimator=cov)
    assert est.named_steps["cov"].estimator == cov
    est.fit(X, y)
    csp = make_pipeline("csp-lda", cov_estimator=cov)
    assert csp.named_steps["csp"].reg == {"oas": "oas", "lwf": "ledoit_wolf", "scm": None}[cov]
    fb = make_pipeline("fbts-lr", sfreq=SFREQ, cov_estimator=cov)
    assert fb.named_steps["fbts"].cov_estimator == cov


def test_recentering_step_is_optional(data2: tuple[np.ndarray, np.ndarray]) -> None:
    from bci.decoders import Recentering

    X, y = data2
    plain = make_pipeline("ts-lr")
    assert "recenter" not in plain.named_steps
    for name in ("ts-lr", "ts-svm", "mdm", "fgmdm"):
        est = make_pipeline(name, recentering=True)
        assert isinstance(est.named_steps["recenter"], Recentering)
        assert list(est.named_steps)[:2] == ["cov", "recenter"]
    est = make_pipeline("ts-lr", recentering=True).fit(X, y)
    assert est.named_steps["recenter"].reference_.shape == (N_CH, N_CH)
    fb = make_pipeline("fbts-lr", sfreq=SFREQ, recentering=True).fit(X, y)
    assert all(r is not None for r in fb.named_steps["fbts"].recenterings_)


def test_filter_bank_features(data2: tuple[np.ndarray, np.ndarray]) -> None:
    from bci.decoders import FBCSP_BANDS

    X, y = data2
    est = make_pipeline("fbts-lr", sfreq=SFREQ).fit(X, y)
    feats = est.named_steps["fbts"].transform(X)
    assert len(FBCSP_BANDS) == 9 and FBCSP_BANDS[0] == (4.0, 8.0) and FBCSP_BANDS[-1] == (36, 40)
    assert feats.shape == (len(X), 9 * N_CH * (N_CH + 1) // 2)
    small = make_pipeline("fbts-lr", sfreq=SFREQ, bands=((8.0, 12.0), (12.0, 30.0))).fit(X, y)
    assert small.named_steps["fbts"].transform(X).shape == (len(X), 2 * N_CH * (N_CH + 1) // 2)
