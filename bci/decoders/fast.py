"""Fast decode path: a fitted scikit-learn/pyRiemann pipeline compiled to plain numpy.

The online engine decodes one window at a time, many times a second, for many sessions. The
pyRiemann/scikit-learn objects spend most of that time validating input and looping in Python;
:func:`compile_pipeline` reads the fitted parameters once and returns a :class:`FastPipeline`
that applies the same mathematics with a few batched numpy calls, giving the same probabilities
(max abs difference well below 1e-9 on float64 input). Every named pipeline of
:mod:`bci.decoders.pipelines` compiles.

Supported steps (exact classes; subclasses fall back to the sklearn path):

- ``pyriemann.estimation.Covariances`` with estimator ``"scm"``, ``"cov"``, ``"oas"``, ``"lwf"``
  (keyword ``assume_centered`` for scm/oas/lwf, ``block_size`` for lwf);
- ``bci.decoders.Recentering`` (``C -> R^-1/2 C R^-1/2``) and
  ``bci.decoders.FilterBankTangentSpace``;
- ``pyriemann.tangentspace.TangentSpace`` (map metric ``"riemann"``, ``tsupdate=False``) and
  ``pyriemann.tangentspace.FGDA``;
- ``mne.decoding.CSP`` (``transform_into="average_power"``);
- ``sklearn.preprocessing.StandardScaler``;
- classifiers ``sklearn.linear_model.LogisticRegression`` (binary, multinomial, one-vs-rest),
  ``sklearn.discriminant_analysis.LinearDiscriminantAnalysis``,
  ``pyriemann.classification.MDM`` and ``FgMDM`` (distance metric ``"riemann"``), and
  ``sklearn.calibration.CalibratedClassifierCV`` (``method="sigmoid"``) around a linear
  ``SVC``, ``LinearSVC``, ``LogisticRegression`` or LDA.

Anything else raises :class:`~bci.errors.DecoderError` naming the step; :func:`fast_or_slow`
turns that into a thin wrapper around the sklearn pipeline with the same interface, so callers
never branch. A bare ``sklearn.svm.SVC`` is refused: its probabilities come from libsvm's
iterative pairwise coupling, and ``probability=True`` is deprecated from scikit-learn 1.9.

A :class:`FastPipeline` is a snapshot of the fitted parameters: after refitting or adapting
the pipeline (``partial_fit``, a new recentring reference), compile it again.
"""

# Long module: one compiler per supported pipeline step (13 step types) around one _Stage type and
# shared checks; to be split into per-step-family modules once the batched-decoding work on this
# file has landed.

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy.special import expit

from bci.decoders._fastmath import (
    eigh_function,
    invsqrtm,
    logm_batch,
    ovr_decision_function,
    softmax,
    sqrtm,
    upper_indices,
)
from bci.decoders.covariance import fast_covariance_estimator, fast_covariance_names
from bci.errors import (
    DecoderError,
    ModelMismatchError,
    NotCalibratedError,
    SignalError,
    UnknownNameError,
)

__all__ = [
    "FastPipeline",
    "SklearnDecoder",
    "WindowDecoder",
    "compile_pipeline",
    "fast_or_slow",
]

logger = logging.getLogger(__name__)

#: Tolerance of :func:`fast_or_slow`'s self-check against the sklearn pipeline.
VERIFY_ATOL = 1e-9

# Kinds of data flowing between compiled stages.
_WINDOWS = "windows (n_windows, n_channels, n_times)"
_COVS = "covariances (n_windows, n_channels, n_channels)"
_FEATURES = "features (n_windows, n_features)"
_PROBA = "probabilities (n_windows, n_classes)"


@runtime_checkable
class WindowDecoder(Protocol):
    """What the online engine calls: a fast compiled pipeline or the sklearn one."""

    classes_: np.ndarray
    is_fast: bool

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...

    def predict_proba_one(self, window: np.ndarray) -> np.ndarray: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...


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


