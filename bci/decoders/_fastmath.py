"""Numeric kernels of the fast decode path: batched covariances and SPD matrix functions.

Every function works on a batch (leading axis ``n_windows``) in float64 and reproduces the
formula that pyRiemann / scikit-learn use, without their input validation and per-matrix
Python loops. Callers (:mod:`bci.decoders.fast`) validate once at the boundary.

The formulas follow, for the versions this package pins:

- ``scm``: ``pyriemann.geometry.covariance.covariance_scm`` (centred, divided by ``n_times``);
- ``cov``: ``numpy.cov`` (centred, divided by ``n_times - 1``);
- ``oas``: ``sklearn.covariance.OAS.fit`` as ``sklearn.covariance.oas`` calls it (centre, then
  the empirical covariance with ``assume_centered=True``, then the OAS shrinkage);
- ``lwf``: ``sklearn.covariance.LedoitWolf.fit`` / ``ledoit_wolf_shrinkage`` (same centring).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bci.errors import SignalError

__all__ = [
    "eigh_function",
    "invsqrtm",
    "logm_batch",
    "lwf",
    "numpy_cov",
    "oas",
    "ovr_decision_function",
    "scm",
    "softmax",
    "sqrtm",
    "upper_indices",
]

_NOT_FINITE = "window contains NaN or infinite values; check the input window"


def _centre(X: np.ndarray, assume_centered: bool) -> np.ndarray:
    if assume_centered:
        if not np.isfinite(X).all():
            raise SignalError(_NOT_FINITE)
        return X
    # sum / n is what ``ndarray.mean`` computes, without its Python-level overhead
    mean = np.add.reduce(X, axis=-1, keepdims=True)
    mean /= X.shape[-1]
    if not np.isfinite(mean).all():  # a NaN or inf anywhere in a channel shows in its mean
        raise SignalError(_NOT_FINITE)
    return X - mean


def _empirical(Xc: np.ndarray) -> np.ndarray:
    """``Xc Xc^T / n_times`` for a batch, shape (n_windows, n_channels, n_channels)."""
    C: np.ndarray = Xc @ Xc.transpose(0, 2, 1)
    C /= Xc.shape[-1]
    return C


def _shrink(C: np.ndarray, shrinkage: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``(1 - s) C + s mu I`` per matrix, as sklearn's ``shrunk_cov.flat[::n+1] += s mu``."""
    idx = np.arange(C.shape[-1])
    out: np.ndarray = (1.0 - shrinkage)[:, None, None] * C
    out[:, idx, idx] += (shrinkage * mu)[:, None]
    return out


def _oas(Xc: np.ndarray) -> np.ndarray:
    n_windows, n_channels, n_times = Xc.shape
    C = _empirical(Xc)
    if n_channels == 1:
        return C
    if n_windows == 1:  # scalar arithmetic: a third of the time for one small window
        c = C[0]
        alpha = float(np.vdot(c, c)) / (n_channels * n_channels)
        mu = float(np.trace(c)) / n_channels
        num = alpha + mu * mu
        den = (n_times + 1) * (alpha - mu * mu / n_channels)
        s = 1.0 if den == 0 else min(num / den, 1.0)
        c *= 1.0 - s
        c.flat[:: n_channels + 1] += s * mu
        return C
    alpha = np.einsum("mij,mij->m", C, C) / (n_channels * n_channels)
    mu = np.einsum("mii->m", C) / n_channels
    mu_squared = mu**2
    num = alpha + mu_squared
    den = (n_times + 1) * (alpha - mu_squared / n_channels)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrinkage = np.where(den == 0, 1.0, np.minimum(num / den, 1.0))
    return _shrink(C, shrinkage, mu)


