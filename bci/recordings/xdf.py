"""XDF (``.xdf``, ``.xdfz``, ``.xdf.gz``) through pyxdf: EEG, markers and every other stream.

The EEG stream is the numeric stream of type EEG (or with a regular rate) with the most
channels; string streams of a marker type become markers; every other stream is kept as an
:class:`~bci.recordings.recording.XDFStream`. A file cut short (a killed recorder) is read up
to its last complete chunk, with a warning.
"""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bci.errors import DataError
from bci.recordings.readers import RecordingReader, register_reader
from bci.recordings.recording import MNE_TYPES, Recording, XDFStream
from bci.units import unit_scales

__all__ = ["read_xdf"]

logger = logging.getLogger(__name__)

_MARKER_TYPES = {"markers", "marker", "events", "event", "stim", "stimulus", "trigger"}


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


def read_xdf(path: Path) -> Recording:
    """Read an XDF file (see the module docstring); raises DataError on a bad file."""
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
    scales, unknown = unit_scales(units, n_ch)  # V, mV, µV, nV, mne-lsl's exponents
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
    ch_types = [t.lower() if t.lower() in MNE_TYPES else "eeg" for t in types]
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


register_reader(RecordingReader("xdf", (".xdf", ".xdfz", ".xdf.gz"), read_xdf))
