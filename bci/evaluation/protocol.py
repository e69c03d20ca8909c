"""The within-session evaluation protocol (MOABB's): stratified k-fold CV, ROC-AUC or accuracy.

Every pipeline is scored on the *same* folds (one shuffled ``StratifiedKFold`` with a fixed
seed), so pipelines can be compared fold by fold. Two classes are scored by ROC-AUC of the
second class's probability (MOABB's default), more classes by accuracy. The chance level comes
from label permutations: the labels are shuffled inside each test fold (which keeps every
fold's class counts, hence every train set's too), the reference pipeline is refitted on the
same folds, and the scores of those refits give the chance distribution (mean and 95th
percentile; Combrisson & Jerbi 2015 on why 0.5 is not the chance level of a small test set).
"""

# Long module: evaluate() and the per-pipeline pieces it is made of, which the multi-subject
# tasks in bci.evaluation.tasks call one at a time, stay together.

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bci.decoders import check_trials_per_fold, get_pipeline, make_pipeline, validate_epochs
from bci.decoders.selection import score  # re-exported: the protocols' scorer
from bci.errors import DataError

__all__ = [
    "EpochSource",
    "PipelineScore",
    "chance_level",
    "cross_validate",
    "evaluate",
    "make_folds",
    "make_score",
    "score",
    "score_pipeline",
    "set_chance",
]

logger = logging.getLogger(__name__)

#: A function that returns epochs filtered in a band: band -> (X, y, meta).
EpochSource = Callable[[tuple[float, float]], tuple[np.ndarray, np.ndarray, dict[str, Any]]]


@dataclass
class PipelineScore:
    """One pipeline's cross-validated score on one subject/recording and paradigm.

    ``mean``/``std``/``folds`` are in ``metric`` units (ROC-AUC or accuracy, 0-1).
    ``confusion`` rows are true classes, columns predicted, in the order of ``classes``
    (pooled over the out-of-fold predictions).
    """

    pipeline: str
    paradigm: str
    metric: str
    mean: float
    std: float
    folds: list[float]
    dataset: str
    subject: str | None
    n_epochs: int
    n_channels: int
    classes: list[str]
    band: tuple[float, float] | None
    tmin: float | None
    tmax: float | None
    n_folds: int
    seed: int
    chance: float | None = None
    chance_p95: float | None = None
    chance_pipeline: str | None = None
    n_permutations: int = 0
    fit_time_s: float = 0.0
    confusion: list[list[int]] = field(default_factory=list)
    moabb: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (NaN -> None, tuples -> lists)."""
        d = asdict(self)
        d["band"] = list(self.band) if self.band is not None else None
        return _json_ready(d)  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PipelineScore:
        """The inverse of :meth:`to_dict` (None scores back to NaN)."""
        kw = dict(d)
        kw["band"] = tuple(kw["band"]) if kw.get("band") is not None else None
        for k in ("mean", "std"):
            if kw.get(k) is None:
                kw[k] = float("nan")
        kw["folds"] = [float("nan") if f is None else float(f) for f in kw.get("folds", [])]
        return cls(**kw)


def _json_ready(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def make_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffled stratified folds (train, test) shared by every pipeline."""
    from sklearn.model_selection import StratifiedKFold

    check_trials_per_fold(y, n_folds)
    cv = StratifiedKFold(n_splits=int(n_folds), shuffle=True, random_state=int(seed))
    return [(tr, te) for tr, te in cv.split(np.zeros(len(y)), y)]


