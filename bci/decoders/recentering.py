"""Riemannian re-centring: move a session's covariances so their mean is the identity.

Covariances of one session cluster around a session-specific point of the SPD manifold (the
headset sat differently, impedances changed). Whitening every covariance by the session's
Riemannian mean ``R`` (``C -> R^-1/2 C R^-1/2``) puts every session's cloud at the identity,
so a classifier trained on one session transfers to another (Zanini et al. 2018, "Transfer
learning: a Riemannian geometry framework with applications to brain-computer interfaces",
IEEE TBME 65(5)). The reference is estimated without labels, so it can be re-estimated on a
new session's first trials (:meth:`Recentering.fit` on them) or tracked online
(:meth:`Recentering.partial_fit`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from bci.errors import SignalError

__all__ = ["Recentering"]


def _eig_fun(C: np.ndarray, fun: Any) -> np.ndarray:
    w, V = np.linalg.eigh(C)
    return np.asarray((V * fun(w)[..., None, :]) @ np.swapaxes(V, -1, -2))


def _check_covariances(X: Any, name: str = "X") -> np.ndarray:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2]:
        raise SignalError(
            f"{name} must be covariances (n_epochs, n_channels, n_channels), got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise SignalError(f"{name} holds NaN or inf values")
    return arr


class Recentering(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Whiten covariances by a reference: ``C -> R^-1/2 C R^-1/2``.

    Parameters
    ----------
    metric : {"riemann", "logeuclid", "euclid"}
        Mean used as the reference ``R`` in :meth:`fit` (affine-invariant Riemannian mean by
        default, as in Zanini et al. 2018).

    Attributes
    ----------
    reference_ : ndarray, shape (n_channels, n_channels)
        The reference covariance ``R`` (the session mean).
    n_channels_ : int
        Channel count seen in :meth:`fit`.

    Notes
    -----
    ``fit`` ignores ``y``: the reference is the mean of all covariances, whatever their class.
    """

    def __init__(self, metric: str = "riemann") -> None:
        self.metric = metric

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> Recentering:
        """Set the reference to the mean of ``X``.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_channels)
            SPD covariances of one session.
        y : ignored
        sample_weight : ndarray, shape (n_epochs,), optional
        """
        try:
            from pyriemann.geometry.mean import gmean
        except ImportError:  # pyRiemann < 0.12
            from pyriemann.utils.mean import mean_covariance as gmean

        C = _check_covariances(X)
        if self.metric not in ("riemann", "logeuclid", "euclid"):
            raise SignalError(
                f"Recentering metric must be 'riemann', 'logeuclid' or 'euclid', "
                f"got {self.metric!r}"
            )
        self.reference_ = np.asarray(gmean(C, metric=self.metric, sample_weight=sample_weight))
        self.n_channels_ = int(C.shape[1])
        return self

    def partial_fit(self, X: Any, y: Any = None, alpha: float = 0.05) -> Recentering:
        """Move the reference towards new covariances along the geodesic (online tracking).

        Each covariance ``C`` in ``X`` updates ``R <- R^1/2 (R^-1/2 C R^-1/2)^alpha R^1/2``
        in turn; a fresh estimator is initialised with the mean of ``X``.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_channels)
        alpha : float in (0, 1]
            Step along the geodesic (weight of each new covariance).
        """
        if not 0.0 < alpha <= 1.0:
            raise SignalError(f"alpha must be in (0, 1], got {alpha}")
        C = _check_covariances(X)
        if not hasattr(self, "reference_"):
            return self.fit(C)
        if C.shape[1] != self.n_channels_:
            raise SignalError(
                f"X has {C.shape[1]} channels, the reference was fitted on {self.n_channels_}"
            )
        R = self.reference_
        for c in C:
            R_sqrt = _eig_fun(R, np.sqrt)
            R_isqrt = _eig_fun(R, lambda w: 1.0 / np.sqrt(w))
            R = R_sqrt @ _eig_fun(R_isqrt @ c @ R_isqrt, lambda w: w**alpha) @ R_sqrt
            R = (R + R.T) / 2.0
        self.reference_ = R
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Re-centre covariances.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_channels)

        Returns
        -------
        X_new : ndarray, shape (n_epochs, n_channels, n_channels)
            ``R^-1/2 C R^-1/2`` for each ``C``.
        """
        check_is_fitted(self, "reference_")
        C = _check_covariances(X)
        if C.shape[1] != self.n_channels_:
            raise SignalError(
                f"X has {C.shape[1]} channels, the reference was fitted on {self.n_channels_}"
            )
        isqrt = _eig_fun(self.reference_, lambda w: 1.0 / np.sqrt(w))
        out = isqrt @ C @ isqrt
        return np.asarray((out + np.swapaxes(out, -1, -2)) / 2.0)