def _lwf(Xc: np.ndarray) -> np.ndarray:
    _, n_channels, n_times = Xc.shape
    C = _empirical(Xc)
    if n_channels == 1:
        return C
    X2 = Xc * Xc
    emp_cov_trace = X2.sum(axis=2) / n_times  # (m, n_channels)
    trace_sum = emp_cov_trace.sum(axis=1)
    mu = trace_sum / n_channels
    # sum(X2.T @ X2) == sum over time of (sum over channels of X2) ** 2
    beta_ = (X2.sum(axis=1) ** 2).sum(axis=1)
    delta_ = (C * C).sum(axis=(1, 2))  # sum((X.T @ X) ** 2) / n_times ** 2
    beta = 1.0 / (n_channels * n_times) * (beta_ / n_times - delta_)
    delta = (delta_ - 2.0 * mu * trace_sum + n_channels * mu**2) / n_channels
    beta = np.minimum(beta, delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrinkage = np.where(beta == 0, 0.0, beta / delta)
    # LedoitWolf.fit: mu of the shrunk estimate is trace(emp_cov) / n_features
    mu_cov = np.einsum("mii->m", C) / n_channels
    return _shrink(C, shrinkage, mu_cov)


def scm(X: np.ndarray, assume_centered: bool = False) -> np.ndarray:
    """Sample covariances of a batch (pyRiemann ``scm``), shape (n_windows, n_ch, n_ch)."""
    return _empirical(_centre(X, assume_centered))


def numpy_cov(X: np.ndarray, assume_centered: bool = False) -> np.ndarray:
    """``numpy.cov`` of each window of a batch (always centred; ``assume_centered`` unused)."""
    Xc = _centre(X, False)
    C: np.ndarray = (Xc @ Xc.transpose(0, 2, 1)) / (X.shape[-1] - 1)
    return C


def oas(X: np.ndarray, assume_centered: bool = False) -> np.ndarray:
    """OAS-shrunk covariances of a batch (sklearn's ``OAS``), shape (n_windows, n_ch, n_ch)."""
    return _oas(_centre(X, assume_centered))


def lwf(X: np.ndarray, assume_centered: bool = False) -> np.ndarray:
    """Ledoit-Wolf covariances of a batch (sklearn's ``LedoitWolf``)."""
    return _lwf(_centre(X, assume_centered))


def eigh_function(C: np.ndarray, func: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``V f(L) V^T`` for symmetric matrices ``C = V L V^T`` (pyRiemann's matrix operator).

    Parameters
    ----------
    C : ndarray, shape (..., n, n)
    func : callable on eigenvalues, e.g. ``np.log``

    Returns
    -------
    out : ndarray, shape (..., n, n)
    """
    eigvals, eigvecs = np.linalg.eigh(C)
    out: np.ndarray = (eigvecs * func(eigvals)[..., None, :]) @ np.swapaxes(eigvecs, -1, -2)
    return out


def invsqrtm(C: np.ndarray) -> np.ndarray:
    """Inverse square root of SPD matrices, shape (..., n, n)."""
    return eigh_function(C, lambda w: 1.0 / np.sqrt(w))


def sqrtm(C: np.ndarray) -> np.ndarray:
    """Square root of SPD matrices, shape (..., n, n)."""
    return eigh_function(C, np.sqrt)


def logm_batch(M: np.ndarray) -> tuple[np.ndarray, float]:
    """Matrix logarithm of SPD matrices and their smallest eigenvalue.

    Parameters
    ----------
    M : ndarray, shape (n_windows, n, n)

    Returns
    -------
    L : ndarray, shape (n_windows, n, n)
        ``logm(M)``; only meaningful when ``min_eigval > 0`` (callers check).
    min_eigval : float
        Smallest eigenvalue over the batch.
    """
    eigvals, eigvecs = np.linalg.eigh(M)
    # eigenvalues come in ascending order
    min_eigval = float(eigvals[0, 0] if len(M) == 1 else eigvals[:, 0].min())
    if not min_eigval > 0.0:  # also NaN
        return M, min_eigval
    L = (eigvecs * np.log(eigvals)[:, None, :]) @ eigvecs.transpose(0, 2, 1)
    return L, min_eigval


def upper_indices(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column indices of the upper triangle and pyRiemann's ``upper`` weights.

    Returns
    -------
    rows, cols : ndarray of int, shape (n * (n + 1) / 2,)
        ``numpy.triu_indices(n)``.
    weights : ndarray, shape (n * (n + 1) / 2,)
        1 on the diagonal, ``sqrt(2)`` off it.
    """
    rows, cols = np.triu_indices(n)
    weights = np.where(rows == cols, 1.0, np.sqrt(2.0))
    return rows, cols, weights


def softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax as ``sklearn.utils.extmath.softmax``, shape (n_windows, n_classes)."""
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    E /= E.sum(axis=1, keepdims=True)
    out: np.ndarray = E
    return out


def ovr_decision_function(dec: np.ndarray, n_classes: int) -> np.ndarray:
    """One-vs-rest scores from one-vs-one decisions, as scikit-learn's SVC computes them.

    ``sklearn.utils.multiclass._ovr_decision_function(dec < 0, -dec, n_classes)``: one vote
    per pair to its winner, plus the summed confidences squashed into (-1/3, 1/3).

    Parameters
    ----------
    dec : ndarray, shape (n_windows, n_classes * (n_classes - 1) / 2)
        Pairwise decisions in libsvm's order (0 vs 1, 0 vs 2, ..., 1 vs 2, ...).

    Returns
    -------
    scores : ndarray, shape (n_windows, n_classes)
    """
    predictions = dec < 0
    confidences = -dec
    votes = np.zeros((dec.shape[0], n_classes))
    sum_of_confidences = np.zeros((dec.shape[0], n_classes))
    k = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            sum_of_confidences[:, i] -= confidences[:, k]
            sum_of_confidences[:, j] += confidences[:, k]
            votes[~predictions[:, k], i] += 1
            votes[predictions[:, k], j] += 1
            k += 1
    transformed = sum_of_confidences / (3 * (np.abs(sum_of_confidences) + 1))
    out: np.ndarray = votes + transformed
    return out
