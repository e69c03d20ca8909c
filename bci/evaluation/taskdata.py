"""What evaluation tasks are made of: the data a task names, the task itself, the loader.

A leaf of :mod:`bci.evaluation` so that :mod:`bci.evaluation.tasks` (which runs tasks) and
:mod:`bci.evaluation.transfer` (whose task kinds it runs) both import it without importing
each other.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import numpy as np

from bci.errors import DataError

__all__ = [
    "MOTOR_CHANNELS",
    "TRANSFER_PIPELINES",
    "DataSpec",
    "Epochs",
    "Task",
    "load_epochs",
    "plain_heap",
]

#: The 21 sensorimotor channels (FC, C and CP rows, 5 to 6) used by the transfer protocols.
MOTOR_CHANNELS = (
    *("FC5", "FC3", "FC1", "FCz", "FC2", "FC4", "FC6"),
    *("C5", "C3", "C1", "Cz", "C2", "C4", "C6"),
    *("CP5", "CP3", "CP1", "CPz", "CP2", "CP4", "CP6"),
)

#: Within-session entries that also train on the other subjects, aligned (``tl-`` + method).
TRANSFER_PIPELINES = ("tl-recenter", "tl-rpa")


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


#: What :func:`load_epochs` returns: (X, y, metadata).
Epochs = tuple[np.ndarray, np.ndarray, dict[str, Any]]


@cache
def plain_heap() -> bool:
    """Give a Dask worker the heap of a plain Python process (once per process).

    A Dask nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also turns
    off glibc's dynamic mmap threshold: every NumPy temporary over 128 KiB is then a fresh
    ``mmap``, zeroed page by page, and freed back at once. Measured on S001's 5-permutation
    chance task: 585,057 minor page faults instead of 31, and 14.1 s instead of 11.1 s (the
    whole 2-worker evaluation ran ~25% more CPU than the same tasks in one process). Where
    that variable is set, the thresholds a plain process settles at (32 MiB mmap, 64 MiB
    trim) are set back with ``mallopt``; a worker then keeps up to 64 MiB of freed heap.

    Returns True when the thresholds were changed.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(
        libc.mallopt(m_trim_threshold, 64 << 20)
    )


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

    plain_heap()
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
    permutations : (int, int) or ()
        ``chance`` only: score permutations ``start..stop-1`` of the ``n_permutations`` (a part
        of a chance task split over workers; empty: all).
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
    permutations: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        """``S003 ts-lr`` (with ``chance`` for chance tasks): how errors name the task."""
        extra = " chance" if self.kind == "chance" else ""
        return f"{self.data.label} {self.pipeline}{extra}"
