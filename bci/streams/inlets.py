"""Non-blocking LSL inlets for every channel format: EEG in microvolts, markers as strings.

Why pylsl and not ``mne_lsl.lsl.StreamInlet``: both wrap the same liblsl calls and both pull a
chunk straight into a numpy array of the stream's own dtype (pylsl >= 1.18 with ``dest_obj``).
pylsl is already the runtime dependency (and bundles liblsl on Linux x86_64); taking
mne-lsl's inlet would add mne-lsl and its Qt viewer dependencies to every install and load a
second liblsl into the process. mne-lsl stays a test dependency: its ``PlayerLSL`` is the
third-party publisher the integration tests play real EDF files through.

The inlet path is chosen by the stream's format (:func:`open_inlet`): a numeric stream with a
regular rate is EEG (:class:`Inlet`, every sample converted from the declared unit to µV);
a string stream or an irregular numeric one is a marker stream (:class:`MarkerInlet`: string
markers, numeric event codes, and mne-lsl's annotation streams in both encodings).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import numpy as np

from bci.errors import StreamError
from bci.streams.lsl import describe, get_pylsl, held_call, lost_error
from bci.types import Chunk, StreamDescription
from bci.units import unit_scales

__all__ = ["NUMERIC_DTYPES", "Inlet", "MarkerInlet", "open_inlet"]

logger = logging.getLogger(__name__)

#: LSL numeric channel format -> the numpy dtype liblsl writes.
NUMERIC_DTYPES: dict[str, type[np.generic]] = {
    "float32": np.float32,
    "double64": np.float64,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
}


def _first_clock_offset(inlet: Any, name: str) -> None:
    # The first clock offset estimate blocks ~0.6 s; take it at session start, not in the
    # first pull of a loop that serves other sessions too.
    try:
        inlet.time_correction(timeout=5.0)
    except Exception:  # the outlet vanished already; recover will retry
        logger.warning("initial LSL time correction failed for %s", name)


class Inlet:
    """A non-blocking EEG inlet for any numeric format; samples come out in microvolts.

    Parameters
    ----------
    info : pylsl.StreamInfo
        From :func:`~bci.streams.lsl.resolve_stream`.
    max_buflen : int
        Seconds of data liblsl buffers if we fall behind.
    dejitter : bool
        Let liblsl smooth the timestamps (``proc_dejitter``). Off by default: smoothing
        hides the timestamp jumps that reveal dropped samples.

    Attributes
    ----------
    description : StreamDescription
        The stream's full header (labels standardised, declared units and types).
    scales : ndarray, shape (n_channels,)
        Factor from each channel's declared unit to µV (1 where the unit is unknown).
    n_samples, n_gaps, n_dropped : int
        Samples received; forward jumps in the timestamps; samples missing in those jumps.
    n_timestamp_errors : int
        Samples whose timestamp repeats or goes back from the previous sample's. They are
        kept as sent (never flattened) and reported through :meth:`drain_warnings`.
    warnings : list of str
        Lasting problems found when opening the stream (unknown units).
    """

    def __init__(self, info: Any, max_buflen: int = 30, dejitter: bool = False) -> None:
        pylsl = get_pylsl()
        self._lost = lost_error()
        # No proc_monotonize: it would hide backward timestamps by flattening them.
        flags = pylsl.proc_clocksync | (pylsl.proc_dejitter if dejitter else 0)
        self.dejitter = bool(dejitter)
        self._inlet = pylsl.StreamInlet(
            info, max_buflen=max_buflen, recover=True, processing_flags=flags
        )
        try:
            full = self._inlet.info(timeout=5.0)
        except Exception as exc:
            self.close()
            raise StreamError(
                f"Cannot read the header of LSL stream {info.name()!r}: {exc}"
            ) from exc
        d = describe(full)
        if d.channel_format not in NUMERIC_DTYPES:
            self.close()
            raise StreamError(
                f"LSL stream {d.name!r}: an EEG stream needs a numeric channel_format "
                f"({', '.join(NUMERIC_DTYPES)}), got {d.channel_format!r}"
            )
        self.description = d
        self.sfreq = d.sfreq
        self.n_channels = d.n_channels
        scales, unknown = unit_scales(d.units, d.n_channels)
        self.scales = np.asarray(scales, dtype=np.float64)
        self._scaled = bool(np.any(self.scales != 1.0))
        self.warnings: list[str] = []
        if unknown:
            shown = ", ".join(
                f"{d.ch_names[i]} ({d.units[i] or 'none'!r})" if d.units else d.ch_names[i]
                for i in unknown[:8]
            )
            more = f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
            self.warnings.append(
                f"stream {d.name!r}: unknown or missing unit on {len(unknown)} channel(s): "
                f"{shown}{more}; their values are taken as microvolts"
            )
        self._pending: deque[str] = deque(self.warnings, maxlen=50)
        self._last_t: float | None = None
        self.n_samples = 0
        self.n_gaps = 0
        self.n_dropped = 0
        self.n_timestamp_errors = 0
        self._buf = np.empty(
            (int(max(1, self.sfreq) * max_buflen) + 1, self.n_channels),
            NUMERIC_DTYPES[d.channel_format],
        )
        self._n_polls = 0
        # Returned by every empty poll (most polls): nothing reads into or writes an empty chunk.
        self._empty = Chunk(np.empty((0, self.n_channels)), np.empty(0))
        self._available = _held_samples_available(self._inlet)
        self._inlet.open_stream(timeout=5.0)
        _first_clock_offset(self._inlet, d.name)

    def pull(self) -> Chunk:
        """Return what has arrived since the last call (possibly nothing); never blocks.

        Returns
        -------
        chunk : Chunk
            ``data`` float64 in µV, shape (n_samples, n_channels).

        Raises
        ------
        StreamError
            The stream is lost for good (an outlet without ``source_id`` closed), or liblsl
            failed; the message says which.
        """
        # An engine polls every inlet every few ms and most polls find nothing: asking liblsl
        # first costs ~1.3 µs against ~6 µs for an empty pull_chunk (measured by the capacity
        # bench). Every 64th poll still pulls, so a lost stream is still detected.
        self._n_polls = (self._n_polls + 1) % 64
        if self._n_polls and self._available() == 0:
            return self._empty
        try:
            _, ts = self._inlet.pull_chunk(
                timeout=0.0, max_samples=self._buf.shape[0], dest_obj=self._buf
            )
        except self._lost as exc:
            raise StreamError(
                f"LSL stream {self.description.name!r} was lost: its outlet closed and "
                f"cannot be recovered ({exc})"
            ) from exc
        except Exception as exc:  # liblsl errors: name the stream and the cause
            raise StreamError(
                f"Pulling from LSL stream {self.description.name!r} "
                f"({self.description.channel_format}) failed: {type(exc).__name__}: {exc}"
            ) from exc
        n = len(ts)
        if n == 0:
            return self._empty
        t = np.asarray(ts, dtype=np.float64)
        data = self._buf[:n].astype(np.float64)
        if self._scaled:
            data *= self.scales
        self._count(t)
        return Chunk(data, t)

    def _count(self, t: np.ndarray) -> None:
        self.n_samples += t.size
        prev = self._last_t
        self._last_t = float(t[-1])
        dt = t[1:] - t[:-1]
        step0 = None if prev is None else float(t[0]) - prev
        if self.sfreq > 0:  # the usual chunk: every step forward, none a gap (two calls)
            limit = 1.5 * (1.0 / self.sfreq)  # as the gap test below computes it
            if (step0 is None or 0 < step0 <= limit) and (
                not dt.size or (dt.min() > 0 and dt.max() <= limit)
            ):
                return
        if step0 is not None:
            dt = np.concatenate([[step0], dt])
        back = dt <= 0
        if back.any():
            n_bad = int(back.sum())
            self.n_timestamp_errors += n_bad
            worst = float(dt[back].min())
            self._pending.append(
                f"{n_bad} sample(s) with a repeated or backward timestamp (largest step back "
                f"{-worst:.3f} s); {self.n_timestamp_errors} so far"
            )
        if self.sfreq <= 0:
            return
        period = 1.0 / self.sfreq
        big = dt > 1.5 * period
        if big.any():
            self.n_gaps += int(big.sum())
            self.n_dropped += int(np.maximum(np.round(dt[big] / period) - 1, 0).sum())

    def drain_warnings(self) -> list[str]:
        """Warnings raised since the last call (unknown units once, timestamp errors)."""
        if not self._pending:  # every poll asks
            return []
        out = list(self._pending)
        self._pending.clear()
        return out

    def close(self) -> None:
        try:
            self._inlet.close_stream()
        except Exception:  # closing a dead inlet must not raise
            logger.debug("closing inlet failed", exc_info=True)


def _held_samples_available(inlet: Any) -> Any:
    """``inlet.samples_available`` as a call that keeps the GIL (it never waits).

    See :func:`~bci.streams.lsl.held_call`: the engine asks this of every inlet every round,
    and ~90% of the answers are 0.
    """
    import ctypes

    fn = held_call("lsl_samples_available", ctypes.c_uint32, [ctypes.c_void_p])
    obj = getattr(inlet, "obj", None)
    if fn is None or obj is None:
        return inlet.samples_available
    return lambda: fn(obj)


def _number(v: float) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)


class MarkerInlet:
    """A non-blocking inlet on a marker stream; every marker comes out as a string.

    String streams give their first channel's value. A numeric stream with one channel gives
    its code (``2.0`` -> ``"2"``). A numeric stream with several channels is read as one-hot
    (mne-lsl's ``'one-hot'`` annotations: one channel per description, non-zero when it
    occurs): each non-zero channel gives its label.
    """

    def __init__(self, info: Any) -> None:
        pylsl = get_pylsl()
        self._lost = lost_error()
        self._inlet = pylsl.StreamInlet(info, recover=True, processing_flags=pylsl.proc_clocksync)
        self.description: StreamDescription = describe(self._inlet.info(timeout=5.0))
        d = self.description
        self._labels = list(d.source_ch_names or d.ch_names)
        self._string = d.channel_format == "string"
        self._inlet.open_stream(timeout=5.0)
        _first_clock_offset(self._inlet, d.name)

    def pull(self) -> list[tuple[float, str]]:
        """Markers that arrived since the last call, as (LSL time, value)."""
        try:
            samples, ts = self._inlet.pull_chunk(timeout=0.0)
        except self._lost as exc:
            raise StreamError(f"Marker stream {self.description.name!r} was lost ({exc})") from exc
        out: list[tuple[float, str]] = []
        for s, t in zip(samples, ts, strict=True):
            if self._string:
                out.append((float(t), str(s[0]) if len(s) else ""))
            elif len(s) == 1:
                out.append((float(t), _number(s[0])))
            else:
                out.extend((float(t), self._labels[i]) for i, v in enumerate(s) if v != 0)
        return out

    def close(self) -> None:
        try:
            self._inlet.close_stream()
        except Exception:
            logger.debug("closing marker inlet failed", exc_info=True)


def open_inlet(info: Any, **kwargs: Any) -> Inlet | MarkerInlet:
    """The inlet a stream's format calls for: EEG if numeric with a rate, else markers.

    Parameters
    ----------
    info : pylsl.StreamInfo
    **kwargs
        Passed to :class:`Inlet` (``max_buflen``, ``dejitter``).
    """
    fmt = describe(info).channel_format
    if fmt != "string" and float(info.nominal_srate()) > 0:
        return Inlet(info, **kwargs)
    return MarkerInlet(info)
