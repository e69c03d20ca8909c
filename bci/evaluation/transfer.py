"""Cross-subject transfer: leave one subject out, with or without Riemannian alignment.

Every subject's covariances (OAS, the channels and band of the task) form one *domain*. The
target subject is never seen with labels by the cross-subject protocol; the calibration curve
labels its first ``k`` trials per class in time order and scores the rest.

Alignment methods (``pyriemann.transfer`` does the geometry):

``none``
    Plain pooled pyRiemann TS+LR: tangent space at the sources' mean, logistic regression.
``recenter``
    Each domain whitened by its own Riemannian mean (Zanini et al. 2018, ``TLCenter``); the
    target's mean comes from all its trials *without labels* (transductive, as in that paper).
``rpa``
    Riemannian Procrustes analysis (Rodrigues et al. 2019): re-centre, stretch every domain
    to unit dispersion around the identity (``TLScale``, no labels), then rotate each source
    so its class means meet the target's (``TLRotate``). The rotation needs target class
    means: the calibration curve takes them from its ``k`` labelled trials per class; the
    cross-subject protocol (zero labels) from pseudo-labels predicted by the re-centred and
    stretched model, which is the only label-free choice.
``auto`` (cross-subject only)
    Nested selection of one of ``none``, ``recenter``, ``rpa`` by an inner
    leave-one-source-subject-out over the sources (each source subject in turn is the
    unlabelled target of the others); the real target is not seen until the choice is made.
``within`` (calibration curve only)
    Plain pyRiemann TS+LR on the target's ``k`` labelled trials per class alone.
``mdwm`` (calibration curve only)
    Re-centred domains, pyRiemann's MDWM (Kalunga et al. 2018): each class centroid on the
    geodesic between the sources' and the target's labelled class means, at
    :data:`MDWM_TRADEOFF` (0.5, the neutral midpoint; not tuned).
``tlc-w`` (calibration curve only)
    Re-centred domains, TS+LR through pyRiemann's ``TLClassifier`` with the target's labelled
    trials weighted so that together they weigh as much as all the source trials.

``vote`` (calibration curve only)
    The mean of the class probabilities of ``within``, ``recenter``, ``mdwm`` and ``tlc-w``
    (each fitted as above on the same labelled trials and sources), unweighted: no member is
    chosen or weighted by a score. Fixed and committed before it was run on S001-S010.

Any method + ``+ex``: the sources' *executed* left/right runs (eegbci 3/7/11) are added to
their imagined ones, each run type of each source subject a domain of its own (re-centred on
its own, being another session); the target is still scored on its imagined runs.

The classifier is the same everywhere (tangent space + logistic regression, C=1), trained with
equal weight per trial, so only the alignment changes between rows.
"""

# Long module: the cross-subject protocol, the calibration curve (its vote included) and the
# within-session transfer folds share one domain encoding and one alignment geometry
# (_domains, _center_stretch, _rotate_sources); split, each would import the others' private
# helpers, and a change of the alignment must reach all three in the same commit.

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from bci.errors import DataError
from bci.evaluation.taskdata import DataSpec, Task, load_epochs

__all__ = [
    "ALIGNMENTS",
    "CROSS_SUBJECT_METHODS",
    "CURVE_METHODS",
    "calibration_split",
    "run_transfer_task",
    "select_alignment",
    "subject_covariances",
    "transfer_tasks",
]

logger = logging.getLogger(__name__)

CROSS_SUBJECT_METHODS = ("none", "recenter", "rpa", "auto")
CURVE_METHODS = ("within", "recenter", "rpa", "mdwm", "tlc-w", "vote")
#: Members of the calibration curve's ``vote`` (soft vote, equal weights).
VOTE_MEMBERS = ("within", "recenter", "mdwm", "tlc-w")
#: Methods of the cross-subject ``auto`` selection, in tie-break order.
ALIGNMENTS = ("none", "recenter", "rpa")
#: Suffix of a method whose sources also hold their executed runs.
EXECUTED = "+ex"
#: ``--source-runs`` run types and the eegbci paradigm each one reads.
SOURCE_RUNS = {"imagery": "imagery-left-right", "executed": "executed-left-right"}
MDWM_TRADEOFF = 0.5
_TARGET = "target"
_UNLABELLED = "?"


