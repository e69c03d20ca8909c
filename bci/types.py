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
        float32 (or float64) samples, in the stream's unit (microvolts for EEG).
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
    """An event on the LSL clock (a cue, an app event)."""

    t: float
    value: str
    source: str = "stream"


@dataclass(frozen=True)
class StreamDescription:
    """What LSL says about a stream (from its ``StreamInfo``)."""

    name: str
    type: str
    n_channels: int
    sfreq: float
    source_id: str
    channel_format: str = "float32"
    hostname: str = ""
    uid: str = ""
    ch_names: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
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
        }
