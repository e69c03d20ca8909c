"""Read a recording from disk into one :class:`Recording` (continuous EEG + markers).

Formats: XDF (``.xdf``, ``.xdfz``; every stream, through pyxdf), FIF, EDF, BDF, GDF and
BrainVision (through MNE: annotations and stim channels become markers), and the CSV exports
of consumer headsets: OpenBCI GUI (``OpenBCI_GUI-v5-*.txt``/``.csv``, ``%`` header lines) and
muselsl (``timestamps,TP9,AF7,AF8,TP10,Right AUX``).

Every reader returns data in microvolts with a timestamp per sample and markers on the same
clock, so replay, the pseudo-online engine and offline evaluation see the same thing.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bci.errors import DataError
from bci.units import unit_scales

__all__ = ["SUPPORTED_EXTENSIONS", "Recording", "XDFStream", "read_recording"]

logger = logging.getLogger(__name__)

#: File endings :func:`read_recording` understands, with the reader used for each.
SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".xdf": "xdf",
    ".xdfz": "xdf",
    ".xdf.gz": "xdf",
    ".fif": "fif",
    ".fif.gz": "fif",
    ".edf": "edf",
    ".bdf": "bdf",
    ".gdf": "gdf",
    ".vhdr": "brainvision",
    ".csv": "csv",
    ".txt": "csv",
}

_MARKER_TYPES = {"markers", "marker", "events", "event", "stim", "stimulus", "trigger"}
_COMMON_RATES = (100, 125, 128, 160, 200, 250, 256, 300, 500, 512, 1000, 1024, 2000, 2048)


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

        types = [t if t in _MNE_TYPES else "misc" for t in self.ch_types]
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


_MNE_TYPES = {"eeg", "eog", "ecg", "emg", "seeg", "ecog", "dbs", "bio", "misc", "resp", "gsr"}


# ---------------------------------------------------------------------------- dispatch
def _extension(path: Path) -> str:
    name = path.name.lower()
    for ext in sorted(SUPPORTED_EXTENSIONS, key=len, reverse=True):
        if name.endswith(ext):
            return ext
    return path.suffix.lower()


def read_recording(path: str | Path) -> Recording:
    """Read any supported recording.

    Parameters
    ----------
    path : path
        A ``.xdf``/``.xdfz``, ``.fif``, ``.edf``, ``.bdf``, ``.gdf``, ``.vhdr``, or a CSV
        export (``.csv``/``.txt``) of OpenBCI GUI or muselsl.

    Returns
    -------
    recording : Recording

    Raises
    ------
    DataError
        Unknown extension (the message lists the supported ones), missing, empty, truncated
        or corrupt file (the message names the file and what failed), or an XDF without an
        EEG stream.
    """
    p = Path(path)
    ext = _extension(p)
    kind = SUPPORTED_EXTENSIONS.get(ext)
    if kind is None:
        raise DataError(
            f"Unsupported recording format {ext or '(no extension)'!r} for {p}. Supported: "
            f"{', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if not p.is_file():
        raise DataError(f"Recording {p} does not exist or is not a file")
    if p.stat().st_size == 0:
        raise DataError(f"Recording {p} is empty (0 bytes)")
    if kind == "xdf":
        return _read_xdf(p)
    if kind == "csv":
        return _read_csv(p)
    return _read_mne(p, kind)


# ---------------------------------------------------------------------------- MNE formats
def _read_mne(path: Path, kind: str) -> Recording:
    import mne

    readers = {
        "fif": mne.io.read_raw_fif,
        "edf": mne.io.read_raw_edf,
        "bdf": mne.io.read_raw_bdf,
        "gdf": mne.io.read_raw_gdf,
        "brainvision": mne.io.read_raw_brainvision,
    }
    try:
        # MNE reads a file cut short (header promises more records than the file holds) up to
        # its end with a warning: keep that, as for XDF, and say it in our log with the name.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = readers[kind](path, preload=True, verbose="warning")
    except Exception as exc:  # each MNE reader raises its own errors on bad files
        raise DataError(
            f"Cannot read {path} as {kind.upper()}: {type(exc).__name__}: {exc}"
        ) from exc
    for w in caught:
        logger.warning("%s: %s", path, w.message)
    return recording_from_raw(raw, source=path, fmt=kind)


def recording_from_raw(raw: Any, source: Path | None = None, fmt: str = "memory") -> Recording:
    """Turn an ``mne.io.Raw`` into a :class:`Recording`.

    Channels measured in volts (EEG, EOG, ECG, EMG...) are kept and converted to microvolts;
    stim channels become markers (``mne.find_events``, value = the event code), and so do
    annotations (value = description, onset from the first sample).
    """
    import mne
    from mne.io.constants import FIFF

    sfreq = float(raw.info["sfreq"])
    types = raw.get_channel_types()
    stim = [i for i, t in enumerate(types) if t == "stim"]
    keep = [
        i
        for i, (t, ch) in enumerate(zip(types, raw.info["chs"], strict=True))
        if t != "stim" and ch["unit"] == FIFF.FIFF_UNIT_V
    ]
    dropped = [raw.ch_names[i] for i in range(len(types)) if i not in keep and i not in stim]
    if dropped:
        logger.info("%s: channels not in volts are left out: %s", source, dropped)
    if not keep:
        raise DataError(f"Recording {source}: no EEG channel (channels: {raw.ch_names})")
    data = raw.get_data(picks=keep) * 1e6
    n_times = data.shape[1]
    if n_times == 0:
        raise DataError(f"Recording {source} has no samples")
    markers: list[tuple[float, str]] = []
    ann = raw.annotations
    for onset, desc in zip(ann.onset, ann.description, strict=True):
        # Rounded to the nanosecond: the subtraction leaves float noise (1.4 - 0.4 != 1.0).
        markers.append((round(float(onset - raw.first_time), 9), str(desc)))
    if stim:
        try:
            ev = mne.find_events(
                raw,
                stim_channel=[raw.ch_names[i] for i in stim],
                shortest_event=1,
                initial_event=True,
                consecutive=True,
                verbose="error",
            )
        except Exception as exc:  # a stim channel with odd content must not hide the EEG
            logger.warning("%s: stim channel unreadable (%s); no markers from it", source, exc)
        else:
            for sample, _, code in ev:
                markers.append(((int(sample) - raw.first_samp) / sfreq, str(int(code))))
    return Recording(
        data=data,
        sfreq=sfreq,
        ch_names=[raw.ch_names[i] for i in keep],
        timestamps=np.arange(n_times) / sfreq,
        markers=markers,
        source=source,
        format=fmt,
        ch_types=[types[i] for i in keep],
    )


# ---------------------------------------------------------------------------- XDF
def _scan_xdf(path: Path) -> tuple[int, int, str | None]:
    """Walk the chunk lengths of an uncompressed XDF file without reading the content.

    Returns
    -------
    n_chunks : int
        Complete chunks.
    end : int
        Byte offset just after the last complete chunk.
    problem : str or None
        Why the walk stopped before the end of the file, if it did.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        if f.read(4) != b"XDF:":
            raise DataError(f"{path} is not an XDF file (it does not start with 'XDF:')")
        pos, n = 4, 0
        while pos < size:
            head = f.read(1)
            width = head[0] if head else 0
            if width not in (1, 4, 8):
                return n, pos, f"invalid chunk length byte {width} at byte {pos}"
            raw = f.read(width)
            if len(raw) < width:
                return n, pos, f"file ends inside a chunk header at byte {pos}"
            length = int.from_bytes(raw, "little")
            end = pos + 1 + width + length
            if length < 2:
                return n, pos, f"invalid chunk length {length} at byte {pos}"
            if end > size:
                return (
                    n,
                    pos,
                    f"file ends inside a chunk at byte {pos} ({end - size} bytes missing)",
                )
            (tag,) = struct.unpack("<H", f.read(2))
            if not 1 <= tag <= 6:
                return n, pos, f"unknown chunk tag {tag} at byte {pos}"
            f.seek(end)
            pos, n = end, n + 1
        return n, pos, None


