"""The in-memory recording: continuous EEG with its markers, as every reader returns it.

A leaf module (numpy and :mod:`bci.errors` only; MNE is imported inside :meth:`Recording.to_raw`)
so that :mod:`bci.streams` (replay), :mod:`bci.datasets` and the readers of
:mod:`bci.recordings` share it without importing each other.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bci.errors import DataError

__all__ = ["MNE_TYPES", "Recording", "XDFStream"]

logger = logging.getLogger(__name__)

#: Channel types MNE knows; other types become ``misc`` in :meth:`Recording.to_raw`.
MNE_TYPES = {"eeg", "eog", "ecg", "emg", "seeg", "ecog", "dbs", "bio", "misc", "resp", "gsr"}


@dataclass
class XDFStream:
    """One stream of an XDF file other than the EEG stream.

    Attributes
    ----------
    name, type : str
    sfreq : float
        Nominal rate (0 for irregular streams).
    ch_names : list of str
    channel_format : str
    data : ndarray, shape (n_samples, n_channels), or list of lists of str
        Numeric samples, or string samples for string streams.
    timestamps : ndarray, shape (n_samples,)
        On the same clock as :attr:`Recording.timestamps`.
    is_marker : bool
        Whether its values were merged into :attr:`Recording.markers`.
    info : dict
        The stream header as pyxdf parsed it.
    """

    name: str
    type: str
    sfreq: float
    ch_names: list[str]
    channel_format: str
    data: Any
    timestamps: np.ndarray
    is_marker: bool = False
    info: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_samples(self) -> int:
        return len(self.timestamps)


@dataclass
class Recording:
    """A continuous EEG recording with its markers.

    Attributes
    ----------
    data : ndarray, shape (n_channels, n_times)
        float64, microvolts.
    sfreq : float
        Nominal sampling rate in Hz.
    ch_names : list of str
    timestamps : ndarray, shape (n_times,)
        float64 seconds: the file's own clock (LSL clock for XDF, Unix time for CSV exports)
        or ``i / sfreq`` when the format has none.
    markers : list of (float, str)
        Events ``(t, value)`` on the clock of :attr:`timestamps`, sorted by time.
    source : Path or None
        The file read.
    format : str
        ``xdf``, ``fif``, ``edf``, ``bdf``, ``gdf``, ``brainvision``, ``openbci-csv``,
        ``muselsl-csv``, ``csv`` or ``memory``.
    ch_types : list of str
        MNE channel type per channel (``eeg`` unless the file says otherwise).
    extra_streams : list of XDFStream
        XDF streams other than the EEG stream (markers, predictions, accelerometer...).
    """

    data: np.ndarray
    sfreq: float
    ch_names: list[str]
    timestamps: np.ndarray
    markers: list[tuple[float, str]] = field(default_factory=list)
    source: Path | None = None
    format: str = "memory"
    ch_types: list[str] = field(default_factory=list)
    extra_streams: list[XDFStream] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.data = np.asarray(self.data, dtype=np.float64)
        self.timestamps = np.asarray(self.timestamps, dtype=np.float64)
        where = f" ({self.source})" if self.source else ""
        if self.data.ndim != 2:
            raise DataError(f"Recording data must be (n_channels, n_times), got {self.data.shape}")
        if len(self.ch_names) != self.data.shape[0]:
            raise DataError(
                f"Recording{where}: {len(self.ch_names)} channel names for "
                f"{self.data.shape[0]} channels"
            )
        if self.timestamps.shape != (self.data.shape[1],):
            raise DataError(
                f"Recording{where}: timestamps must have shape ({self.data.shape[1]},), "
                f"got {self.timestamps.shape}"
            )
        if not (np.isfinite(self.sfreq) and self.sfreq > 0):
            raise DataError(f"Recording{where}: sfreq must be > 0, got {self.sfreq}")
        if not self.ch_types:
            self.ch_types = ["eeg"] * len(self.ch_names)
        self.markers = sorted(((float(t), str(v)) for t, v in self.markers), key=lambda m: m[0])

    @property
    def n_channels(self) -> int:
        return int(self.data.shape[0])

    @property
    def n_times(self) -> int:
        return int(self.data.shape[1])

    @property
    def duration(self) -> float:
        """Seconds covered, ``n_times / sfreq``."""
        return self.n_times / self.sfreq

    def to_raw(self) -> Any:
        """An ``mne.io.RawArray`` in volts, markers as annotations (onsets from the first sample).

        Returns
        -------
        raw : mne.io.RawArray
        """
        import mne

        types = [t if t in MNE_TYPES else "misc" for t in self.ch_types]
        info = mne.create_info(list(self.ch_names), self.sfreq, types)
        raw = mne.io.RawArray(self.data * 1e-6, info, verbose="error")
        if self.markers:
            t0 = float(self.timestamps[0]) if self.n_times else 0.0
            onsets = np.array([t - t0 for t, _ in self.markers])
            keep = (onsets >= 0) & (onsets <= self.n_times / self.sfreq)
            if not keep.all():
                logger.info("%d markers outside the data are not annotated", int((~keep).sum()))
            raw.set_annotations(
                mne.Annotations(
                    onsets[keep],
                    np.zeros(int(keep.sum())),
                    [v for (_, v), k in zip(self.markers, keep, strict=True) if k],
                )
            )
        return raw

    def events(
        self, event_id: Mapping[str, int] | None = None, *, on_unknown: str = "ignore"
    ) -> tuple[np.ndarray, dict[str, int]]:
        """Markers as an MNE events array (sample of the nearest timestamp, 0, code).

        Parameters
        ----------
        event_id : mapping of str to int, optional
            Marker value -> event code. Default: the sorted distinct values -> 1, 2, ...
        on_unknown : {"ignore", "raise"}
            What to do with markers that ``event_id`` does not name.

        Returns
        -------
        events : ndarray, shape (n_events, 3), int64
            Sample index (0 = first sample of :attr:`data`), 0, code.
        event_id : dict of str to int
        """
        if on_unknown not in ("ignore", "raise"):
            raise ValueError(f"on_unknown must be 'ignore' or 'raise', got {on_unknown!r}")
        if event_id is None:
            event_id = {v: i + 1 for i, v in enumerate(sorted({v for _, v in self.markers}))}
        event_id = {str(k): int(v) for k, v in event_id.items()}
        unknown = sorted({v for _, v in self.markers} - set(event_id))
        if unknown and on_unknown == "raise":
            raise DataError(
                f"Markers {unknown} of {self.source or 'the recording'} are not in event_id; "
                f"known: {sorted(event_id)}"
            )
        rows = []
        ts = self.timestamps
        for t, v in self.markers:
            if v not in event_id or self.n_times == 0:
                continue
            if t < ts[0] - 0.5 / self.sfreq or t > ts[-1] + 0.5 / self.sfreq:
                logger.info("marker %r at %.3f is outside the data; skipped", v, t)
                continue
            i = int(np.searchsorted(ts, t))
            if i == len(ts) or (i > 0 and t - ts[i - 1] <= ts[i] - t):
                i -= 1
            rows.append((i, 0, event_id[v]))
        events = np.array(rows, dtype=np.int64).reshape(-1, 3)
        return events, event_id

    def __repr__(self) -> str:
        src = f", source={str(self.source)!r}" if self.source else ""
        return (
            f"Recording({self.format}, {self.n_channels} ch x {self.n_times} samples "
            f"@ {self.sfreq:g} Hz, {len(self.markers)} markers{src})"
        )