def cross_validate(
    pipeline: str,
    X: np.ndarray,
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    sfreq: float | None = None,
    params: dict[str, Any] | None = None,
    on_fold: Callable[[], None] | None = None,
) -> tuple[list[float], np.ndarray, list[str], float]:
    """Fit and score a named pipeline on given folds.

    Parameters
    ----------
    pipeline : str
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Filtered in the pipeline's band.
    y : ndarray of str, shape (n_epochs,)
    folds : sequence of (train indices, test indices)
    sfreq : float, optional
        Passed to pipelines that need it.
    params : dict, optional
        Pipeline parameters (``cov_estimator``...).
    on_fold : callable, optional
        Called after each fold (progress bars).

    Returns
    -------
    fold_scores : list of float
    oof_proba : ndarray, shape (n_epochs, n_classes)
        Out-of-fold probabilities, columns in the order of ``classes``.
    classes : list of str
    fit_time_s : float
        Mean fit + predict time per fold.
    """
    classes = sorted(set(y.tolist()))
    metric = "roc_auc" if len(classes) == 2 else "accuracy"
    oof = np.full((len(y), len(classes)), np.nan)
    scores: list[float] = []
    times: list[float] = []
    for train, test in folds:
        t0 = time.perf_counter()
        est = make_pipeline(pipeline, sfreq=sfreq, **(params or {})).fit(X[train], y[train])
        proba = est.predict_proba(X[test])
        times.append(time.perf_counter() - t0)
        # a fold's train set always holds every class (stratified), so columns line up
        cols = [list(est.classes_).index(c) for c in classes]
        oof[test] = proba[:, cols]
        scores.append(score(metric, y[test], oof[test], classes))
        if on_fold is not None:
            on_fold()
    return scores, oof, classes, float(np.mean(times))


def _permuted(
    y: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]], rng: Any
) -> np.ndarray:
    out = y.copy()
    for _, test in folds:
        out[test] = rng.permutation(y[test])
    return out


def evaluate(
    source: EpochSource,
    pipelines: Sequence[str],
    *,
    paradigm: str,
    dataset: str,
    subject: str | None = None,
    band: tuple[float, float] = (8.0, 32.0),
    n_folds: int = 5,
    seed: int = 42,
    n_permutations: int = 20,
    chance_pipeline: str | None = "ts-lr",
    params: dict[str, Any] | None = None,
    progress: bool = True,
    reference: Callable[[str, str], dict[str, Any] | None] | None = None,
    blas_threads: int | None = 1,
) -> tuple[list[PipelineScore], dict[str, Any]]:
    """Score pipelines on one subject (or recording) with identical folds.

    Parameters
    ----------
    source : callable
        ``source(band) -> (X, y, meta)``: epochs filtered in ``band``; called once per
        distinct band (pipelines with ``fixed_band`` get their own, the others ``band``).
    pipelines : sequence of str
        Registered pipeline names.
    paradigm, dataset : str
        Labels for the results.
    subject : str, optional
    band : (float, float)
        Band of the pipelines without a fixed band (MOABB: 8-32 Hz).
    n_folds, seed : int
        Stratified k-fold, shuffled with ``seed``.
    n_permutations : int
        Label permutations for the chance level (0: none).
    chance_pipeline : str or None
        Pipeline refitted on permuted labels (default ``ts-lr``; the first of ``pipelines``
        if it is not among them).
    params : dict, optional
        Parameters given to every pipeline that accepts them (e.g. ``cov_estimator``).
    progress : bool
        Show a tqdm progress bar (stderr).
    reference : callable, optional
        ``reference(pipeline, paradigm) -> dict or None``: published score to put beside ours.
    blas_threads : int or None
        BLAS threads while fitting (None: leave as is). The matrices are small (at most
        n_channels x n_channels), where one thread is fastest and a shared machine is not
        oversubscribed.

    Returns
    -------
    scores : list of PipelineScore
        In the order of ``pipelines``.
    data : dict
        ``epochs`` {band: (X, y, meta)} and ``oof`` {pipeline: probabilities}, for figures.
    """
    from contextlib import ExitStack

    import mne
    from threadpoolctl import threadpool_limits

    with ExitStack() as stack:
        if blas_threads is not None:
            stack.enter_context(threadpool_limits(limits=blas_threads, user_api="blas"))
        stack.enter_context(mne.utils.use_log_level("error"))  # CSP logs each fit at INFO
        return _evaluate(
            source,
            pipelines,
            paradigm=paradigm,
            dataset=dataset,
            subject=subject,
            band=band,
            n_folds=n_folds,
            seed=seed,
            n_permutations=n_permutations,
            chance_pipeline=chance_pipeline,
            params=params,
            progress=progress,
            reference=reference,
        )


