"""Fisher geodesic filtering (FGDA, FgMDM) with the LDA solved by Cholesky, not least squares.

pyRiemann's :class:`~pyriemann.tangentspace.FGDA` fits scikit-learn's
``LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")`` on tangent vectors, and that
solver hands the shrunk within-class covariance to ``scipy.linalg.lstsq`` (an SVD). On 64
channels the tangent space has 2,080 dimensions: one ``lstsq`` of 2,080 x 2,080 was 13.6 s of
an 18.1 s FgMDM fit on S001 here (cProfile), and fgmdm was the cost driver of every
multi-pipeline evaluation. A Ledoit-Wolf shrunk covariance is symmetric positive definite
(the shrinkage target is a positive multiple of the identity), so the same linear system is
solved by a Cholesky factorisation in a fraction of the time.

:class:`CholeskyFGDA` and :class:`CholeskyFgMDM` compute exactly what pyRiemann's classes
compute (same covariance, built from scikit-learn's public ``StandardScaler`` and
``ledoit_wolf`` the way ``LinearDiscriminantAnalysis`` builds it; same binary reduction of the
coefficients; same projection), only the solve differs; ``tests/decoders/test_fgda.py``
compares them with pyRiemann's on real EEG. The fitted attributes are pyRiemann's (``_ts``,
``_W``, ``_fgda``, ``_mdm``), so the fast path and the model store treat them like the
originals. When the covariance is not positive definite (not expected), the fit falls back
to the same ``lstsq`` scikit-learn uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyriemann.classification import MDM, FgMDM
from pyriemann.tangentspace import FGDA
from scipy import linalg
from sklearn.covariance import ledoit_wolf
from sklearn.preprocessing import StandardScaler

__all__ = ["CholeskyFGDA", "CholeskyFgMDM", "shrunk_lda_coef"]


def _shrunk_cov(X: np.ndarray) -> np.ndarray:
    """scikit-learn's ``_cov(X, "auto")``: Ledoit-Wolf on standardised features, rescaled."""
    scaler = StandardScaler()
    Z = scaler.fit_transform(X)
    s: np.ndarray = ledoit_wolf(Z)[0]
    scale = np.asarray(scaler.scale_)
    out: np.ndarray = scale[:, None] * s * scale[None, :]
    return out


def shrunk_lda_coef(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Coefficients of ``LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")``.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    y : ndarray, shape (n_samples,)

    Returns
    -------
    coef : ndarray, shape (1, n_features) for two classes, else (n_classes, n_features)
        As scikit-learn's ``coef_`` (priors from the class counts).
    """
    X = np.asarray(X, dtype=np.float64)
    classes, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse)
    priors = counts / float(len(inverse))
    means = np.zeros((len(classes), X.shape[1]))
    np.add.at(means, inverse, X)
    means /= counts[:, None]
    cov = np.zeros((X.shape[1], X.shape[1]))
    for k in range(len(classes)):
        cov += priors[k] * np.atleast_2d(_shrunk_cov(X[inverse == k]))
    try:
        coef = linalg.cho_solve(linalg.cho_factor(cov, lower=True), means.T).T
    except linalg.LinAlgError:
        coef = linalg.lstsq(cov, means.T)[0].T
    if len(classes) == 2:
        coef = (coef[1] - coef[0])[None, :]
    out: np.ndarray = coef
    return out


class CholeskyFGDA(FGDA):  # type: ignore[misc]
    """pyRiemann's FGDA, its shrunk LDA solved by Cholesky (same parameters, same result)."""

    def _fit_lda(self, X: np.ndarray, y: np.ndarray, sample_weight: Any = None) -> np.ndarray:
        self.classes_ = np.unique(y)
        ts: np.ndarray = self._ts.fit_transform(X, sample_weight=sample_weight)
        W = shrunk_lda_coef(ts, y)
        self._W = W.T @ np.linalg.pinv(W @ W.T) @ W
        return ts


class CholeskyFgMDM(FgMDM):  # type: ignore[misc]
    """pyRiemann's FgMDM with :class:`CholeskyFGDA` as its filter (same parameters, result)."""

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: Any = None) -> CholeskyFgMDM:
        self._mdm = MDM(metric=self.metric, n_jobs=self.n_jobs)
        self._fgda = CholeskyFGDA(metric=self.metric, tsupdate=self.tsupdate)
        cov = self._fgda.fit_transform(X, y, sample_weight=sample_weight)
        self._mdm.fit(cov, y, sample_weight=sample_weight)
        self.classes_ = self._mdm.classes_
        return self
