"""Plain data classes shared across subpackages (no I/O, no heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Chunk", "Marker", "StreamDescription"]


@dataclass(frozen=True)
class Chunk:
    """Samples pulled from a source.

    Attributes
    ----------
    data : ndarray, shape (n_samples, n_channels)
        float32 or float64 samples; EEG in microvolts (an inlet converts the stream's
        declared unit, see :mod:`bci.units`).
    timestamps : ndarray, shape (n_samples,)
        float64 LSL-clock times of each sample.
    """

    data: np.ndarray
    timestamps: np.ndarray

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[0])


@dataclass(frozen=True)
class Marker:
    """An event on the LSL clock (a cue, an app event, a source's own marker).

    Attributes
    ----------
    t : float
        LSL time.
    value : str
        As its source sent it (``"T1"``).
    source : str
        ``lsl``, ``http``, ``websocket``, ``calibration``...
    stream : str
        The LSL marker stream it came from (``""`` for the session's own events).
    label : str or None
        The class marker it stands for under the session's ``marker_map`` (``"left"``).
    """

    t: float
    value: str
    source: str = "stream"
    stream: str = ""
    label: str | None = None


@dataclass(frozen=True)
class StreamDescription:
    """What LSL says about a stream (from its ``StreamInfo``).

    Attributes
    ----------
    name, type, source_id, hostname, uid : str
    n_channels : int
    sfreq : float
        Nominal rate in Hz; 0 for irregular streams.
    channel_format : str
        ``float32``, ``double64``, ``int8``, ``int16``, ``int32``, ``int64`` or ``string``.
    ch_names : list of str
        Channel labels, standardised to 10-05 spelling (``C3..`` -> ``C3``).
    units : list of str
        Each channel's unit as the stream declares it (``""`` where it declares none).
    ch_types : list of str
        Each channel's type as the stream declares it (``""`` where it declares none).
    locations : list of (x, y, z) or None
        Each channel's position in metres from the stream's ``desc`` (None where absent).
    source_ch_names : list of str
        The labels exactly as the stream wrote them.
    header_xml : str
        The stream's full header (``StreamInfo.as_xml()``), copied into recordings.
    """

    name: str
    type: str
    n_channels: int
    sfreq: float
    source_id: str
    channel_format: str = "float32"
    hostname: str = ""
    uid: str = ""
    ch_names: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    ch_types: list[str] = field(default_factory=list)
    locations: list[tuple[float, float, float] | None] = field(default_factory=list)
    source_ch_names: list[str] = field(default_factory=list)
    header_xml: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form shown by ``GET /streams`` and in a session's status (no header)."""
        return {
            "name": self.name,
            "type": self.type,
            "n_channels": self.n_channels,
            "sfreq": self.sfreq,
            "source_id": self.source_id,
            "channel_format": self.channel_format,
            "hostname": self.hostname,
            "uid": self.uid,
            "ch_names": list(self.ch_names),
            "units": list(self.units),
            "ch_types": list(self.ch_types),
            "source_ch_names": list(self.source_ch_names or self.ch_names),
            "locations": [None if p is None else list(p) for p in self.locations],
        }
