"""An LSL stream header (``StreamInfo.as_xml()``) -> :class:`~bci.types.StreamDescription`.

Pure XML parsing, no liblsl: the inlet, ``GET /streams`` and the tests share it. The channel
meta-data follow the XDF conventions (``desc/channels/channel/{label,unit,type,location}``,
location in millimetres) that LabRecorder-era tools write; mne-lsl's variants are understood
too (``loc/R0x..R0z`` in metres, units as MNE's power-of-ten multipliers).
"""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET

from bci.errors import StreamError
from bci.headsets import standardize_labels
from bci.types import StreamDescription

__all__ = ["FORMAT_NAMES", "parse_header"]

logger = logging.getLogger(__name__)

#: liblsl channel-format code -> XDF/LSL name.
FORMAT_NAMES = {
    1: "float32",
    2: "double64",
    3: "string",
    4: "int32",
    5: "int16",
    6: "int8",
    7: "int64",
}


def _text(node: ET.Element | None, tag: str, default: str = "") -> str:
    if node is None:
        return default
    child = node.find(tag)
    if child is None or child.text is None:
        return default
    return child.text.strip()


def _float(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _location(ch: ET.Element) -> tuple[float, float, float] | None:
    """A channel's position in metres, or None (absent, incomplete, or all zero)."""
    xdf = ch.find("location")
    if xdf is not None:  # XDF meta-data convention: millimetres
        xyz = [_float(_text(xdf, k)) for k in ("X", "Y", "Z")]
        scale = 1e-3
    else:
        mne_loc = ch.find("loc")  # mne-lsl: MNE's loc vector, metres
        if mne_loc is None:
            return None
        xyz = [_float(_text(mne_loc, k)) for k in ("R0x", "R0y", "R0z")]
        scale = 1.0
    if any(v is None for v in xyz):
        return None
    x, y, z = (float(v) * scale for v in xyz if v is not None)
    if x == 0.0 and y == 0.0 and z == 0.0:  # MNE's "no position"
        return None
    return (x, y, z)


def parse_header(xml: str) -> StreamDescription:
    """Read a stream's name, format, channels, units, types and locations from its header.

    Parameters
    ----------
    xml : str
        The ``<info>`` document of a stream (``pylsl.StreamInfo.as_xml()``, or an XDF
        stream header).

    Returns
    -------
    description : StreamDescription
        Labels standardised (``C3..`` -> ``C3``); ``ch1``... when the header names no
        channels (or not all of them); ``header_xml`` is ``xml`` itself.

    Raises
    ------
    StreamError
        The header is not XML or lacks ``channel_count``.
    """
    try:
        root = ET.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    except ET.ParseError as exc:
        raise StreamError(f"LSL stream header is not valid XML: {exc}") from exc
    name = _text(root, "name")
    try:
        n = int(_text(root, "channel_count"))
    except ValueError:
        raise StreamError(
            f"LSL stream {name!r}: channel_count must be an integer, got "
            f"{_text(root, 'channel_count')!r}"
        ) from None
    fmt = _text(root, "channel_format", "float32")
    if fmt.isdigit():
        fmt = FORMAT_NAMES.get(int(fmt), fmt)
    channels = root.findall("./desc/channels/channel")
    if len(channels) == n:
        raw_labels = [_text(c, "label") or _text(c, "name") for c in channels]
        units = [_text(c, "unit") for c in channels]
        types = [_text(c, "type") for c in channels]
        locations = [_location(c) for c in channels]
    else:
        if channels:
            logger.warning(
                "LSL stream %r describes %d channels for a channel_count of %d; ignoring the "
                "channel descriptions",
                name,
                len(channels),
                n,
            )
        raw_labels, units, types, locations = [""] * n, [""] * n, [""] * n, [None] * n
    if not all(raw_labels):
        raw_labels = [f"ch{i + 1}" for i in range(n)]
    labels = standardize_labels(raw_labels)
    return StreamDescription(
        name=name,
        type=_text(root, "type"),
        n_channels=n,
        sfreq=_float(_text(root, "nominal_srate", "0")) or 0.0,
        source_id=_text(root, "source_id"),
        channel_format=fmt,
        hostname=_text(root, "hostname"),
        uid=_text(root, "uid"),
        ch_names=labels,
        units=units,
        ch_types=types,
        locations=locations,
        source_ch_names=raw_labels,
        header_xml=xml,
    )
