"""What the compiled steps of :mod:`bci.decoders.fast` share: the stage type and input checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bci.errors import (
    ModelMismatchError,
    SignalError,
)

# Kinds of data flowing between compiled stages.
_WINDOWS = "windows (n_windows, n_channels, n_times)"
_COVS = "covariances (n_windows, n_channels, n_channels)"
_FEATURES = "features (n_windows, n_features)"
_PROBA = "probabilities (n_windows, n_classes)"


@dataclass(frozen=True)
class _Stage:
    """One compiled step: a batched function from one kind of array to the next."""

    name: str
    kind_in: str
    kind_out: str
    apply: Callable[[np.ndarray], np.ndarray]
    n_channels: int | None = None
    n_features_in: int | None = None
    n_features_out: int | None = None
    classes: np.ndarray | None = None
    #: A matrix ``A`` such that windows ``A @ z`` (z white noise) look like the training data;
    #: used by :func:`fast_or_slow` to check the compiled path on realistic windows.
    mixing: np.ndarray | None = None
    #: Pieces a fusion pass can recombine ("isqrt" for tangent space, "coef_t"/"intercept"/
    #: "link" for linear heads).
    parts: dict[str, Any] | None = None


# --------------------------------------------------------------------------------------------
# input checks shared by the fast and the sklearn wrappers


def _check_window(window: Any, n_channels: int | None) -> np.ndarray:
    x = np.asarray(window, dtype=np.float64)
    if x.ndim != 2:
        raise SignalError(f"window must be 2-D (n_channels, n_times), got shape {np.shape(window)}")
    _check_dims(x.shape[0], x.shape[1], n_channels, "window")
    return x


def _check_epochs(X: Any, n_channels: int | None) -> np.ndarray:
    x = np.asarray(X, dtype=np.float64)
    if x.ndim != 3:
        raise SignalError(
            "X must be 3-D (n_windows, n_channels, n_times), got shape "
            f"{np.shape(X)}; use predict_proba_one for a single (n_channels, n_times) window"
        )
    if x.shape[0] == 0:
        raise SignalError("X holds no window (shape[0] == 0)")
    _check_dims(x.shape[1], x.shape[2], n_channels, "X")
    return x


def _check_dims(n_ch: int, n_times: int, n_channels: int | None, what: str) -> None:
    if n_channels is not None and n_ch != n_channels:
        raise ModelMismatchError(
            f"{what} has {n_ch} channels, the decoder was fitted on {n_channels} "
            "(the channel axis comes first in a window: (n_channels, n_times))"
        )
    if n_times < 2:
        raise SignalError(f"{what} must have at least 2 samples in time, got {n_times}")


def _not_finite(where: str) -> SignalError:
    return SignalError(f"{where} contains NaN or infinite values; check the input window")


def _not_spd(where: str, min_eigval: float) -> SignalError:
    return SignalError(
        f"{where} is not positive definite (smallest eigenvalue {min_eigval:.3g}): a flat "
        "or duplicated channel, or fewer samples than channels without shrinkage"
    )
