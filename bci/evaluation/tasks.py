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
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from bci.errors import DataError

__all__ = [
    "MOTOR_CHANNELS",
    "TRANSFER_PIPELINES",
    "DataSpec",
    "Task",
    "load_epochs",
    "run_task",
    "within_tasks",
]

#: The 21 sensorimotor channels (FC, C and CP rows, 5 to 6) used by the transfer protocols.
MOTOR_CHANNELS = (
    *("FC5", "FC3", "FC1", "FCz", "FC2", "FC4", "FC6"),
    *("C5", "C3", "C1", "Cz", "C2", "C4", "C6"),
    *("CP5", "CP3", "CP1", "CPz", "CP2", "CP4", "CP6"),
)

#: Within-session entries that also train on the other subjects, aligned (``tl-`` + method).
TRANSFER_PIPELINES = ("tl-recenter", "tl-rpa")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataSpec:
    """Where one subject's epochs come from (all plain values: cheap to ship to a worker).

    Attributes
    ----------
    subject : int
        eegbci subject (1..109).
    paradigm : str
        eegbci paradigm name.
    data_path : str or None
        Folder in MNE's eegbci layout, resolved on the client (None: MNE's default).
    tmin, tmax : float
        Epoch window after the cue (s).
    notch : float or None
    channels : tuple of str or None
        Channels to keep, in this order (None: all 64).
    dataset : str
        Only ``"eegbci"`` today.
    """

    subject: int
    paradigm: str
    data_path: str | None
    tmin: float = 0.0
    tmax: float = 3.0
    notch: float | None = None
    channels: tuple[str, ...] | None = None
    dataset: str = "eegbci"

    @property
    def label(self) -> str:
        """``S001``."""
        return f"S{self.subject:03d}"


@lru_cache(maxsize=64)
def load_epochs(
    spec: DataSpec, band: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Epochs of one subject in ``band`` (cached per process; do not modify the arrays).

    Returns
    -------
    X : ndarray, shape (n_epochs, n_channels, n_times), µV
    y : ndarray of str, shape (n_epochs,)
        In time order (runs in order, cues in order).
    meta : dict
        As :func:`bci.datasets.load_eegbci_epochs`; ``ch_names`` follow ``spec.channels``.

    Raises
    ------
    DataError
        Unknown dataset, missing files, or a named channel is not in the recording.
    """
    from bci.datasets import load_eegbci_epochs

    if spec.dataset != "eegbci":
        raise DataError(f"dataset must be 'eegbci', got {spec.dataset!r}")
    X, y, meta = load_eegbci_epochs(
        spec.subject, spec.paradigm, spec.data_path, band, spec.tmin, spec.tmax, spec.notch
    )
    if spec.channels is not None:
        names = list(meta["ch_names"])
        missing = [c for c in spec.channels if c not in names]
        if missing:
            raise DataError(f"channels: {missing} not in {spec.label}'s recording (it has {names})")
        idx = [names.index(c) for c in spec.channels]
        X = X[:, idx, :]
        meta = {**meta, "ch_names": list(spec.channels)}
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y, meta


@dataclass(frozen=True)
class Task:
    """One unit of evaluation work (picklable, no arrays).

    Attributes
    ----------
    kind : {"within", "chance", "cross-subject", "calibration-curve"}
    data : DataSpec
        The subject scored (the target, for the transfer protocols).
    pipeline : str
        Pipeline name (``within``/``chance``) or alignment method (transfer protocols).
    band : (float, float)
        Band-pass of the epochs (Hz).
    n_folds, seed : int
    n_permutations : int
        ``chance`` only.
    params : tuple of (str, object)
        Pipeline parameters (sorted items, hashable).
    sources : tuple of DataSpec
        Transfer protocols: the other subjects.
    trials : tuple of int
        ``calibration-curve``: labelled trials per class.
    """

    kind: str
    data: DataSpec
    pipeline: str
    band: tuple[float, float] = (8.0, 32.0)
    n_folds: int = 5
    seed: int = 42
    n_permutations: int = 0
    params: tuple[tuple[str, Any], ...] = ()
    sources: tuple[DataSpec, ...] = field(default=())
    trials: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        """``S003 ts-lr`` (with ``chance`` for chance tasks): how errors name the task."""
        extra = " chance" if self.kind == "chance" else ""
        return f"{self.data.label} {self.pipeline}{extra}"


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


Epochs = tuple[np.ndarray, np.ndarray, dict[str, Any]]


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

    BLAS is limited to one thread (small matrices; a worker per core) and MNE to errors.

    Returns
    -------
    result : dict
        ``within``: ``{"score": PipelineScore.to_dict()}``; ``chance``: ``{"null": [...]}``;
        transfer protocols: ``{"rows": [...]}``.
    """
    import mne
    from threadpoolctl import threadpool_limits

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