def _compile_csp(name: str, step: Any) -> list[_Stage]:
    if getattr(step, "transform_into", "average_power") != "average_power":
        raise DecoderError(
            f"Step {name!r} (CSP) has transform_into={step.transform_into!r}; the fast path "
            "supports 'average_power'"
        )
    if getattr(step, "dec_type", "single") != "single":
        raise DecoderError(
            f"Step {name!r} (CSP) has dec_type={step.dec_type!r}; fast path supports 'single'"
        )
    filters = np.ascontiguousarray(step.filters_[: step.n_components], dtype=np.float64)
    log = True if step.log is None else bool(step.log)
    mean = None if log else np.asarray(step.mean_, dtype=np.float64)
    std = None if log else np.asarray(step.std_, dtype=np.float64)

    def apply(X: np.ndarray) -> np.ndarray:
        Y = filters @ X
        P = (Y**2).mean(axis=2)
        if not np.isfinite(P).all():
            raise _not_finite("window")
        if log:
            if not P.min() > 0.0:
                raise SignalError("a CSP component has zero power in this window (flat input)")
            out: np.ndarray = np.log(P)
            return out
        out = (P - mean) / std
        return out

    return [
        _Stage(
            name,
            _WINDOWS,
            _FEATURES,
            apply,
            n_channels=filters.shape[1],
            n_features_out=filters.shape[0],
            mixing=np.asarray(getattr(step, "patterns_", np.eye(filters.shape[1])).T, float),
        )
    ]


def _compile_scaler(name: str, step: Any) -> list[_Stage]:
    # StandardScaler.transform: X -= mean_ if with_mean; X /= scale_ if with_std
    use_mean = step.with_mean and step.mean_ is not None
    use_scale = step.with_std and step.scale_ is not None
    mean = np.asarray(step.mean_, dtype=np.float64) if use_mean else None
    scale = np.asarray(step.scale_, dtype=np.float64) if use_scale else None

    def apply(F: np.ndarray) -> np.ndarray:
        if mean is not None:
            F = F - mean
        if scale is not None:
            F = F / scale
        return F

    return [_Stage(name, _FEATURES, _FEATURES, apply, n_features_in=int(step.n_features_in_))]


def _link_binary(Z: np.ndarray) -> np.ndarray:
    """sklearn's binary ``predict_proba``: ``[1 - expit(z), expit(z)]``."""
    p = expit(Z[:, 0])
    out = np.empty((p.shape[0], 2))
    out[:, 1] = p
    out[:, 0] = 1.0 - p
    return out


def _link_ovr(Z: np.ndarray) -> np.ndarray:
    """One-vs-rest normalisation, as sklearn's ``_predict_proba_lr``."""
    prob = expit(Z)
    total = prob.sum(axis=1)
    zero = total == 0
    if zero.any():
        prob[zero, :] = 1.0
        total[zero] = prob.shape[1]
    out: np.ndarray = prob / total[:, None]
    return out


_LINKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "binary": _link_binary,
    "softmax": softmax,
    "ovr": _link_ovr,
}


def _linear_stage(name: str, step: Any, mode: str) -> _Stage:
    coef_t = np.ascontiguousarray(np.asarray(step.coef_, dtype=np.float64).T)  # (d, n_out)
    intercept = np.asarray(step.intercept_, dtype=np.float64)
    link = _LINKS[mode]

    def apply(F: np.ndarray) -> np.ndarray:
        return link(F @ coef_t + intercept)

    return _Stage(
        name,
        _FEATURES,
        _PROBA,
        apply,
        n_features_in=coef_t.shape[0],
        classes=np.asarray(step.classes_),
        parts={"coef_t": coef_t, "intercept": intercept, "link": link},
    )


def _fuse_tangent_linear(ts: _Stage, head: _Stage) -> _Stage:
    """Tangent space + linear head in one stage: ``logm`` (n, n) flattened @ full weights.

    ``upper(L) @ coef`` sums ``w_ij L_ij coef_ij`` over ``i <= j``: the same sum as
    ``L.ravel() @ W`` with ``W`` holding ``w_ij coef_ij`` at ``(i, j)`` and zeros below the
    diagonal, which saves the gather and a pass over the features.
    """
    assert ts.parts is not None and head.parts is not None  # set by their compilers
    isqrt = ts.parts["isqrt"]
    rows, cols, weights = ts.parts["upper"]
    coef_t, intercept = head.parts["coef_t"], head.parts["intercept"]
    link: Callable[[np.ndarray], np.ndarray] = head.parts["link"]
    n = isqrt.shape[0]
    W = np.zeros((n * n, coef_t.shape[1]))
    W[rows * n + cols] = coef_t * weights[:, None]

    def apply(C: np.ndarray) -> np.ndarray:
        L = _log_whitened(C, isqrt)
        return link(L.reshape(L.shape[0], n * n) @ W + intercept)

    return _Stage(
        f"{ts.name}+{head.name}",
        _COVS,
        _PROBA,
        apply,
        n_channels=ts.n_channels,
        classes=head.classes,
        mixing=ts.mixing,
    )


