"""The replay material of one eegmmidb subject for the adaptation experiment.

Split from :mod:`bci.evaluation.adaptation` so that the simulation there and the engine replay
in :mod:`bci.evaluation.adaptation_engine` share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bci.decoders.recentering import Recentering
from bci.errors import DataError

__all__ = ["MOTOR_CHANNELS", "SubjectData", "load_subject"]

#: The 21 sensorimotor channels (FC, C and CP rows, 5 to 6) of the cross-subject protocols.
MOTOR_CHANNELS = (
    *("FC5", "FC3", "FC1", "FCz", "FC2", "FC4", "FC6"),
    *("C5", "C3", "C1", "Cz", "C2", "C4", "C6"),
    *("CP5", "CP3", "CP1", "CPz", "CP2", "CP4", "CP6"),
)
RUNS = (4, 8, 12)
EVENT_MAP = {"T1": "left", "T2": "right"}


@dataclass
class SubjectData:
    """One subject's replay material, in stream order.

    Attributes
    ----------
    upd_covs : ndarray, shape (n_updates, n_channels, n_channels)
        Covariances of the windows ending every ``update_s`` (unlabelled stream).
    upd_block : ndarray of int, shape (n_updates,)
        Trial block each update window ends in (-1: before the run's first cue).
    trial_covs : ndarray, shape (n_trials, n_channels, n_channels)
        Decision windows ``[cue + tmin, cue + tmax)``.
    y : ndarray of str, shape (n_trials,)
    upd_pos, trial_pos : ndarray of int
        End sample of each window in the concatenated recording (orders events in a block).
    raw_runs : list of (ndarray, list of (int, str))
        Each run unfiltered (n_channels, n_times) in µV with its (cue sample, label) events,
        for the replay through the online engine.
    """

    subject: int
    upd_covs: np.ndarray
    upd_block: np.ndarray
    upd_pos: np.ndarray
    trial_covs: np.ndarray
    trial_pos: np.ndarray
    y: np.ndarray
    sfreq: float
    raw_runs: list[tuple[np.ndarray, list[tuple[int, str]]]] = field(default_factory=list)

    @property
    def reference(self) -> np.ndarray:
        """The whole-recording mean of the unlabelled windows (sources' and oracle's)."""
        return np.asarray(Recentering().fit(self.upd_covs).reference_)


def _covariances(windows: np.ndarray) -> np.ndarray:
    from pyriemann.estimation import Covariances

    return np.asarray(Covariances(estimator="oas").transform(windows))


def load_subject(
    subject: int,
    *,
    path: str | Path | None = None,
    band: tuple[float, float] = (8.0, 32.0),
    tmin: float = 0.0,
    tmax: float = 3.0,
    update_s: float = 0.5,
) -> SubjectData:
    """Filter each imagined left/right run causally and cut its windows.

    Raises
    ------
    DataError
        The subject's files are missing or lack a motor channel.
    """
    from bci.datasets.eegbci import load_raw
    from bci.datasets.epochs import find_events
    from bci.signal.filters import filter_continuous

    n_win = None
    upd, upd_block, upd_pos, trials, trial_pos, labels = [], [], [], [], [], []
    raw_runs = []
    offset, n_trials, sfreq = 0, 0, 0.0
    for run in RUNS:
        raw = load_raw(subject, [run], path=path)
        missing = [c for c in MOTOR_CHANNELS if c not in raw.ch_names]
        if missing:
            raise DataError(f"eegbci subject {subject} run {run} lacks channels {missing}")
        sfreq = float(raw.info["sfreq"])
        data = raw.copy().pick(list(MOTOR_CHANNELS)).get_data() * 1e6
        raw_runs.append((data, sorted(find_events(raw, EVENT_MAP))))
        data = filter_continuous(data, sfreq, band[0], band[1])
        n_win = round((tmax - tmin) * sfreq)
        events = sorted(find_events(raw, EVENT_MAP))
        cues = np.array([s for s, _ in events])
        step = round(update_s * sfreq)
        ends = np.arange(n_win, data.shape[1] + 1, step)
        upd.append(_covariances(np.stack([data[:, e - n_win : e] for e in ends])))
        # block of an update window: the last cue at or before its end (before a run's
        # first cue: the previous run's last trial, or -1 at the very start)
        upd_block.append(np.searchsorted(cues, ends, side="right") - 1 + n_trials)
        upd_pos.append(ends + offset)
        for s, lab in events:
            a = s + round(tmin * sfreq)
            if a < 0 or a + n_win > data.shape[1]:
                raise DataError(
                    f"eegbci subject {subject} run {run}: the trial at sample {s} does not "
                    f"fit a [{tmin}, {tmax}) s window in the run"
                )
            trials.append(data[:, a : a + n_win])
            trial_pos.append(a + n_win + offset)
            labels.append(lab)
        n_trials += len(events)
        offset += data.shape[1]
    return SubjectData(
        subject=int(subject),
        upd_covs=np.concatenate(upd),
        upd_block=np.concatenate(upd_block),
        upd_pos=np.concatenate(upd_pos),
        trial_covs=_covariances(np.stack(trials)),
        trial_pos=np.asarray(trial_pos),
        y=np.asarray(labels),
        sfreq=sfreq,
        raw_runs=raw_runs,
    )
