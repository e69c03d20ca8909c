"""Compilers of the linear steps (CSP, scaler, logistic regression, LDA, linear SVM, Platt
calibration) for :mod:`bci.decoders.fast`: fitted step -> batched numpy stages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit

from bci.decoders._compile_riemann import _log_whitened
from bci.decoders._fastmath import (
    ovr_decision_function,
    softmax,
)
from bci.decoders._stages import (
    _COVS,
    _FEATURES,
    _PROBA,
    _WINDOWS,
    _not_finite,
    _Stage,
)
from bci.errors import (
    DecoderError,
    SignalError,
)


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