def _xdf_text(info: Mapping[str, Any], key: str, default: str = "") -> str:
    val = info.get(key)
    if isinstance(val, list):
        val = val[0] if val else None
    return default if val is None else str(val)


def _xdf_channels(info: Mapping[str, Any], n: int) -> tuple[list[str], list[str], list[str]]:
    """Channel labels, units and types from ``desc/channels/channel`` (defaults if absent)."""
    labels, units, types = [f"ch{i + 1}" for i in range(n)], [""] * n, [""] * n
    try:
        chans = info["desc"][0]["channels"][0]["channel"]
    except (KeyError, IndexError, TypeError):
        return labels, units, types
    if len(chans) != n:
        return labels, units, types
    for i, ch in enumerate(chans):
        if not isinstance(ch, Mapping):
            continue
        lab = _xdf_text(ch, "label") or _xdf_text(ch, "name")
        if lab:
            labels[i] = lab
        units[i] = _xdf_text(ch, "unit")
        types[i] = _xdf_text(ch, "type")
    return labels, units, types


def _read_xdf(path: Path) -> Recording:
    import pyxdf

    source: Any = path
    compressed = path.name.lower().endswith((".xdfz", ".gz"))
    if not compressed:
        n_chunks, end, problem = _scan_xdf(path)
        if problem is not None:
            logger.warning(
                "%s: %s; reading the %d complete chunks before it (a recording cut short, "
                "for example by a killed process)",
                path,
                problem,
                n_chunks,
            )
            with path.open("rb") as f:
                source = io.BytesIO(f.read(end))
    try:
        streams, _ = pyxdf.load_xdf(source, dejitter_timestamps=False)
    except Exception as exc:  # pyxdf raises IOError, ValueError, struct.error...
        raise DataError(f"Cannot read {path} as XDF: {type(exc).__name__}: {exc}") from exc
    if not streams:
        raise DataError(f"XDF file {path} has no streams")

    def describe(s: Mapping[str, Any]) -> str:
        i = s["info"]
        return (
            f"{_xdf_text(i, 'name')!r} (type {_xdf_text(i, 'type')!r}, "
            f"{_xdf_text(i, 'channel_count')} ch, {_xdf_text(i, 'nominal_srate')} Hz, "
            f"{_xdf_text(i, 'channel_format')})"
        )

    numeric = [
        s
        for s in streams
        if _xdf_text(s["info"], "channel_format") != "string"
        and float(_xdf_text(s["info"], "nominal_srate", "0")) > 0
    ]
    typed = [s for s in numeric if _xdf_text(s["info"], "type").upper() == "EEG"]
    candidates = typed or numeric
    if not candidates:
        raise DataError(
            f"No EEG stream in XDF file {path}: need a numeric stream of type EEG or with a "
            f"regular rate; found {', '.join(describe(s) for s in streams)}"
        )
    eeg = max(candidates, key=lambda s: int(_xdf_text(s["info"], "channel_count", "0")))
    info = eeg["info"]
    n_ch = int(_xdf_text(info, "channel_count"))
    ts = np.asarray(eeg["time_stamps"], dtype=np.float64)
    if ts.size == 0:
        raise DataError(f"EEG stream {describe(eeg)} of {path} has no samples")
    labels, units, types = _xdf_channels(info, n_ch)
    scales, unknown = unit_scales(units, n_ch)
    scale = np.asarray(scales)
    for i in unknown:
        if units[i]:
            logger.info(
                "%s: channel %s unit %r unknown; taken as microvolts", path, labels[i], units[i]
            )
    data = np.asarray(eeg["time_series"], dtype=np.float64).T * scale[:, None]

    string_streams = [s for s in streams if _xdf_text(s["info"], "channel_format") == "string"]
    typed_markers = [
        s for s in string_streams if _xdf_text(s["info"], "type").lower() in _MARKER_TYPES
    ]
    marker_streams = typed_markers or [
        s for s in string_streams if _xdf_text(s["info"], "type").lower() != "predictions"
    ]
    markers: list[tuple[float, str]] = []
    for s in marker_streams:
        for t, sample in zip(s["time_stamps"], s["time_series"], strict=True):
            markers.append((float(t), str(sample[0]) if len(sample) else ""))

    extra: list[XDFStream] = []
    for s in streams:
        if s is eeg:
            continue
        si = s["info"]
        n = int(_xdf_text(si, "channel_count", "0"))
        fmt = _xdf_text(si, "channel_format")
        extra.append(
            XDFStream(
                name=_xdf_text(si, "name"),
                type=_xdf_text(si, "type"),
                sfreq=float(_xdf_text(si, "nominal_srate", "0")),
                ch_names=_xdf_channels(si, n)[0],
                channel_format=fmt,
                data=s["time_series"] if fmt == "string" else np.asarray(s["time_series"]),
                timestamps=np.asarray(s["time_stamps"], dtype=np.float64),
                is_marker=any(s is m for m in marker_streams),
                info=dict(si),
            )
        )
    ch_types = [t.lower() if t.lower() in _MNE_TYPES else "eeg" for t in types]
    return Recording(
        data=data,
        sfreq=float(_xdf_text(info, "nominal_srate")),
        ch_names=labels,
        timestamps=ts,
        markers=markers,
        source=path,
        format="xdf",
        ch_types=ch_types,
        extra_streams=extra,
    )


