"""Cut samples into consecutive chunks, as a live source delivers them: the one chunker.

:func:`bci.streams.replay.iter_chunks` (a recording with its markers, for the pseudo-online
engine) and :class:`bci.online.sources.ArraySource` (an array stepped by hand) both pull from
a :class:`Chunker`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from bci.errors import SignalError

__all__ = ["Chunker"]


class Chunker:
    """Consecutive chunks of ``chunk_size`` samples (the last may be short) with their markers.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_channels)
        Samples; chunks are views of it (no copy, dtype kept).
    timestamps : ndarray, shape (n_samples,)
    chunk_size : int
        Samples per chunk (>= 1).
    markers : sequence of (float, str)
        Events on the clock of ``timestamps``, sorted by time. Each chunk carries the markers
        after the previous chunk's last sample and up to its own last sample, on the running
        maximum of the timestamps (exports can step back a little); markers before the first
        sample come with the first chunk, markers after the last sample with the last chunk.

    Raises
    ------
    SignalError
        ``chunk_size < 1`` or ``timestamps`` not of shape (n_samples,).
    """

    def __init__(
        self,
        data: np.ndarray,
        timestamps: np.ndarray,
        chunk_size: int,
        markers: Sequence[tuple[float, str]] = (),
    ) -> None:
        if int(chunk_size) < 1:
            raise SignalError(f"chunk_size must be >= 1, got {chunk_size}")
        self.data = data
        n = int(data.shape[0])
        self.timestamps = np.asarray(timestamps, dtype=np.float64)
        if self.timestamps.shape != (n,):
            raise SignalError(f"timestamps must have shape ({n},), got {self.timestamps.shape}")
        self.chunk_size = int(chunk_size)
        self.markers = list(markers)
        self._marker_t = np.array([t for t, _ in self.markers], dtype=np.float64)
        self._pace = np.maximum.accumulate(self.timestamps) if n else self.timestamps
        self.pos = 0
        self._m_pos = 0

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[0])

    @property
    def done(self) -> bool:
        """Whether every sample has been delivered."""
        return self.pos >= self.n_samples

    def next(self) -> tuple[np.ndarray, np.ndarray, list[tuple[float, str]]]:
        """The next chunk: ``(data (k, n_channels), timestamps (k,), markers)``.

        ``k`` is 0 once :attr:`done`.
        """
        n = self.n_samples
        a, b = self.pos, min(self.pos + self.chunk_size, n)
        self.pos = b
        markers: list[tuple[float, str]] = []
        if self.markers and b > a:
            if b == n:
                m_end = len(self.markers)
            else:
                m_end = int(np.searchsorted(self._marker_t, self._pace[b - 1], "right"))
            markers = self.markers[self._m_pos : m_end]
            self._m_pos = max(self._m_pos, m_end)
        return self.data[a:b], self.timestamps[a:b], markers

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, list[tuple[float, str]]]]:
        while not self.done:
            yield self.next()

    def close(self) -> None:
        """Skip the rest: :attr:`done` becomes true."""
        self.pos = self.n_samples
