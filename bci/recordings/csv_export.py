"""CSV exports of consumer headsets: OpenBCI GUI and muselsl (``.csv``, ``.txt``).

OpenBCI GUI (``OpenBCI_GUI-v5-*.txt``/``.csv``, ``%`` header lines, ``EXG Channel N``
columns) and muselsl (``timestamps,TP9,AF7,AF8,TP10,Right AUX``); any CSV with a
``timestamp(s)`` column is read the muselsl way. The sampling rate comes from the header or
the timestamps (snapped to a common headset rate).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from bci.errors import DataError
from bci.recordings.readers import RecordingReader, register_reader
from bci.recordings.recording import Recording

__all__ = ["read_csv"]

_COMMON_RATES = (100, 125, 128, 160, 200, 250, 256, 300, 500, 512, 1000, 1024, 2000, 2048)


def _snap_rate(rate: float) -> float:
    """The common headset rate within 2% of an estimate, else the estimate rounded."""
    for r in _COMMON_RATES:
        if abs(rate - r) <= 0.02 * r:
            return float(r)
    return float(round(rate, 3))


def read_csv(path: Path) -> Recording:
    """Read an OpenBCI GUI or muselsl CSV export; raises DataError naming the bad line."""
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


register_reader(RecordingReader("csv", (".csv", ".txt"), read_csv))
