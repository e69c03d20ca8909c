"""Sources that are not LSL inlets: arrays and recordings fed through the online engine."""

from __future__ import annotations

import numpy as np

from bci.errors import SignalError
from bci.streams.chunks import Chunker
from bci.types import Chunk, StreamDescription

__all__ = ["ArraySource"]


class ArraySource:
    """Feeds a recording chunk by chunk, one chunk per :meth:`pull`, with no clock involved.

    This is how a recording runs "straight through" the online engine (pseudo-online
    evaluation) and how unit tests step a session by hand.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
    sfreq : float
    ch_names : list of str
    chunk_size : int
        Samples per pull.
    t0 : float
        Timestamp of the first sample.
    timestamps : ndarray, shape (n_times,) or None
        Explicit timestamps (default ``t0 + arange(n_times) / sfreq``).
    name : str
        Stream name in the description.
    """

    def __init__(
        self,
        data: np.ndarray,
        sfreq: float,
        ch_names: list[str],
        chunk_size: int = 8,
        t0: float = 0.0,
        timestamps: np.ndarray | None = None,
        name: str = "array",
    ) -> None:
        data = np.asarray(data)
        if data.ndim != 2 or data.shape[0] != len(ch_names):
            raise SignalError(
                f"data must have shape ({len(ch_names)}, n_times) for {len(ch_names)} "
                f"channel names, got {data.shape}"
            )
        t = (
            t0 + np.arange(data.shape[1]) / float(sfreq)
            if timestamps is None
            else np.asarray(timestamps, dtype=np.float64)
        )
        self._chunks = Chunker(np.ascontiguousarray(data.T), t, chunk_size)
        self.n_gaps = 0
        self.n_dropped = 0
        self.description = StreamDescription(
            name=name,
            type="EEG",
            n_channels=len(ch_names),
            sfreq=float(sfreq),
            source_id=f"array-{name}",
            ch_names=list(ch_names),
        )

    @property
    def chunk_size(self) -> int:
        """Samples per pull."""
        return self._chunks.chunk_size

    @property
    def pos(self) -> int:
        """Samples delivered so far."""
        return self._chunks.pos

    @property
    def done(self) -> bool:
        return self._chunks.done

    def pull(self) -> Chunk:
        data, timestamps, _ = self._chunks.next()
        return Chunk(data, timestamps)

    def close(self) -> None:
        self._chunks.close()
