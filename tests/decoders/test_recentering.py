"""Riemannian re-centring: the session mean goes to the identity; sessions line up."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from bci.decoders import Recentering, make_pipeline
from bci.errors import SignalError


def _spd(rng: np.random.Generator, n: int, n_ch: int = 5) -> np.ndarray:
    A = rng.standard_normal((n, n_ch, 3 * n_ch))
    return A @ A.transpose(0, 2, 1) / (3 * n_ch) + 0.1 * np.eye(n_ch)


def test_mean_of_recentred_covariances_is_identity(rng: np.random.Generator) -> None:
    from pyriemann.geometry.mean import gmean

    C = _spd(rng, 30)
    rec = Recentering().fit(C)
    out = rec.transform(C)
    np.testing.assert_allclose(gmean(out, metric="riemann"), np.eye(5), atol=1e-6)
    np.testing.assert_allclose(rec.transform(rec.reference_[None])[0], np.eye(5), atol=1e-10)
    np.testing.assert_allclose(out, np.swapaxes(out, 1, 2), atol=1e-12)


def test_formula(rng: np.random.Generator) -> None:
    C = _spd(rng, 10)
    rec = Recentering(metric="euclid").fit(C)
    np.testing.assert_allclose(rec.reference_, C.mean(axis=0), atol=1e-12)
    w, V = np.linalg.eigh(rec.reference_)
    isqrt = V @ np.diag(w**-0.5) @ V.T
    np.testing.assert_allclose(rec.transform(C), isqrt @ C @ isqrt, atol=1e-10)


def test_partial_fit_moves_along_the_geodesic(rng: np.random.Generator) -> None:
    C = _spd(rng, 2)
    rec = Recentering().partial_fit(C[:1])  # first call = fit
    np.testing.assert_allclose(rec.reference_, C[0], atol=1e-10)
    rec.partial_fit(C[1:], alpha=1.0)
    np.testing.assert_allclose(rec.reference_, C[1], atol=1e-8)
    with pytest.raises(SignalError, match=r"alpha must be in \(0, 1\], got 0"):
        rec.partial_fit(C, alpha=0)


def test_estimator_contract(rng: np.random.Generator) -> None:
    C = _spd(rng, 10)
    with pytest.raises(NotFittedError):
        Recentering().transform(C)
    rec = Recentering().fit(C)
    assert clone(rec).get_params() == {"metric": "riemann"}
    back = pickle.loads(pickle.dumps(rec))
    np.testing.assert_array_equal(back.transform(C), rec.transform(C))
    with pytest.raises(SignalError, match="X has 4 channels, the reference was fitted on 5"):
        rec.transform(C[:, :4, :4])
    with pytest.raises(SignalError, match=r"must be covariances .* got shape \(10, 5\)"):
        rec.fit(C[:, 0])
    with pytest.raises(SignalError, match="metric must be 'riemann', 'logeuclid' or 'euclid'"):
        Recentering(metric="wasserstein").fit(C)


def test_recentring_transfers_across_sessions() -> None:
    """Train on session 1, test on session 2 whose electrodes have other gains and mixing.

    Without re-centring the tangent space is anchored at session 1's mean and the classifier
    misreads session 2; re-estimating the reference on session 2 (no labels) fixes it.
    """
    n_ch, n_t = 6, 200

    def session(mixing: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        r = np.random.default_rng(seed)
        X, y = [], []
        for i in range(60):
            lab = "left" if i % 2 else "right"
            s = r.standard_normal((n_ch, n_t))
            s[0 if lab == "left" else 1] *= 0.7  # class-specific power drop
            X.append(mixing @ s)
            y.append(lab)
        return np.asarray(X), np.asarray(y)

    rng = np.random.default_rng(3)
    X1, y1 = session(np.eye(n_ch), 1)
    # other electrode gains (impedance) and some extra volume conduction
    gains = np.diag([3.0, 0.3, 1.0, 1.5, 0.7, 1.0])
    X2, y2 = session(gains @ (np.eye(n_ch) + 0.1 * rng.standard_normal((n_ch, n_ch))), 2)

    plain = make_pipeline("ts-lr").fit(X1, y1)
    acc_plain = np.mean(plain.predict(X2) == y2)

    rec = make_pipeline("ts-lr", recentering=True).fit(X1, y1)
    cov2 = rec.named_steps["cov"].transform(X2)
    rec.named_steps["recenter"].fit(cov2)  # unsupervised: the new session's own mean
    acc_rec = np.mean(rec.predict(X2) == y2)
    assert acc_rec >= 0.9
    assert acc_rec > acc_plain + 0.2
