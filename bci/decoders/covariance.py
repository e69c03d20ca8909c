"""The covariance estimators: one registry for the pipelines, the filter bank and the fast path.

Each entry names a pyRiemann ``Covariances`` estimator, the matching ``reg`` of MNE's ``CSP``,
and the batched numpy kernel (:mod:`bci.decoders._fastmath`) that reproduces it in the fast
decode path. ``COVARIANCE_ESTIMATORS`` holds the estimators a pipeline's ``cov_estimator``
offers; :data:`NUMPY_COV` (pyRiemann's ``"cov"``, ``numpy.cov``) is not offered by the
pipelines but is reproduced by the fast path for pipelines built by hand.

>>> COVARIANCE_ESTIMATORS.resolve("lwf").csp_reg
'ledoit_wolf'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bci.decoders import _fastmath
from bci.errors import UnknownNameError
from bci.registry import Registry

__all__ = [
    "COVARIANCE_ESTIMATORS",
    "NUMPY_COV",
    "CovarianceEstimator",
    "batch_covariances",
    "fast_covariance_estimator",
    "fast_covariance_names",
]


@dataclass(frozen=True)
class CovarianceEstimator:
    """One covariance estimator, by its pyRiemann name.

    Parameters
    ----------
    name : str
        pyRiemann ``Covariances(estimator=name)``.
    csp_reg : str or None
        MNE ``CSP(reg=...)`` of the same estimator (None: no regularisation).
    kernel : callable
        ``kernel(X, assume_centered) -> covariances``: the fast path's batched numpy version,
        ``X`` of shape (n_windows, n_channels, n_times), float64.
    fast_kwds : frozenset of str
        ``Covariances`` keywords the kernel reproduces.
    """

    name: str
    csp_reg: str | None
    kernel: Callable[[np.ndarray, bool], np.ndarray]
    fast_kwds: frozenset[str]


COVARIANCE_ESTIMATORS: Registry[CovarianceEstimator] = Registry("covariance estimator")
# Chen et al. 2010, shrinkage from the data
COVARIANCE_ESTIMATORS.register(
    "oas", CovarianceEstimator("oas", "oas", _fastmath.oas, frozenset({"assume_centered"}))
)
# Ledoit & Wolf 2004
COVARIANCE_ESTIMATORS.register(
    "lwf",
    CovarianceEstimator(
        "lwf", "ledoit_wolf", _fastmath.lwf, frozenset({"assume_centered", "block_size"})
    ),
)
# sample covariance, no shrinkage
COVARIANCE_ESTIMATORS.register(
    "scm", CovarianceEstimator("scm", None, _fastmath.scm, frozenset({"assume_centered"}))
)

#: ``numpy.cov`` (divided by ``n_times - 1``): reproduced by the fast path, not a pipeline option.
NUMPY_COV = CovarianceEstimator("cov", None, _fastmath.numpy_cov, frozenset())


def fast_covariance_names() -> list[str]:
    """Estimator names the fast path reproduces: the registry's and ``"cov"``."""
    return [*COVARIANCE_ESTIMATORS.names(), NUMPY_COV.name]


def fast_covariance_estimator(name: object) -> CovarianceEstimator:
    """The estimator named ``name`` for the fast path (the registry's, or ``"cov"``).

    Raises
    ------
    UnknownNameError
        ``name`` is not one of :func:`fast_covariance_names`.
    """
    if name == NUMPY_COV.name:
        return NUMPY_COV
    if isinstance(name, str) and name in COVARIANCE_ESTIMATORS:
        return COVARIANCE_ESTIMATORS.resolve(name)
    raise UnknownNameError(
        f"Unknown covariance estimator {name!r}. Must be one of: "
        f"{', '.join(fast_covariance_names())}"
    )


def batch_covariances(X: np.ndarray, estimator: str, assume_centered: bool = False) -> np.ndarray:
    """Covariance matrices of a batch of windows, as pyRiemann's ``Covariances``.

    Parameters
    ----------
    X : ndarray, shape (n_windows, n_channels, n_times), float64
    estimator : {"scm", "cov", "oas", "lwf"}
    assume_centered : bool
        Skip the removal of each channel's mean (``scm``, ``oas``, ``lwf`` only).

    Returns
    -------
    covariances : ndarray, shape (n_windows, n_channels, n_channels)

    Raises
    ------
    SignalError
        A window holds NaN or infinite values.
    UnknownNameError
        Unknown estimator.
    """
    return fast_covariance_estimator(estimator).kernel(X, assume_centered)
