"""Input checks for decoders: epochs and labels at the boundary, with messages that say what came.

The named pipelines are plain scikit-learn ``Pipeline`` objects (so the fast path and the model
store see the exact pyRiemann/scikit-learn classes); their callers validate once here instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bci.errors import DecoderError, SignalError

__all__ = ["check_trials_per_fold", "validate_epochs", "validate_labels"]


def validate_epochs(
    X: Any,
    y: Any = None,
    *,
    min_classes: int = 2,
    n_channels: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Check epochs (and labels) before fitting or applying a decoder.

    Parameters
    ----------
    X : array-like, shape (n_epochs, n_channels, n_times)
        Band-passed epochs, finite values.
    y : array-like, shape (n_epochs,), optional
        Class labels (strings). When given, at least ``min_classes`` distinct labels are needed.
    min_classes : int
        Fewest distinct labels accepted in ``y`` (2 for fitting a classifier).
    n_channels : int, optional
        Expected channel count (the fitted model's), checked when given.

    Returns
    -------
    X : ndarray, shape (n_epochs, n_channels, n_times), float64
    y : ndarray of str, shape (n_epochs,), or None

    Raises
    ------
    SignalError
        ``X`` is not 3-D, is empty, has fewer than 2 samples per epoch, or holds NaN/inf.
    DecoderError
        ``y`` does not match ``X``, has a single class, or the channel count is not the
        expected one.
    """
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SignalError(
            f"X must be a numeric array of epochs, got {type(X).__name__}: {exc}"
        ) from None
    if arr.ndim != 3:
        hint = " For one window use X[np.newaxis]." if arr.ndim == 2 else ""
        raise SignalError(
            "X must be 3-D epochs (n_epochs, n_channels, n_times), "
            f"got {arr.ndim}-D with shape {arr.shape}.{hint}"
        )
    n_ep, n_ch, n_t = arr.shape
    if n_ep == 0 or n_ch == 0:
        raise SignalError(f"X has no epochs or no channels: shape {arr.shape}")
    if n_t < 2:
        raise SignalError(f"X epochs need at least 2 samples each, got n_times={n_t}")
    if not np.isfinite(arr).all():
        bad = ~np.isfinite(arr)
        epochs = np.flatnonzero(bad.any(axis=(1, 2)))
        raise SignalError(
            f"X holds {int(bad.sum())} non-finite values (NaN or inf) in {epochs.size} "
            f"epoch(s), first at index {int(epochs[0])}; drop or repair those epochs"
        )
    if n_channels is not None and n_ch != n_channels:
        raise DecoderError(f"X has {n_ch} channels, the decoder expects {n_channels}")
    if y is None:
        return arr, None
    labels = validate_labels(y, n_epochs=n_ep, min_classes=min_classes)
    return arr, labels


def validate_labels(y: Any, *, n_epochs: int | None = None, min_classes: int = 2) -> np.ndarray:
    """Check class labels: 1-D, one per epoch, at least ``min_classes`` classes.

    Returns
    -------
    y : ndarray of str, shape (n_epochs,)
    """
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise DecoderError(f"y must be 1-D (n_epochs,), got shape {labels.shape}")
    if n_epochs is not None and labels.shape[0] != n_epochs:
        raise DecoderError(f"y has {labels.shape[0]} labels for {n_epochs} epochs in X")
    labels = labels.astype(str)
    classes, counts = np.unique(labels, return_counts=True)
    if classes.size < min_classes:
        pairs = zip(classes.tolist(), counts.tolist(), strict=True)
        found = ", ".join(f"{c!r} x{n}" for c, n in pairs) or "none"
        raise DecoderError(
            f"y must hold at least {min_classes} classes to train a classifier, got "
            f"{classes.size} ({found}); record trials of every class"
        )
    return labels


def check_trials_per_fold(y: Any, n_folds: int) -> None:
    """Check that stratified ``n_folds``-fold cross-validation is possible on ``y``.

    Every class needs at least ``n_folds`` trials (one per test fold).

    Raises
    ------
    DecoderError
        ``n_folds`` < 2, or a class has fewer trials than folds (the classes are named).
    """
    if int(n_folds) < 2:
        raise DecoderError(f"cross-validation needs at least 2 folds, got {n_folds}")
    labels = validate_labels(y)
    classes, counts = np.unique(labels, return_counts=True)
    short = [(str(c), int(n)) for c, n in zip(classes, counts, strict=True) if n < n_folds]
    if short:
        listed = ", ".join(f"{c!r} has {n}" for c, n in short)
        raise DecoderError(
            f"Too few trials per class for {n_folds}-fold cross-validation: {listed}; "
            f"need at least {n_folds} per class (use fewer folds or record more trials)"
        )