@lru_cache(maxsize=256)
def subject_covariances(spec: DataSpec, band: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """OAS covariances of one subject's epochs, in time order (cached per process).

    Returns
    -------
    C : ndarray, shape (n_epochs, n_channels, n_channels)
    y : ndarray of str, shape (n_epochs,)
    """
    from pyriemann.estimation import Covariances

    X, y, _ = load_epochs(spec, band)
    C = Covariances(estimator="oas").transform(np.array(X))
    C.setflags(write=False)
    return C, y


def transfer_tasks(
    kind: str,
    data: list[DataSpec],
    methods: list[str],
    *,
    band: tuple[float, float],
    seed: int,
    trials: tuple[int, ...] = (),
) -> list[Task]:
    """One task per (target subject, method); the other subjects are the sources.

    Raises
    ------
    DataError
        Fewer than 2 subjects, or a method the protocol does not have.
    """
    from dataclasses import replace

    allowed = CROSS_SUBJECT_METHODS if kind == "cross-subject" else CURVE_METHODS
    bad = [m for m in methods if m.removesuffix(EXECUTED) not in allowed]
    if bad:
        raise DataError(
            f"--methods: unknown {bad} for {kind}; must be some of {list(allowed)} "
            f"(each optionally with {EXECUTED!r}: executed source runs too)"
        )
    if any(m.endswith(EXECUTED) and m.removesuffix(EXECUTED) == "within" for m in methods):
        raise DataError("--methods: 'within' uses no sources; 'within+ex' means nothing")
    if len(data) < 2:
        raise DataError(
            f"--protocol {kind} leaves one subject out and needs >= 2 subjects, got "
            f"{[d.label for d in data]}"
        )
    return [
        Task(
            kind,
            target,
            method,
            band=band,
            seed=seed,
            sources=tuple(d for d in data if d != target)
            + (
                tuple(replace(d, paradigm=SOURCE_RUNS["executed"]) for d in data if d != target)
                if method.endswith(EXECUTED)
                else ()
            ),
            trials=tuple(trials),
        )
        for target in data
        for method in methods
    ]


def calibration_split(y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``k`` trials of each class (in time order) and the rest.

    Raises
    ------
    DataError
        A class has ``k`` trials or fewer (nothing of it would be left to score).
    """
    cal: list[int] = []
    for c in sorted(set(y.tolist())):
        idx = np.flatnonzero(y == c)
        if len(idx) <= k:
            raise DataError(
                f"trials: {k} labelled trials per class leave none of class {c!r} to score "
                f"(it has {len(idx)})"
            )
        cal += idx[:k].tolist()
    mask = np.zeros(len(y), dtype=bool)
    mask[cal] = True
    return np.flatnonzero(mask), np.flatnonzero(~mask)


def _ts_lr(C: np.ndarray, y: np.ndarray) -> Any:
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TangentSpace(metric="riemann"), LogisticRegression(max_iter=1000)).fit(
        C, y
    )


def _proba(est: Any, C: np.ndarray, classes: list[str]) -> np.ndarray:
    """``est``'s probabilities of ``C``, columns in the order of ``classes``."""
    cols = [list(est.classes_).index(c) for c in classes]
    return np.asarray(est.predict_proba(C))[:, cols]


def _auc(est: Any, C: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """ROC-AUC of the second class and accuracy."""
    from bci.evaluation.protocol import score

    classes = sorted(set(y.tolist()))
    proba = _proba(est, C, classes)
    return score("roc_auc", y, proba, classes), score("accuracy", y, proba, classes)


def _domains(sources: list[tuple[np.ndarray, np.ndarray]], Ct: np.ndarray) -> Any:
    """Stack sources and the (unlabelled) target; labels of the target are a placeholder."""
    from pyriemann.transfer import encode_domains

    X = np.concatenate([c for c, _ in sources] + [Ct])
    y = np.concatenate([yy for _, yy in sources] + [np.full(len(Ct), _UNLABELLED)])
    dom = np.concatenate(
        [np.full(len(yy), f"s{i}") for i, (_, yy) in enumerate(sources)]
        + [np.full(len(Ct), _TARGET)]
    )
    _, y_enc = encode_domains(X, y, dom)
    return X, y, dom, y_enc


def _center_stretch(
    X: np.ndarray, y_enc: np.ndarray, stretch: bool
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """Re-centre every domain to the identity (and stretch it to unit dispersion): no labels.

    Returns
    -------
    X_aligned : ndarray, shape (n_matrices, n_channels, n_channels)
    to_target : callable
        Aligns new covariances of the target with the target's fitted reference (and scale).
    """
    from pyriemann.transfer import TLCenter, TLScale

    center = TLCenter(target_domain=_TARGET)
    Xa = center.fit_transform(X, y_enc)
    scale = None
    if stretch:
        scale = TLScale(target_domain=_TARGET, centered_data=True)
        Xa = scale.fit_transform(Xa, y_enc)

    def to_target(C: np.ndarray) -> np.ndarray:
        out = center.transform(C)
        return np.asarray(scale.transform(out) if scale is not None else out)

    return np.asarray(Xa), to_target


def _rotate_sources(
    Xa: np.ndarray,
    y: np.ndarray,
    dom: np.ndarray,
    target_idx: np.ndarray,
    target_y: np.ndarray,
    maxiter: int = 10_000,
) -> np.ndarray:
    """Rotate every source domain onto the target's class means (given target labels).

    ``maxiter``: the Procrustes solver's iterations. With two class means the rotation is
    under-determined and the solver never meets its tolerance, so it runs all of them.
    """
    from pyriemann.transfer import TLRotate, encode_domains

    src = dom != _TARGET
    tgt_rows = np.flatnonzero(~src)[target_idx]
    rows = np.concatenate([np.flatnonzero(src), tgt_rows])
    yy = np.concatenate([y[src], target_y])
    _, y_enc = encode_domains(Xa[rows], yy, dom[rows])
    with warnings.catch_warnings(record=True) as caught:
        # pyRiemann warns when its Procrustes solver stops at maxiter; the rotation it
        # reached is still used, and the count is logged rather than raised
        warnings.simplefilter("always")
        rotate = TLRotate(target_domain=_TARGET, metric="euclid", maxiter=maxiter)
        rotated = rotate.fit_transform(Xa[rows], y_enc)
    n_warn = sum("Convergence not reached" in str(w.message) for w in caught)
    if n_warn:  # two class means leave the rotation under-determined: expected
        logger.debug("Procrustes rotation: %d 'convergence not reached' warnings", n_warn)
    out = Xa.copy()
    out[np.flatnonzero(src)] = rotated[: int(src.sum())]
    return out


def select_alignment(
    sources: list[tuple[np.ndarray, np.ndarray]],
    groups: list[int],
    imagined: list[bool],
    candidates: tuple[str, ...] = ALIGNMENTS,
) -> tuple[str, dict[str, float]]:
    """Choose an alignment by leave-one-source-subject-out, from the sources alone.

    Each source subject's imagined domain in turn is the unlabelled target of the other
    subjects' domains (its other domains, e.g. executed runs, left out with it); its labels
    score the candidates. Ties go to the first of ``candidates``.

    Parameters
    ----------
    sources : list of (C, y)
        Source domains.
    groups : list of int
        The subject of each domain.
    imagined : list of bool
        Which domains may play the target (the run type the real target is scored on).

    Returns
    -------
    best : str
    scores : dict of str to float
        Mean ROC-AUC over the held-out source subjects, per candidate.
    """
    held = sorted({g for g, im in zip(groups, imagined, strict=True) if im})
    if len(set(groups)) < 3:
        raise DataError("auto: the inner leave-one-source-out needs >= 3 source subjects")
    per: dict[str, list[float]] = {m: [] for m in candidates}
    for g in held:
        inner = [s for s, gg in zip(sources, groups, strict=True) if gg != g]
        tgt = next(s for s, gg, im in zip(sources, groups, imagined, strict=True) if gg == g and im)
        for m in candidates:
            per[m].append(_cross_subject(m, inner, np.asarray(tgt[0]), tgt[1])["score"])
    scores = {m: float(np.nanmean(v)) for m, v in per.items()}
    return max(candidates, key=lambda m: scores[m]), scores


def _cross_subject(
    method: str,
    sources: list[tuple[np.ndarray, np.ndarray]],
    Ct: np.ndarray,
    yt: np.ndarray,
    *,
    groups: list[int] | None = None,
    imagined: list[bool] | None = None,
) -> dict[str, Any]:
    if method == "auto":
        g = groups if groups is not None else list(range(len(sources)))
        im = imagined if imagined is not None else [True] * len(sources)
        best, inner = select_alignment(sources, g, im)
        row = _cross_subject(best, sources, Ct, yt)
        return {**row, "selected": best, "inner_scores": inner}
    X, y, dom, y_enc = _domains(sources, Ct)
    src = dom != _TARGET
    if method == "none":
        Xa = X
    else:
        Xa, _ = _center_stretch(X, y_enc, stretch=method == "rpa")
    est = _ts_lr(Xa[src], y[src])
    extra: dict[str, Any] = {}
    if method == "rpa":
        classes = np.asarray(est.classes_)
        pseudo = classes[np.argmax(est.predict_proba(Xa[~src]), axis=1)]
        extra["pseudo_label_accuracy"] = float(np.mean(pseudo == yt))
        if len(set(pseudo.tolist())) < 2:  # one class predicted: no rotation is defined
            extra["rotation"] = "skipped: pseudo-labels hold one class"
        else:
            # 200 iterations: every subject's AUC equal to 10,000's on S001-S010 at ~1/20 of
            # the CPU (README "A new user: leave one subject out"); the calibration curve
            # keeps 10,000 (its AUCs moved by up to 0.1 with fewer).
            Xa = _rotate_sources(Xa, y, dom, np.arange(len(Ct)), pseudo, maxiter=200)
            est = _ts_lr(Xa[src], y[src])
            extra["rotation"] = "pseudo-labels"
    auc, acc = _auc(est, Xa[~src], yt)
    return {"k": 0, "n_labelled": 0, "n_scored": len(yt), "score": auc, "accuracy": acc, **extra}


def _curve(
    method: str,
    sources: list[tuple[np.ndarray, np.ndarray]],
    Ct: np.ndarray,
    yt: np.ndarray,
    ks: tuple[int, ...],
) -> list[dict[str, Any]]:
    """One row per ``k``; the label-free alignment (centre, stretch) is computed once."""
    from bci.evaluation.protocol import score

    members = VOTE_MEMBERS if method == "vote" else (method,)
    X, y, dom, y_enc = _domains(sources, Ct)
    aligned = {
        stretch: _center_stretch(X, y_enc, stretch=stretch)[0]
        for stretch in {m == "rpa" for m in members if m != "within"}
    }
    classes = sorted(set(yt.tolist()))
    rows = []
    for k in ks:
        cal, test = calibration_split(yt, k)
        proba = np.mean(
            [
                _curve_proba(m, Ct, yt, aligned.get(m == "rpa"), y, dom, cal, test, classes)
                for m in members
            ],
            axis=0,
        )
        rows.append(
            {
                "k": int(k),
                "n_labelled": len(cal),
                "n_scored": len(test),
                "score": score("roc_auc", yt[test], proba, classes),
                "accuracy": score("accuracy", yt[test], proba, classes),
            }
        )
    return rows


def _curve_proba(
    method: str,
    Ct: np.ndarray,
    yt: np.ndarray,
    aligned: np.ndarray | None,
    y: np.ndarray,
    dom: np.ndarray,
    cal: np.ndarray,
    test: np.ndarray,
    classes: list[str],
) -> np.ndarray:
    """Probabilities (columns in ``classes`` order) of the target's scored trials."""
    src = dom != _TARGET
    if method == "within":
        est, Xtest = _ts_lr(Ct[cal], yt[cal]), Ct[test]
    else:
        assert aligned is not None
        if method in ("mdwm", "tlc-w"):
            est = _fit_weighted(method, aligned, y, dom, cal, yt[cal])
            Xtest = aligned[~src][test]
        else:
            Xa = _rotate_sources(aligned, y, dom, cal, yt[cal]) if method == "rpa" else aligned
            Xt = Xa[~src]
            est = _ts_lr(np.concatenate([Xa[src], Xt[cal]]), np.concatenate([y[src], yt[cal]]))
            Xtest = Xt[test]
    return _proba(est, Xtest, classes)


def _fit_weighted(
    method: str,
    Xa: np.ndarray,
    y: np.ndarray,
    dom: np.ndarray,
    cal: np.ndarray,
    y_cal: np.ndarray,
) -> Any:
    """MDWM or weighted TLClassifier on the aligned sources + the target's labelled trials."""
    from pyriemann.tangentspace import TangentSpace
    from pyriemann.transfer import MDWM, TLClassifier, encode_domains
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    src = dom != _TARGET
    rows = np.concatenate([np.flatnonzero(src), np.flatnonzero(~src)[cal]])
    yy = np.concatenate([y[src], y_cal])
    _, y_enc = encode_domains(Xa[rows], yy, dom[rows])
    if method == "mdwm":
        return MDWM(domain_tradeoff=MDWM_TRADEOFF, target_domain=_TARGET).fit(Xa[rows], y_enc)
    weight = {str(d): 1.0 for d in np.unique(dom[src])}
    weight[_TARGET] = float(src.sum()) / len(cal)
    est = make_pipeline(TangentSpace(metric="riemann"), LogisticRegression(max_iter=1000))
    TLClassifier(target_domain=_TARGET, estimator=est, domain_weight=weight).fit(Xa[rows], y_enc)
    return est  # fitted in place by the wrapper; it has the classes_ the scorer needs


def within_transfer_folds(
    method: str,
    sources: list[tuple[np.ndarray, np.ndarray]],
    Ct: np.ndarray,
    yt: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[list[float], np.ndarray, list[str]]:
    """Within-session k-fold where each fold also trains on the aligned other subjects.

    The target's reference (and scale, rotation) come from its training-fold trials only;
    the test fold is aligned with them and never seen before scoring.

    Returns
    -------
    fold_scores : list of float
        ROC-AUC per fold.
    oof : ndarray, shape (n_epochs, 2)
        Out-of-fold probabilities, columns in the order of ``classes``.
    classes : list of str
    """
    from bci.evaluation.protocol import score

    classes = sorted(set(yt.tolist()))
    oof = np.full((len(yt), len(classes)), np.nan)
    scores = []
    for train, test in folds:
        X, y, dom, y_enc = _domains(sources, Ct[train])
        src = dom != _TARGET
        Xa, to_target = _center_stretch(X, y_enc, stretch=method == "rpa")
        if method == "rpa":
            Xa = _rotate_sources(Xa, y, dom, np.arange(len(train)), yt[train])
        est = _ts_lr(Xa, np.concatenate([y[src], yt[train]]))
        cols = [list(est.classes_).index(c) for c in classes]
        oof[test] = est.predict_proba(to_target(Ct[test]))[:, cols]
        scores.append(score("roc_auc", yt[test], oof[test], classes))
    return scores, oof, classes


def run_transfer_task(task: Task) -> list[dict[str, Any]]:
    """Score one target subject with one method; one row (cross-subject) or one per ``k``.

    Returns
    -------
    rows : list of dict
        ``protocol``, ``target``, ``method``, ``k`` (labelled trials per class), ``n_labelled``,
        ``n_scored``, ``metric`` ("roc_auc"), ``score``, ``accuracy``, ``sources``,
        ``n_channels``, ``band``, ``seed``.
    """
    Ct, yt = subject_covariances(task.data, task.band)
    sources = [subject_covariances(s, task.band) for s in task.sources]
    method = task.pipeline.removesuffix(EXECUTED)
    if task.kind == "cross-subject":
        points = [
            _cross_subject(
                method,
                sources,
                np.array(Ct),
                yt,
                groups=[s.subject for s in task.sources],
                imagined=[s.paradigm == task.data.paradigm for s in task.sources],
            )
        ]
    else:
        points = _curve(method, sources, np.array(Ct), yt, task.trials)
    base = {
        "protocol": task.kind,
        "dataset": task.data.dataset,
        "paradigm": task.data.paradigm,
        "target": task.data.label,
        "method": task.pipeline,
        "metric": "roc_auc",
        "sources": [s.label for s in task.sources],
        "source_runs": sorted({s.paradigm for s in task.sources}),
        "n_channels": int(Ct.shape[1]),
        "band": list(task.band),
        "seed": int(task.seed),
    }
    return [{**base, **p} for p in points]
