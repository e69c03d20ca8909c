"""Evaluation work as small picklable tasks: parameters and paths in, plain results out.

A task names its data (dataset, subject, paradigm, folder, epoch window) instead of carrying
arrays, so a Dask worker on another machine loads the data itself; a per-process cache keeps
one worker from reading the same subject twice. The serial run and the distributed run call
the same :func:`run_task` on the same tasks, so with the same seed they give the same numbers.

Task kinds
----------
``within``
    One pipeline on one subject, the within-session protocol (stratified k-fold, shared
    folds drawn from the labels with the seed).
``chance``
    The permutation chance level of one pipeline on one subject (same folds).
``cross-subject`` / ``calibration-curve``
    One target subject and one alignment method, see :mod:`bci.evaluation.transfer`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from bci.errors import DataError
from bci.evaluation.taskdata import (
    MOTOR_CHANNELS,
    TRANSFER_PIPELINES,
    DataSpec,
    Epochs,
    Task,
    load_epochs,
    plain_heap,
)

__all__ = [
    "MOTOR_CHANNELS",
    "TRANSFER_PIPELINES",
    "DataSpec",
    "Task",
    "load_epochs",
    "run_task",
    "within_tasks",
]

logger = logging.getLogger(__name__)


def within_tasks(
    data: Sequence[DataSpec],
    pipelines: Sequence[str],
    *,
    band: tuple[float, float],
    n_folds: int,
    seed: int,
    n_permutations: int,
    chance_pipeline: str | None = "ts-lr",
    params: dict[str, Any] | None = None,
    transfer: Sequence[str] = (),
) -> list[Task]:
    """The within-session tasks: every (subject, pipeline), then each subject's chance level.

    ``transfer`` names entries of :data:`TRANSFER_PIPELINES`: per subject, the same folds with
    the other subjects (on :data:`MOTOR_CHANNELS`, aligned) added to every training fold.
    """
    from dataclasses import replace

    from bci.decoders import get_pipeline

    unknown = [t for t in transfer if t not in TRANSFER_PIPELINES]
    if unknown:
        raise DataError(
            f"Unknown transfer pipeline {unknown[0]!r}. Must be one of: "
            + ", ".join(TRANSFER_PIPELINES)
        )
    if transfer and len(data) < 2:
        raise DataError(f"{', '.join(transfer)} train on the other subjects: give >= 2 subjects")
    motor = [replace(d, channels=MOTOR_CHANNELS) for d in data]
    specs = [get_pipeline(p) for p in pipelines]
    if not specs:
        raise DataError("No pipeline to evaluate")
    names = [s.name for s in specs]
    chance = None
    if n_permutations > 0:
        chance = chance_pipeline if chance_pipeline in names else names[0]
    items = tuple(sorted((params or {}).items()))
    tasks = []
    for d in data:
        for s in specs:
            b = s.band if s.fixed_band else band
            tasks.append(Task("within", d, s.name, b, n_folds, seed, 0, items))
        for name in transfer:
            m = motor[data.index(d)]
            others = tuple(o for o in motor if o != m)
            tasks.append(Task("within-transfer", m, name, band, n_folds, seed, sources=others))
        if chance is not None:
            c = get_pipeline(chance)
            b = c.band if c.fixed_band else band
            tasks.append(Task("chance", d, c.name, b, n_folds, seed, n_permutations, items))
    return tasks


def _folds(
    task: Task, epochs: Epochs | None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any], list[Any]]:
    from bci.evaluation.protocol import make_folds

    X, y, meta = epochs if epochs is not None else load_epochs(task.data, task.band)
    return X, y, meta, make_folds(y, task.n_folds, task.seed)


def run_task(task: Task, epochs: Epochs | None = None) -> dict[str, Any]:
    """Run one task where it is called (in-process or on a Dask worker).

    ``epochs`` (``within``/``chance`` only) is ``load_epochs(task.data, task.band)`` when
    the caller already has it (a Dask future resolved on the worker that loaded it);
    otherwise the task loads its data itself.

    BLAS is limited to one thread (small matrices; a worker per core) and MNE to errors; in a
    Dask worker the heap is set back to a plain process's (:func:`plain_heap`).

    Returns
    -------
    result : dict
        ``within``: ``{"score": PipelineScore.to_dict()}``; ``chance``: ``{"null": [...]}``;
        transfer protocols: ``{"rows": [...]}``.
    """
    import mne
    from threadpoolctl import threadpool_limits

    plain_heap()
    with threadpool_limits(limits=1, user_api="blas"), mne.utils.use_log_level("error"):
        return _run(task, epochs)


def _within_transfer(task: Task) -> Any:
    """``tl-recenter``/``tl-rpa``: within-session folds, each also trained on the aligned
    other subjects (see :func:`bci.evaluation.transfer.within_transfer_folds`)."""
    import time

    from bci.evaluation.protocol import make_folds, make_score
    from bci.evaluation.transfer import subject_covariances, within_transfer_folds

    Ct, yt = subject_covariances(task.data, task.band)
    sources = [subject_covariances(s, task.band) for s in task.sources]
    folds = make_folds(yt, task.n_folds, task.seed)  # the same folds as every pipeline's
    t0 = time.perf_counter()
    scores, oof, classes = within_transfer_folds(
        task.pipeline.removeprefix("tl-"), sources, np.array(Ct), yt, folds
    )
    return make_score(
        task.pipeline,
        yt,
        scores,
        oof,
        classes,
        paradigm=task.data.paradigm,
        dataset=task.data.dataset,
        subject=task.data.label,
        n_channels=int(Ct.shape[1]),
        band=task.band,
        tmin=task.data.tmin,
        tmax=task.data.tmax,
        seed=task.seed,
        fit_time_s=(time.perf_counter() - t0) / len(folds),
    )


def _run(task: Task, epochs: Epochs | None) -> dict[str, Any]:
    from bci.evaluation.protocol import chance_level, score_pipeline

    params = dict(task.params)
    if task.kind == "within":
        from bci.evaluation.reference import moabb_reference

        X, y, meta, folds = _folds(task, epochs)
        result, _ = score_pipeline(
            task.pipeline,
            X,
            y,
            meta,
            folds,
            paradigm=task.data.paradigm,
            dataset=task.data.dataset,
            subject=task.data.label,
            seed=task.seed,
            band=task.band,
            params=params,
            reference=lambda p, par: moabb_reference(p, par, task.data.dataset),
        )
        return {"score": result.to_dict()}
    if task.kind == "chance":
        X, y, meta, folds = _folds(task, epochs)
        null = chance_level(
            task.pipeline,
            X,
            y,
            meta,
            folds,
            n_permutations=task.n_permutations,
            seed=task.seed,
            params=params,
            only=(task.permutations[0], task.permutations[1]) if task.permutations else None,
        )
        return {"null": null}
    if task.kind == "within-transfer":
        return {"score": _within_transfer(task).to_dict()}
    if task.kind in ("cross-subject", "calibration-curve"):
        from bci.evaluation.transfer import run_transfer_task

        return {"rows": run_transfer_task(task)}
    raise DataError(
        "task kind must be 'within', 'within-transfer', 'chance', 'cross-subject' or "
        f"'calibration-curve', "
        f"got {task.kind!r}"
    )