def _compile_logistic(name: str, step: Any) -> list[_Stage]:
    n_classes = len(step.classes_)
    if n_classes <= 2:
        return [_linear_stage(name, step, "binary")]
    # scikit-learn < 1.8 kept `multi_class`; from 1.8 multi-class is always multinomial.
    multi_class = getattr(step, "multi_class", "deprecated")
    ovr = multi_class in ("ovr", "warn") or (
        multi_class in ("auto", "deprecated") and getattr(step, "solver", "") == "liblinear"
    )
    return [_linear_stage(name, step, "ovr" if ovr else "softmax")]


def _compile_lda(name: str, step: Any) -> list[_Stage]:
    mode = "binary" if len(step.classes_) == 2 else "softmax"
    return [_linear_stage(name, step, mode)]


def _compile_svc(name: str, step: Any) -> list[_Stage]:
    raise DecoderError(
        f"Step {name!r} (SVC) is not supported by the fast path: its probabilities come from "
        "libsvm's Platt scaling with iterative pairwise coupling (and probability=True is "
        "deprecated from scikit-learn 1.9); wrap it in CalibratedClassifierCV(method='sigmoid')"
    )


def _linear_decision(name: str, est: Any) -> Callable[[np.ndarray], np.ndarray]:
    """``est.decision_function`` of a linear classifier, as a 2-D (n_windows, n_cols) array."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC, LinearSVC

    cls = type(est)
    if cls is SVC and est.kernel != "linear":
        raise DecoderError(
            f"Step {name!r} (SVC) has kernel={est.kernel!r}; the fast path supports 'linear'"
        )
    if cls not in (SVC, LinearSVC, LogisticRegression, LinearDiscriminantAnalysis):
        raise DecoderError(
            f"Step {name!r} ({cls.__name__}) is not supported by the fast path inside "
            "CalibratedClassifierCV (linear SVC, LinearSVC, LogisticRegression or LDA)"
        )
    coef_t = np.ascontiguousarray(np.asarray(est.coef_, dtype=np.float64).T)
    intercept = np.asarray(est.intercept_, dtype=np.float64)
    n_classes = len(est.classes_)
    if cls is SVC and n_classes > 2 and est.decision_function_shape == "ovr":

        def decision(F: np.ndarray) -> np.ndarray:
            return ovr_decision_function(F @ coef_t + intercept, n_classes)

        return decision

    def linear(F: np.ndarray) -> np.ndarray:
        out: np.ndarray = F @ coef_t + intercept
        return out

    return linear


def _compile_calibrated(name: str, step: Any) -> list[_Stage]:
    if step.method != "sigmoid":
        raise DecoderError(
            f"Step {name!r} (CalibratedClassifierCV) has method={step.method!r}; the fast path "
            "supports 'sigmoid'"
        )
    classes = np.asarray(step.classes_)
    n_classes = len(classes)
    members = []
    for k, calibrated in enumerate(step.calibrated_classifiers_):
        est = calibrated.estimator
        decision = _linear_decision(f"{name}.calibrated_classifiers_[{k}].estimator", est)
        calibrators = calibrated.calibrators
        if any(type(c).__name__ != "_SigmoidCalibration" for c in calibrators):
            raise DecoderError(
                f"Step {name!r} (CalibratedClassifierCV) has non-sigmoid calibrators"
            )
        a = np.array([float(c.a_) for c in calibrators])
        b = np.array([float(c.b_) for c in calibrators])
        columns = np.searchsorted(classes, np.asarray(est.classes_))[: len(calibrators)]
        members.append((decision, a, b, columns))

    def apply(F: np.ndarray) -> np.ndarray:
        # sklearn's _CalibratedClassifier.predict_proba, averaged over the members
        total = np.zeros((F.shape[0], n_classes))
        for decision, a, b, columns in members:
            T = expit(-(a * decision(F) + b))  # _SigmoidCalibration.predict, per column
            proba = np.zeros((F.shape[0], n_classes))
            if n_classes == 2:
                proba[:, 1] = T[:, 0]
                proba[:, 0] = 1.0 - proba[:, 1]
            else:
                proba[:, columns] = T
                denominator = proba.sum(axis=1)[:, None]
                proba = np.divide(
                    proba,
                    denominator,
                    out=np.full_like(proba, 1 / n_classes),
                    where=denominator != 0,
                )
            total += proba
        total /= len(members)
        return total

    return [
        _Stage(
            name,
            _FEATURES,
            _PROBA,
            apply,
            n_features_in=int(step.n_features_in_),
            classes=classes,
        )
    ]


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


def _compilers() -> dict[type, Callable[[str, Any], list[_Stage]]]:
    """Exact step class -> compiler. Imports are local so a missing library only drops its row."""
    table: dict[type, Callable[[str, Any], list[_Stage]]] = {}
    from pyriemann.classification import MDM, FgMDM
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import FGDA, TangentSpace
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    table.update(
        {
            Covariances: _compile_covariances,
            TangentSpace: _compile_tangent_space,
            FGDA: _compile_fgda,
            MDM: _compile_mdm,
            FgMDM: _compile_fgmdm,
            LogisticRegression: _compile_logistic,
            LinearDiscriminantAnalysis: _compile_lda,
            StandardScaler: _compile_scaler,
            SVC: _compile_svc,
            CalibratedClassifierCV: _compile_calibrated,
        }
    )
    try:
        from mne.decoding import CSP

        table[CSP] = _compile_csp
    except ImportError:  # pragma: no cover - mne is a dependency
        pass
    try:
        from bci.decoders.filterbank import FilterBankTangentSpace
        from bci.decoders.recentering import Recentering

        table[Recentering] = _compile_recentering
        table[FilterBankTangentSpace] = _compile_filterbank
    except ImportError:  # pragma: no cover - both ship with bci
        pass
    return table


# --------------------------------------------------------------------------------------------
# compile


def _flatten_steps(pipeline: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name, step in pipeline.steps:
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        if hasattr(step, "steps"):  # nested Pipeline
            out.extend(_flatten_steps(step, prefix=f"{prefix}{name}__"))
        else:
            out.append((f"{prefix}{name}", step))
    return out


def compile_pipeline(pipeline: Any) -> FastPipeline:
    """Compile a fitted scikit-learn ``Pipeline`` into a :class:`FastPipeline`.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted on windows (n_windows, n_channels, n_times); supported steps are listed in
        this module's docstring.

    Returns
    -------
    fast : FastPipeline

    Raises
    ------
    NotCalibratedError
        A step is not fitted.
    DecoderError
        ``pipeline`` is not a Pipeline, or a step (named in the message) is not supported;
        use :func:`fast_or_slow` to fall back to the sklearn pipeline instead.
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(pipeline, "steps"):
        raise DecoderError(
            f"compile_pipeline expects a fitted sklearn Pipeline, got {type(pipeline).__name__}"
        )
    steps = _flatten_steps(pipeline)
    if not steps:
        raise DecoderError("compile_pipeline got a Pipeline with no step")
    table = _compilers()
    stages: list[_Stage] = []
    for name, step in steps:
        label = f"Step {name!r} ({type(step).__module__}.{type(step).__name__})"
        compiler = table.get(type(step))
        if compiler is None:
            raise DecoderError(
                f"{label} is not supported by the fast path; supported steps: "
                f"{', '.join(sorted(t.__name__ for t in table if table[t] is not _compile_svc))}"
            )
        try:
            check_is_fitted(step)
        except NotFittedError as exc:
            raise NotCalibratedError(f"{label} is not fitted: fit the pipeline first") from exc
        try:
            stages.extend(compiler(name, step))
        except (DecoderError, SignalError):
            raise
        except (AttributeError, ValueError, TypeError, np.linalg.LinAlgError) as exc:
            raise DecoderError(f"{label} cannot be compiled: {exc}") from exc

    kind = _WINDOWS
    for stage in stages:
        if stage.kind_in != kind:
            raise DecoderError(
                f"Step {stage.name!r} expects {stage.kind_in} but receives {kind}; the fast path "
                "needs windows -> covariances or features -> probabilities"
            )
        kind = stage.kind_out
    if kind != _PROBA:
        raise DecoderError(
            f"The last step {stages[-1].name!r} outputs {kind}, not class probabilities"
        )

    n_channels_set = {s.n_channels for s in stages if s.n_channels is not None}
    if len(n_channels_set) != 1:
        raise DecoderError(
            "Cannot tell the number of channels the pipeline was fitted on "
            f"(steps disagree or none says: {sorted(n_channels_set)})"
        )
    n_channels = n_channels_set.pop()
    for prev, stage in itertools.pairwise(stages):
        if (
            prev.n_features_out is not None
            and stage.n_features_in is not None
            and prev.n_features_out != stage.n_features_in
        ):
            raise DecoderError(
                f"Step {stage.name!r} was fitted on {stage.n_features_in} features, step "
                f"{prev.name!r} produces {prev.n_features_out}"
            )
    classes = stages[-1].classes
    if classes is None:  # pragma: no cover - every head sets classes
        raise DecoderError(f"The last step {stages[-1].name!r} has no classes_")
    pipeline_classes = getattr(pipeline, "classes_", classes)
    if not np.array_equal(np.asarray(pipeline_classes), classes):
        raise DecoderError(
            f"The pipeline's classes_ {list(pipeline_classes)} differ from its last step's "
            f"{list(classes)}"
        )
    step_names = tuple(s.name for s in stages)
    return FastPipeline(_fuse(stages), classes, n_channels, step_names)