# ---------------------------------------------------------------------------- CSV exports
def _snap_rate(rate: float) -> float:
    """The common headset rate within 2% of an estimate, else the estimate rounded."""
    for r in _COMMON_RATES:
        if abs(rate - r) <= 0.02 * r:
            return float(r)
    return float(round(rate, 3))


def _read_csv(path: Path) -> Recording:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc}") from exc
    comments = [ln for ln in lines if ln.startswith("%")]
    body = [ln for ln in lines if ln.strip() and not ln.startswith("%")]
    if not body:
        raise DataError(f"CSV recording {path} has no header line and no samples")
    header = [h.strip() for h in body[0].split(",")]
    rows = body[1:]
    lower = [h.lower() for h in header]
    if any(h.startswith("exg channel") for h in lower):
        return _read_openbci(path, comments, header, rows)
    if "timestamps" in lower or "timestamp" in lower:
        return _read_timestamped_csv(path, header, rows)
    raise DataError(
        f"Cannot tell the CSV layout of {path}: expected an OpenBCI GUI export (header "
        "'Sample Index, EXG Channel 0, ..., Timestamp') or a muselsl export (header "
        f"'timestamps,TP9,AF7,AF8,TP10,Right AUX'); got header {body[0][:200]!r}"
    )


def _parse_rows(path: Path, rows: list[str], cols: list[int], n_cols: int) -> np.ndarray:
    """The numeric columns ``cols`` of CSV ``rows`` as float64, shape (n_rows, len(cols))."""
    if not rows:
        raise DataError(f"CSV recording {path} has a header but no samples")
    try:  # fast path; the loop below finds and names the bad line if this fails
        out = np.loadtxt(rows, delimiter=",", usecols=cols, ndmin=2, dtype=np.float64)
        if all(line.count(",") >= n_cols - 1 for line in rows):
            return out
    except ValueError:
        pass
    out = np.empty((len(rows), len(cols)), dtype=np.float64)
    for r, line in enumerate(rows):
        parts = line.split(",")
        if len(parts) < n_cols:
            raise DataError(
                f"CSV recording {path}: line {r + 2} has {len(parts)} fields, the header has "
                f"{n_cols} (truncated file?)"
            )
        try:
            out[r] = [float(parts[c]) if parts[c].strip() else np.nan for c in cols]
        except ValueError as exc:
            raise DataError(f"CSV recording {path}: line {r + 2}: {exc}") from exc
    return out