def score_pipeline(
    pipeline: str,
    X: np.ndarray,
    y: np.ndarray,
    meta: dict[str, Any],
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    paradigm: str,
    dataset: str,
    subject: str | None,
    seed: int,
    band: tuple[float, float] | None = None,
    params: dict[str, Any] | None = None,
    reference: Callable[[str, str], dict[str, Any] | None] | None = None,
    on_fold: Callable[[], None] | None = None,
) -> tuple[PipelineScore, np.ndarray]:
    """Cross-validate one named pipeline on given folds and describe the result.

    Parameters
    ----------
    pipeline : str
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Filtered in the pipeline's band.
    y : ndarray of str, shape (n_epochs,)
    meta : dict
        ``sfreq``, ``tmin``, ``tmax`` (and ``band``) of the epochs.
    folds : sequence of (train indices, test indices)
    paradigm, dataset, subject : str
        Labels of the result.
    seed : int
        The seed the folds were drawn with (recorded).
    band : (float, float), optional
        Band the epochs were filtered in (default ``meta["band"]``), recorded.
    params : dict, optional
        Parameters for every pipeline; those the pipeline does not take are ignored.
    reference : callable, optional
        ``reference(pipeline, paradigm)``: published score to keep beside ours.
    on_fold : callable, optional

    Returns
    -------
    result : PipelineScore
    oof : ndarray, shape (n_epochs, n_classes)
        Out-of-fold probabilities.
    """
    spec = get_pipeline(pipeline)
    p = {k: v for k, v in (params or {}).items() if k in spec.parameters()}
    fold_scores, oof, cls, fit_s = cross_validate(
        spec.name, X, y, folds, sfreq=meta.get("sfreq"), params=p, on_fold=on_fold
    )
    band = band if band is not None else meta.get("band")
    result = make_score(
        spec.name,
        y,
        fold_scores,
        oof,
        cls,
        paradigm=paradigm,
        dataset=dataset,
        subject=subject,
        n_channels=int(X.shape[1]),
        band=band,
        tmin=meta.get("tmin"),
        tmax=meta.get("tmax"),
        seed=seed,
        fit_time_s=fit_s,
        moabb=reference(spec.name, paradigm) if reference else None,
    )
    return result, oof


def make_score(
    pipeline: str,
    y: np.ndarray,
    fold_scores: Sequence[float],
    oof: np.ndarray,
    classes: Sequence[str],
    *,
    paradigm: str,
    dataset: str,
    subject: str | None,
    n_channels: int,
    band: Sequence[float] | None,
    tmin: float | None,
    tmax: float | None,
    seed: int,
    fit_time_s: float = 0.0,
    moabb: dict[str, Any] | None = None,
) -> PipelineScore:
    """A :class:`PipelineScore` from fold scores and out-of-fold probabilities (logged).

    Parameters
    ----------
    y : ndarray of str, shape (n_epochs,)
    fold_scores : sequence of float, one per fold
    oof : ndarray, shape (n_epochs, n_classes)
        Columns in the order of ``classes``; gives the pooled confusion matrix.
    """
    cls = list(classes)
    pred = np.asarray(cls)[np.argmax(oof, axis=1)]
    result = PipelineScore(
        pipeline=pipeline,
        paradigm=paradigm,
        metric="roc_auc" if len(cls) == 2 else "accuracy",
        mean=float(np.nanmean(fold_scores)),
        std=float(np.nanstd(fold_scores)),
        folds=[float(s) for s in fold_scores],
        dataset=dataset,
        subject=subject,
        n_epochs=len(y),
        n_channels=int(n_channels),
        classes=cls,
        band=None if band is None else (float(band[0]), float(band[1])),
        tmin=tmin,
        tmax=tmax,
        n_folds=len(fold_scores),
        seed=int(seed),
        fit_time_s=float(fit_time_s),
        confusion=[[int(np.sum((y == t) & (pred == q))) for q in cls] for t in cls],
        moabb=moabb,
    )
    logger.info(
        "%s %s %s: %s %.3f +/- %.3f",
        dataset,
        subject or "",
        pipeline,
        result.metric,
        result.mean,
        result.std,
    )
    return result