def _fuse(stages: list[_Stage]) -> list[_Stage]:
    """Merge a tangent-space stage with the linear head right after it."""
    out: list[_Stage] = []
    for stage in stages:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.parts is not None
            and "isqrt" in prev.parts
            and stage.parts is not None
            and "coef_t" in stage.parts
        ):
            out[-1] = _fuse_tangent_linear(prev, stage)
        else:
            out.append(stage)
    return out


# --------------------------------------------------------------------------------------------
# the two decoders


class FastPipeline:
    """A compiled pipeline: the same probabilities as the sklearn pipeline, in plain numpy.

    Build it with :func:`compile_pipeline`; do not instantiate directly.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        Class labels in the order of the probability columns.
    n_channels : int
        Channels the pipeline was fitted on.
    step_names : tuple of str
        The pipeline steps compiled, in order (flattened names of nested pipelines).
    is_fast : bool
        Always True (False on :class:`SklearnDecoder`).

    Notes
    -----
    Windows are converted to float64. Results equal the sklearn pipeline's given float64
    input; with float32 input pyRiemann's ``scm`` computes in float32 and the two differ by
    float32 rounding.
    """

    is_fast = True

    def __init__(
        self,
        stages: Sequence[_Stage],
        classes: np.ndarray,
        n_channels: int,
        step_names: Sequence[str] | None = None,
    ) -> None:
        self._stages = tuple(stages)
        self._funcs = tuple(s.apply for s in stages)
        self.classes_ = np.asarray(classes)
        self.n_channels = int(n_channels)
        self.step_names = tuple(step_names or (s.name for s in stages))
        self._mixing = next((s.mixing for s in stages if s.mixing is not None), None)

    def __repr__(self) -> str:
        return (
            f"FastPipeline(steps={list(self.step_names)}, n_channels={self.n_channels}, "
            f"classes={list(self.classes_)})"
        )

    def _run(self, X: np.ndarray) -> np.ndarray:
        for func in self._funcs:
            X = func(X)
        return X

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of a batch of windows.

        Parameters
        ----------
        X : ndarray, shape (n_windows, n_channels, n_times)

        Returns
        -------
        proba : ndarray, shape (n_windows, n_classes)
        """
        return self._run(_check_epochs(X, self.n_channels))

    def predict_proba_one(self, window: np.ndarray) -> np.ndarray:
        """Class probabilities of one window, with minimal overhead.

        Parameters
        ----------
        window : ndarray, shape (n_channels, n_times)

        Returns
        -------
        proba : ndarray, shape (n_classes,)
        """
        x = window
        if type(x) is not np.ndarray or x.dtype != np.float64:
            x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != self.n_channels or x.shape[1] < 2:
            x = _check_window(x, self.n_channels)  # raises with a precise message
        Y = x[None]
        for func in self._funcs:
            Y = func(Y)
        out: np.ndarray = Y[0]
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of each window.

        Parameters
        ----------
        X : ndarray, shape (n_windows, n_channels, n_times)

        Returns
        -------
        labels : ndarray, shape (n_windows,)
        """
        labels: np.ndarray = self.classes_[self.predict_proba(X).argmax(axis=1)]
        return labels