def _read_openbci(path: Path, comments: list[str], header: list[str], rows: list[str]) -> Recording:
    lower = [h.lower() for h in header]
    exg = [i for i, h in enumerate(lower) if h.startswith("exg channel")]
    ts_col = lower.index("timestamp") if "timestamp" in lower else None
    marker_col = next((i for i, h in enumerate(lower) if h.startswith("marker")), None)
    sfreq = None
    for c in comments:
        m = re.search(r"sample rate\s*=\s*([0-9.]+)", c, re.IGNORECASE)
        if m:
            sfreq = float(m.group(1))
    # Rows may end with a formatted date that itself has no comma; only numeric cols are read.
    cols = exg + [c for c in (ts_col, marker_col) if c is not None]
    values = _parse_rows(path, rows, cols, max(cols) + 1)
    data = values[:, : len(exg)].T
    n = data.shape[1]
    if ts_col is not None:
        ts = values[:, len(exg)]
        if sfreq is None:
            sfreq = _rate_from_timestamps(path, ts)
    else:
        if sfreq is None:
            raise DataError(
                f"OpenBCI export {path} has neither a '%Sample Rate = N Hz' line nor a "
                "Timestamp column"
            )
        ts = np.arange(n) / sfreq
    markers: list[tuple[float, str]] = []
    if marker_col is not None:
        mv = values[:, -1]
        for i in np.flatnonzero(np.nan_to_num(mv) != 0):
            v = mv[i]
            markers.append((float(ts[i]), str(int(v)) if float(v).is_integer() else repr(v)))
    return Recording(
        data=data,
        sfreq=float(sfreq),
        ch_names=[header[i] for i in exg],
        timestamps=ts,
        markers=markers,
        source=path,
        format="openbci-csv",
    )


