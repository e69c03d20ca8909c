"""Compilers of the Riemannian steps (covariances, re-centring, tangent space, FGDA, MDM,
FgMDM, filter bank) for :mod:`bci.decoders.fast`: fitted step -> batched numpy stages."""

from __future__ import annotations

from typing import Any

import numpy as np

from bci.decoders._fastmath import (
    eigh_function,
    invsqrtm,
    logm_batch,
    softmax,
    sqrtm,
    upper_indices,
)
from bci.decoders._stages import (
    _COVS,
    _FEATURES,
    _PROBA,
    _WINDOWS,
    _not_spd,
    _Stage,
)
from bci.decoders.covariance import fast_covariance_estimator, fast_covariance_names
from bci.errors import (
    DecoderError,
    SignalError,
    UnknownNameError,
)

# --------------------------------------------------------------------------------------------
# step compilers: (name, fitted step) -> list of stages


def _compile_covariances(name: str, step: Any) -> list[_Stage]:
    estimator = step.estimator
    kwds = dict(getattr(step, "kwds", {}) or {})
    try:
        entry = fast_covariance_estimator(estimator)
    except UnknownNameError:
        raise DecoderError(
            f"Step {name!r} (Covariances) uses estimator {estimator!r}; the fast path supports "
            f"{', '.join(fast_covariance_names())}"
        ) from None
    extra = set(kwds) - entry.fast_kwds
    if extra:
        raise DecoderError(
            f"Step {name!r} (Covariances, estimator {estimator!r}) has keyword(s) "
            f"{sorted(extra)} the fast path does not reproduce"
        )
    assume_centered = bool(kwds.get("assume_centered", False))
    kernel = entry.kernel

    def apply(X: np.ndarray) -> np.ndarray:
        # raises SignalError on NaN/inf input; later eigenvalue checks catch overflow
        return kernel(X, assume_centered)

    return [_Stage(name, _WINDOWS, _COVS, apply)]


def _compile_recentering(name: str, step: Any) -> list[_Stage]:
    reference = np.asarray(step.reference_, dtype=np.float64)
    if reference.ndim != 2 or reference.shape[0] != reference.shape[1]:
        raise DecoderError(
            f"Step {name!r} (Recentering) has a reference_ of shape "
            f"{reference.shape}, expected (n_channels, n_channels)"
        )
    isqrt = invsqrtm(reference)

    def apply(C: np.ndarray) -> np.ndarray:
        out = isqrt @ C @ isqrt
        sym: np.ndarray = (out + out.transpose(0, 2, 1)) / 2.0  # as Recentering.transform
        return sym

    return [
        _Stage(name, _COVS, _COVS, apply, n_channels=reference.shape[0], mixing=sqrtm(reference))
    ]


def _metric_part(step: Any, key: str, name: str, label: str) -> str:
    metric = getattr(step, "metric", "riemann")
    if isinstance(metric, dict):
        if key not in metric:
            raise DecoderError(f"Step {name!r} ({label}) metric {metric!r} has no {key!r} entry")
        metric = metric[key]
    return metric if isinstance(metric, str) else repr(metric)


def _log_whitened(C: np.ndarray, isqrt_ref: np.ndarray) -> np.ndarray:
    """``logm(R^-1/2 C R^-1/2)`` (pyRiemann's ``log_map_riemann``), shape (m, n, n)."""
    L, min_eigval = logm_batch(isqrt_ref @ C @ isqrt_ref)
    if not min_eigval > 0.0:  # also NaN
        raise _not_spd("covariance of the window", min_eigval)
    return L