class SklearnDecoder:
    """The sklearn pipeline behind the :class:`FastPipeline` interface (the slow fallback).

    Parameters
    ----------
    pipeline : fitted sklearn estimator with ``predict_proba``
    reason : str
        Why the fast path was not used (logged and kept for status pages).
    n_channels : int or None
        Channel count to check windows against, if known.
    """

    is_fast = False

    def __init__(self, pipeline: Any, reason: str = "", n_channels: int | None = None) -> None:
        if not hasattr(pipeline, "predict_proba"):
            raise DecoderError(
                f"{type(pipeline).__name__} has no predict_proba: a decoder must give class "
                "probabilities"
            )
        self.pipeline = pipeline
        self.reason = reason
        self.n_channels = n_channels if n_channels is not None else _guess_n_channels(pipeline)
        try:
            self.classes_ = np.asarray(pipeline.classes_)
        except AttributeError as exc:
            raise NotCalibratedError(
                f"{type(pipeline).__name__} has no classes_: fit the pipeline first"
            ) from exc

    def __repr__(self) -> str:
        return f"SklearnDecoder({self.pipeline!r}, reason={self.reason!r})"

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities from the sklearn pipeline, shape (n_windows, n_classes)."""
        return np.asarray(self.pipeline.predict_proba(_check_epochs(X, self.n_channels)))

    def predict_proba_one(self, window: np.ndarray) -> np.ndarray:
        """Class probabilities of one (n_channels, n_times) window, shape (n_classes,)."""
        x = _check_window(window, self.n_channels)
        proba: np.ndarray = np.asarray(self.pipeline.predict_proba(x[None]))[0]
        return proba

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The sklearn pipeline's ``predict``, shape (n_windows,)."""
        return np.asarray(self.pipeline.predict(_check_epochs(X, self.n_channels)))