def _rate_from_timestamps(path: Path, ts: np.ndarray) -> float:
    d = np.diff(ts)
    d = d[d > 0]
    if d.size == 0:
        raise DataError(f"CSV recording {path}: cannot infer the sampling rate from timestamps")
    # Export timestamps come in bursts (one time per packet); the span is a robust estimate.
    rate = (ts.size - 1) / (ts[-1] - ts[0]) if ts[-1] > ts[0] else 1.0 / float(np.median(d))
    return _snap_rate(rate)


def _read_timestamped_csv(path: Path, header: list[str], rows: list[str]) -> Recording:
    lower = [h.lower() for h in header]
    ts_col = lower.index("timestamps") if "timestamps" in lower else lower.index("timestamp")
    marker_cols = [i for i, h in enumerate(lower) if h.startswith("marker")]
    ch_cols = [i for i in range(len(header)) if i != ts_col and i not in marker_cols]
    if not ch_cols:
        raise DataError(f"CSV recording {path} has a timestamp column but no channel columns")
    values = _parse_rows(path, rows, [ts_col, *ch_cols], len(header) - len(marker_cols))
    ts = values[:, 0]
    sfreq = _rate_from_timestamps(path, ts)
    markers: list[tuple[float, str]] = []
    for c in marker_cols:
        for r, line in enumerate(rows):
            parts = line.split(",")
            v = parts[c].strip() if c < len(parts) else ""
            if v and v not in ("0", "0.0", "nan"):
                markers.append((float(ts[r]), v))
    names = [header[i] for i in ch_cols]
    fmt = "muselsl-csv" if names[:4] == ["TP9", "AF7", "AF8", "TP10"] else "csv"
    return Recording(
        data=values[:, 1:].T,
        sfreq=sfreq,
        ch_names=names,
        timestamps=ts,
        markers=markers,
        source=path,
        format=fmt,
    )