def _tangent_vectors(
    C: np.ndarray, isqrt_ref: np.ndarray, upper: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray:
    """pyRiemann's ``tangent_space``: ``upper(log_map_riemann(C, R))``, shape (m, d)."""
    rows, cols, weights = upper
    T: np.ndarray = _log_whitened(C, isqrt_ref)[:, rows, cols] * weights
    return T


def _compile_tangent_space(name: str, step: Any) -> list[_Stage]:
    if getattr(step, "tsupdate", False):
        raise DecoderError(
            f"Step {name!r} (TangentSpace) has tsupdate=True, which re-estimates the reference "
            "from each batch; the fast path needs tsupdate=False"
        )
    metric = _metric_part(step, "map", name, "TangentSpace")
    if metric != "riemann":
        raise DecoderError(
            f"Step {name!r} (TangentSpace) maps with metric {metric!r}; the fast path "
            "supports 'riemann'"
        )
    reference = np.asarray(step.reference_, dtype=np.float64)
    n = reference.shape[0]
    isqrt = invsqrtm(reference)
    upper = upper_indices(n)

    def apply(C: np.ndarray) -> np.ndarray:
        return _tangent_vectors(C, isqrt, upper)

    return [
        _Stage(
            name,
            _COVS,
            _FEATURES,
            apply,
            n_channels=n,
            n_features_out=n * (n + 1) // 2,
            mixing=sqrtm(reference),
            parts={"isqrt": isqrt, "upper": upper},
        )
    ]


def _compile_fgda(name: str, step: Any) -> list[_Stage]:
    ts = step._ts  # FGDA's fitted TangentSpace
    _compile_tangent_space(name, ts)  # same checks (riemann map, no tsupdate)
    reference = np.asarray(ts.reference_, dtype=np.float64)
    n = reference.shape[0]
    isqrt = invsqrtm(reference)
    sqrt_ref = sqrtm(reference)
    W = np.asarray(step._W, dtype=np.float64)
    upper = upper_indices(n)
    rows, cols, weights = upper

    def apply(C: np.ndarray) -> np.ndarray:
        T = _tangent_vectors(C, isqrt, upper) @ W
        S = np.empty((T.shape[0], n, n))
        S[:, rows, cols] = T / weights  # pyRiemann's unupper
        S[:, cols, rows] = S[:, rows, cols]
        out: np.ndarray = sqrt_ref @ eigh_function(S, np.exp) @ sqrt_ref
        return out

    return [_Stage(name, _COVS, _COVS, apply, n_channels=n, mixing=sqrt_ref)]


def _compile_mdm(name: str, step: Any) -> list[_Stage]:
    metric = getattr(step, "_metric_dist", None) or _metric_part(step, "distance", name, "MDM")
    if metric != "riemann":
        raise DecoderError(
            f"Step {name!r} (MDM) measures distances with metric {metric!r}; the fast path "
            "supports 'riemann'"
        )
    means = np.asarray(step.covmeans_, dtype=np.float64)
    n = means.shape[-1]
    try:
        inv_chol = np.linalg.inv(np.linalg.cholesky(means))  # (n_classes, n, n)
    except np.linalg.LinAlgError as exc:
        raise DecoderError(f"Step {name!r} (MDM) has a class mean that is not SPD: {exc}") from exc
    inv_chol_t = np.ascontiguousarray(inv_chol.transpose(0, 2, 1))[None]
    inv_chol = inv_chol[None]

    def apply(C: np.ndarray) -> np.ndarray:
        # eigenvalues of the pencil (C, M_k): those of L_k^-1 C L_k^-T (pyRiemann's _eigvalsh)
        Z = inv_chol @ C[:, None] @ inv_chol_t
        eigvals = np.linalg.eigvalsh(Z)
        min_eigval = float(eigvals[..., 0].min())
        if not min_eigval > 0.0:  # also NaN
            raise _not_spd("covariance of the window", min_eigval)
        dist2 = (np.log(eigvals) ** 2).sum(axis=-1)
        return softmax(-dist2)

    return [
        _Stage(
            name,
            _COVS,
            _PROBA,
            apply,
            n_channels=n,
            classes=np.asarray(step.classes_),
            mixing=sqrtm(means.mean(axis=0)),
        )
    ]


def _compile_fgmdm(name: str, step: Any) -> list[_Stage]:
    return _compile_fgda(f"{name}.fgda", step._fgda) + _compile_mdm(f"{name}.mdm", step._mdm)


def _compile_filterbank(name: str, step: Any) -> list[_Stage]:
    from scipy.signal import sosfiltfilt

    bands = []
    references = []
    for k, (sos, cov, rec, ts) in enumerate(
        zip(step.sos_, step.covariances_, step.recenterings_, step.tangent_spaces_, strict=True)
    ):
        cov_apply = _compile_covariances(f"{name}.covariances_[{k}]", cov)[0].apply
        rec_apply = None if rec is None else _compile_recentering(f"{name}.rec[{k}]", rec)[0].apply
        ts_apply = _compile_tangent_space(f"{name}.tangent_spaces_[{k}]", ts)[0].apply
        bands.append((np.asarray(sos, dtype=np.float64), cov_apply, rec_apply, ts_apply))
        references.append(np.asarray((rec if rec is not None else ts).reference_, float))
    n = int(step.n_channels_)
    # FilterBankTangentSpace._sub_band: scipy's default sosfiltfilt padding must fit
    padlen = max(
        3 * (2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum())))
        for sos, *_ in bands
    )

    def apply(X: np.ndarray) -> np.ndarray:
        if X.shape[-1] <= padlen:
            raise SignalError(
                f"Windows of {X.shape[-1]} samples are too short for the sub-band filters of "
                f"step {name!r} (need more than {padlen} samples)"
            )
        feats = []
        for sos, cov_apply, rec_apply, ts_apply in bands:
            C = cov_apply(np.asarray(sosfiltfilt(sos, X, axis=-1)))
            if rec_apply is not None:
                C = rec_apply(C)
            feats.append(ts_apply(C))
        return np.hstack(feats)

    # white noise keeps ~2 * bandwidth / sfreq of its power in each sub-band
    width = sum(hi - lo for lo, hi in step.bands)
    scale = 2.0 * width / float(step.sfreq)
    return [
        _Stage(
            name,
            _WINDOWS,
            _FEATURES,
            apply,
            n_channels=n,
            n_features_out=len(bands) * n * (n + 1) // 2,
            mixing=sqrtm(sum(references) / scale),
        )
    ]