def chance_level(
    pipeline: str,
    X: np.ndarray,
    y: np.ndarray,
    meta: dict[str, Any],
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    n_permutations: int,
    seed: int,
    params: dict[str, Any] | None = None,
    on_fold: Callable[[], None] | None = None,
    only: tuple[int, int] | None = None,
) -> list[float]:
    """Mean CV scores of ``pipeline`` refitted on ``n_permutations`` label permutations.

    Labels are shuffled inside each test fold (seeded by ``seed``), so every train set keeps
    its class counts.

    ``only=(start, stop)`` scores permutations ``start..stop-1`` of the same sequence (all are
    drawn, only those are fitted): the parts of a split run concatenate to the whole run's list.

    Returns
    -------
    null : list of float, length n_permutations (``stop - start`` with ``only``)
    """
    spec = get_pipeline(pipeline)
    rng = np.random.default_rng(seed)
    p = {k: v for k, v in (params or {}).items() if k in spec.parameters()}
    start, stop = only if only is not None else (0, n_permutations)
    null = []
    for k in range(n_permutations):
        permuted = _permuted(y, folds, rng)
        if not start <= k < stop:
            continue
        s, *_ = cross_validate(
            spec.name,
            X,
            permuted,
            folds,
            sfreq=meta.get("sfreq"),
            params=p,
            on_fold=on_fold,
        )
        null.append(float(np.nanmean(s)))
    return null


def set_chance(result: PipelineScore, null: Sequence[float], pipeline: str, n: int) -> None:
    """Record a permutation null distribution (its mean and 95th percentile) on a result."""
    result.chance = float(np.mean(null))
    result.chance_p95 = float(np.percentile(null, 95))
    result.chance_pipeline = pipeline
    result.n_permutations = int(n)


def _evaluate(
    source: EpochSource,
    pipelines: Sequence[str],
    *,
    paradigm: str,
    dataset: str,
    subject: str | None,
    band: tuple[float, float],
    n_folds: int,
    seed: int,
    n_permutations: int,
    chance_pipeline: str | None,
    params: dict[str, Any] | None,
    progress: bool,
    reference: Callable[[str, str], dict[str, Any] | None] | None,
) -> tuple[list[PipelineScore], dict[str, Any]]:
    from tqdm.auto import tqdm

    specs = [get_pipeline(p) for p in pipelines]
    if not specs:
        raise DataError("No pipeline to evaluate")
    protocol_band = (float(band[0]), float(band[1]))
    cache: dict[tuple[float, float], tuple[np.ndarray, np.ndarray, dict[str, Any]]] = {}

    def epochs_in(b: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        key = (float(b[0]), float(b[1]))
        if key not in cache:
            X, y, meta = source(key)
            Xv, yv = validate_epochs(X, y)
            if yv is None:  # pragma: no cover - y was given
                raise DataError("The epoch source returned no labels")
            cache[key] = (Xv, yv, meta)
        return cache[key]

    first = specs[0].band if specs[0].fixed_band else protocol_band
    _, y0, _ = epochs_in(first)
    folds = make_folds(y0, n_folds, seed)
    names = [s.name for s in specs]
    chance_name = None
    if n_permutations > 0:
        chance_name = chance_pipeline if chance_pipeline in names else names[0]
    total = len(specs) * len(folds) + (n_permutations * len(folds) if chance_name else 0)
    bar = tqdm(total=total, desc=f"{subject or dataset} {paradigm}", disable=not progress)
    results: list[PipelineScore] = []
    oofs: dict[str, np.ndarray] = {}
    try:
        for spec in specs:
            b = spec.band if spec.fixed_band else protocol_band
            X, y, meta = epochs_in(b)
            if not np.array_equal(y, y0):
                raise DataError(
                    f"Epochs filtered in {b} Hz do not have the same trials as in {first} Hz; "
                    "cannot use identical folds"
                )
            bar.set_postfix_str(spec.name)
            result, oofs[spec.name] = score_pipeline(
                spec.name,
                X,
                y,
                meta,
                folds,
                paradigm=paradigm,
                dataset=dataset,
                subject=subject,
                seed=seed,
                band=b,
                params=params,
                reference=reference,
                on_fold=bar.update,
            )
            results.append(result)
        if chance_name:
            bar.set_postfix_str(f"chance ({chance_name})")
            cspec = get_pipeline(chance_name)
            X, y, meta = epochs_in(cspec.band if cspec.fixed_band else protocol_band)
            chance = chance_level(
                chance_name,
                X,
                y,
                meta,
                folds,
                n_permutations=n_permutations,
                seed=seed,
                params=params,
                on_fold=bar.update,
            )
            for r in results:
                set_chance(r, chance, chance_name, n_permutations)
    finally:
        bar.close()
    return results, {"epochs": cache, "oof": oofs, "folds": folds}