def _guess_n_channels(pipeline: Any) -> int | None:
    """Channel count from the fitted attributes we know, or None."""
    for _, step in _flatten_steps(pipeline) if hasattr(pipeline, "steps") else []:
        for attr in ("reference_", "covmeans_", "filters_"):
            value = getattr(step, attr, None)
            if isinstance(value, np.ndarray) and value.ndim >= 2:
                return int(value.shape[-1])
    return None


def fast_or_slow(
    pipeline: Any, *, verify: bool = True, n_times: int | None = None
) -> FastPipeline | SklearnDecoder:
    """The fast compiled pipeline if possible, else the sklearn pipeline behind the same API.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted.
    verify : bool
        Check the compiled pipeline against ``pipeline`` on a few random windows and fall
        back if any probability differs by more than ``1e-9`` (guards against a library
        version whose formulas moved).
    n_times : int or None
        Window length for the check (default: ``max(4 * n_channels, 64)``).

    Returns
    -------
    decoder : FastPipeline or SklearnDecoder
        Both have ``classes_``, ``is_fast``, ``predict_proba``, ``predict_proba_one`` and
        ``predict``.

    Raises
    ------
    NotCalibratedError
        The pipeline is not fitted.
    """
    try:
        fast = compile_pipeline(pipeline)
    except NotCalibratedError:
        raise
    except DecoderError as exc:
        logger.info("Fast decode path unavailable (%s); using the sklearn pipeline", exc)
        return SklearnDecoder(pipeline, reason=str(exc))
    if verify:
        n_t = n_times or max(4 * fast.n_channels, 64)
        rng = np.random.default_rng(0)
        X = rng.standard_normal((4, fast.n_channels, n_t))
        if fast._mixing is not None:  # windows on the scale of the training data
            X = fast._mixing @ X
        try:
            diff = float(np.max(np.abs(fast.predict_proba(X) - pipeline.predict_proba(X))))
        except Exception as exc:  # the sklearn side failing is not the fast path's fault
            logger.warning("Could not verify the fast decode path (%s); using it anyway", exc)
            return fast
        if not diff <= VERIFY_ATOL:
            reason = (
                f"compiled probabilities differ from the sklearn pipeline by {diff:.3g} "
                f"(> {VERIFY_ATOL:g})"
            )
            logger.warning("Fast decode path rejected: %s; using the sklearn pipeline", reason)
            return SklearnDecoder(pipeline, reason=reason, n_channels=fast.n_channels)
    return fast
