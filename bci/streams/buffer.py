"""A fixed-size ring buffer of samples with their LSL timestamps (single writer)."""

from __future__ import annotations

import numpy as np

from bci.errors import SignalError

__all__ = ["RingBuffer"]


class RingBuffer:
    """Keeps the last ``capacity`` samples of a multichannel stream.

    One thread writes (the acquisition step); readers take copies with :meth:`latest` or
    :meth:`window_ending_at`, so a reader never sees a half-written chunk.

    Parameters
    ----------
    capacity : int
        Number of samples kept.
    n_channels : int
        Number of channels.
    """

    def __init__(self, capacity: int, n_channels: int) -> None:
        if capacity < 1:
            raise SignalError(f"capacity must be >= 1 sample, got {capacity}")
        if n_channels < 1:
            raise SignalError(f"n_channels must be >= 1, got {n_channels}")
        self.capacity = int(capacity)
        self.n_channels = int(n_channels)
        self._data = np.zeros((self.capacity, self.n_channels), dtype=np.float64)
        self._times = np.zeros(self.capacity, dtype=np.float64)
        self.n_written = 0  # total samples ever written; the index of the next sample

    def write(self, data: np.ndarray, timestamps: np.ndarray) -> None:
        """Append samples.

        Parameters
        ----------
        data : ndarray, shape (n_samples, n_channels)
        timestamps : ndarray, shape (n_samples,)
        """
        if data.ndim != 2 or data.shape[1] != self.n_channels:
            raise SignalError(
                f"data must have shape (n_samples, {self.n_channels}), got {data.shape}"
            )
        if timestamps.shape != (data.shape[0],):
            raise SignalError(
                f"timestamps must have shape ({data.shape[0]},), got {timestamps.shape}"
            )
        n = data.shape[0]
        if n == 0:
            return
        if n >= self.capacity:  # only the tail fits
            data, timestamps = data[-self.capacity :], timestamps[-self.capacity :]
            self.n_written += n - self.capacity
            n = self.capacity
        start = self.n_written % self.capacity
        first = min(n, self.capacity - start)
        self._data[start : start + first] = data[:first]
        self._times[start : start + first] = timestamps[:first]
        if first < n:
            self._data[: n - first] = data[first:]
            self._times[: n - first] = timestamps[first:]
        self.n_written += n

    @property
    def n_available(self) -> int:
        """Samples currently held."""
        return min(self.n_written, self.capacity)

    def window_ending_at(self, end: int, n_times: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n_times`` samples ending just before absolute sample index ``end``.

        Returns
        -------
        window : ndarray, shape (n_channels, n_times)
            Transposed once here, from the chunk layout to the window layout.
        timestamps : ndarray, shape (n_times,)
        """
        oldest = self.n_written - self.n_available
        if n_times > self.capacity or end > self.n_written or end - n_times < oldest:
            raise SignalError(
                f"samples [{end - n_times}, {end}) are not in the buffer "
                f"(holds [{oldest}, {self.n_written}))"
            )
        # Slices into a preallocated window, not an index array: the gather cost ~3x more
        # (bench/buffer.py), and the decoder and the quality gate each read a window per decision
        start = (end - n_times) % self.capacity
        first = min(n_times, self.capacity - start)
        window = np.empty((self.n_channels, n_times), dtype=self._data.dtype)
        times = np.empty(n_times, dtype=self._times.dtype)
        window[:, :first] = self._data[start : start + first].T
        times[:first] = self._times[start : start + first]
        if first < n_times:
            window[:, first:] = self._data[: n_times - first].T
            times[first:] = self._times[: n_times - first]
        return window, times

    def index_after(self, t: float, search: int) -> int | None:
        """Absolute index just after the newest of the last ``search`` samples stamped ``t``.

        Reads timestamps only (no samples are copied); the newest sample is checked first,
        as a decision is usually made as soon as its window's last sample arrives. None
        when no such sample is held.
        """
        n = self.n_written
        k = min(int(search), self.n_available)
        if k < 1:
            return None
        cap = self.capacity
        times = self._times
        # A decision's window usually ends within the newest chunk: look there one sample at
        # a time (~0.1 µs each) before a vectorised search (~5 µs whatever it finds).
        for j in range(1, min(k, 16) + 1):
            if times[(n - j) % cap] == t:
                return n - j + 1
        if k <= 16:
            return None
        start = (n - k) % cap
        first = min(k, cap - start)
        if first < k:  # the newest part wrapped to the front of the array
            hits = np.flatnonzero(self._times[: k - first] == t)
            if hits.size:
                return n - k + first + int(hits[-1]) + 1
        hits = np.flatnonzero(self._times[start : start + first] == t)
        return n - k + int(hits[-1]) + 1 if hits.size else None

    def latest(self, n_times: int) -> tuple[np.ndarray, np.ndarray]:
        """The last ``n_times`` samples, as :meth:`window_ending_at`."""
        return self.window_ending_at(self.n_written, n_times)
