"""Replay a recording as live LSL streams, or feed it chunk by chunk without a network.

:class:`Replay` publishes the EEG of a :class:`~bci.recordings.Recording` on an LSL
outlet with the original rate and channel names, its markers on ``<name>-markers`` and, for
XDF files, every other stream on ``<name>-<stream name>``. Sample ``i`` recorded at ``t_i`` is
stamped ``t_start + (t_i - t_0) / speed`` on the LSL clock, so marker timing relative to the
data is preserved at any speed. :meth:`Replay.step` pushes what is due and can be called by
hand (tests step it with an explicit ``now``); :meth:`Replay.start` runs it in a thread.

:func:`iter_chunks` cuts a recording into the chunks a live source would deliver, with the
markers of each chunk, for the pseudo-online evaluation (no LSL involved).

Run ``bci replay FILE [--speed 1|N|max] [--loop] [--name NAME]`` (:mod:`bci.cli.replay`).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from bci.errors import DataError, StreamError
from bci.recordings import Recording, XDFStream, read_recording
from bci.streams.chunks import Chunker
from bci.streams.lsl import get_pylsl, make_eeg_info, make_marker_info

__all__ = ["Replay", "ReplayChunk", "iter_chunks"]

logger = logging.getLogger(__name__)


class ReplayChunk(NamedTuple):
    """One chunk of a recording as a live source would deliver it.

    Attributes
    ----------
    data : ndarray, shape (n_samples, n_channels)
    timestamps : ndarray, shape (n_samples,)
        The recording's own clock.
    markers : list of (float, str)
        Markers whose time falls after the previous chunk's last sample and up to this
        chunk's last sample (markers before the first sample come with the first chunk,
        markers after the last sample with the last chunk).
    """

    data: np.ndarray
    timestamps: np.ndarray
    markers: list[tuple[float, str]]


def iter_chunks(
    recording: Recording, chunk_size: int, dtype: Any = np.float32
) -> Iterator[ReplayChunk]:
    """Cut a recording into consecutive chunks of ``chunk_size`` samples (the last may be short).

    Parameters
    ----------
    recording : Recording
    chunk_size : int
        Samples per chunk (>= 1).
    dtype : numpy dtype
        Sample type; float32 by default, as an LSL EEG stream delivers.

    Yields
    ------
    chunk : ReplayChunk
        ``(data (n_samples, n_channels), timestamps (n_samples,), markers)``.
    """
    chunker = Chunker(recording.data.T, recording.timestamps, chunk_size, recording.markers)
    for data, timestamps, markers in chunker:
        yield ReplayChunk(np.ascontiguousarray(data, dtype=dtype), timestamps.copy(), markers)


_LSL_FORMATS = {
    "float32": "cf_float32",
    "double64": "cf_double64",
    "string": "cf_string",
    "int32": "cf_int32",
    "int16": "cf_int16",
    "int8": "cf_int8",
    "int64": "cf_int64",
}


class _Track:
    """One outlet and the samples it still has to push (recording clock)."""

    def __init__(self, outlet: Any, timestamps: np.ndarray, payload: Any, numeric: bool) -> None:
        self.outlet = outlet
        self.timestamps = np.asarray(timestamps, dtype=np.float64)
        # Timestamps of consumer exports can step back a little; pace on their running max.
        self.pace = (
            np.maximum.accumulate(self.timestamps) if self.timestamps.size else self.timestamps
        )
        self.payload = payload
        self.numeric = numeric
        self.pos = 0

    @property
    def n(self) -> int:
        return int(self.timestamps.size)

    @property
    def finished(self) -> bool:
        return self.pos >= self.n

    def push_until(self, due: float, to_lsl: Any) -> int:
        """Push every sample whose recording time is <= ``due``; return how many."""
        end = self.n if math.isinf(due) else int(np.searchsorted(self.pace, due, "right"))
        end = max(end, self.pos)
        return self.push_range(end, to_lsl)

    def push_range(self, end: int, to_lsl: Any) -> int:
        a, b = self.pos, min(end, self.n)
        if b <= a:
            return 0
        stamps = to_lsl(self.timestamps[a:b])
        if self.numeric:
            self.outlet.push_chunk(self.payload[a:b], stamps.tolist())
        else:
            for sample, t in zip(self.payload[a:b], stamps, strict=True):
                self.outlet.push_sample(list(sample), float(t))
        self.pos = b
        return b - a


def _parse_speed(speed: float | str) -> float | None:
    """Speed factor, or None for "max"."""
    if isinstance(speed, str):
        if speed.strip().lower() == "max":
            return None
        try:
            speed = float(speed)
        except ValueError:
            raise DataError(f"speed must be a number > 0 or 'max', got {speed!r}") from None
    value = float(speed)
    if not (math.isfinite(value) and value > 0):
        raise DataError(f"speed must be a number > 0 or 'max', got {speed!r}")
    return value


class Replay:
    """Publish a recording as LSL streams, paced on the LSL clock.

    Parameters
    ----------
    recording : Recording or path
        What to replay (a path is read with :func:`~bci.recordings.read_recording`).
    name : str, optional
        EEG stream name (default ``replay-<file stem>``); markers go to ``<name>-markers``.
    speed : float or "max"
        1 = real time, N = N times faster (timestamps compressed by N), "max" = as fast as
        possible in chunks of ``chunk_size`` samples (timestamps keep the recording's spacing,
        so they run ahead of the clock; outlets buffer the whole recording for late readers).
    loop : bool
        Start again at the end, forever (timestamps keep increasing).
    source_id : str, optional
        LSL source id of the EEG outlet (default ``bci-replay-<name>``); a consumer with
        ``recover=True`` reattaches to a restarted replay with the same id.
    extra_streams : bool
        Also publish the other (non-marker) streams of an XDF file.
    chunk_size : int, optional
        Samples per push at speed "max" (default: a tenth of a second of data).
    interval : float
        Seconds the thread sleeps between steps at finite speeds.

    Attributes
    ----------
    name, marker_name : str
        The stream names.
    t_start : float or None
        LSL time of the first sample (set by the first :meth:`step`).
    n_pushed : int
        EEG samples pushed so far (all loops).
    error : BaseException or None
        What stopped the thread, if anything did.
    """

    def __init__(
        self,
        recording: Recording | str | Path,
        name: str | None = None,
        speed: float | str = 1.0,
        loop: bool = False,
        source_id: str | None = None,
        *,
        extra_streams: bool = True,
        chunk_size: int | None = None,
        interval: float = 0.01,
    ) -> None:
        rec = recording if isinstance(recording, Recording) else read_recording(recording)
        if rec.n_times == 0:
            raise DataError(f"Recording {rec.source or ''} has no samples to replay")
        self.recording = rec
        self._speed = _parse_speed(speed)
        self.loop = bool(loop)
        stem = rec.source.name.split(".")[0] if rec.source else "recording"
        self.name = name or f"replay-{stem}"
        self.marker_name = f"{self.name}-markers"
        self.source_id = source_id or f"bci-replay-{self.name}"
        self.chunk_size = int(chunk_size) if chunk_size else max(1, round(rec.sfreq / 10))
        if self.chunk_size < 1:
            raise DataError(f"chunk_size must be >= 1, got {chunk_size}")
        self.interval = float(interval)
        self.t_start: float | None = None
        self.n_pushed = 0
        self.n_loops = 0
        self.error: BaseException | None = None
        self._cycle = 0.0  # recording seconds consumed by finished loops
        self._t0 = float(rec.timestamps[0])
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

        pylsl = get_pylsl()
        # Outlets keep max_buffered seconds per consumer; at "max" keep the whole recording.
        span = float(rec.timestamps[-1] - rec.timestamps[0]) + 1.0 / rec.sfreq
        buffered = 360 if self._speed is not None else max(360, math.ceil(span) + 10)
        info = make_eeg_info(
            self.name, rec.ch_names, rec.sfreq, self.source_id, manufacturer="bci-replay"
        )
        eeg_outlet = pylsl.StreamOutlet(info, 0, buffered)
        self._eeg = _Track(
            eeg_outlet, rec.timestamps, np.ascontiguousarray(rec.data.T, np.float32), True
        )
        minfo = make_marker_info(self.marker_name, f"{self.source_id}-markers")
        self._markers = _Track(
            pylsl.StreamOutlet(minfo, 0, buffered),
            np.array([t for t, _ in rec.markers], dtype=np.float64),
            [[v] for _, v in rec.markers],
            False,
        )
        self._tracks = [self._eeg, self._markers]
        self.extra_names: list[str] = []
        if extra_streams:
            for xs in rec.extra_streams:
                if xs.is_marker or xs.n_samples == 0:
                    continue
                self._tracks.append(self._extra_track(pylsl, xs, buffered))
        ends = [float(t.timestamps[-1]) for t in self._tracks if t.n]
        # Length of one loop in recording seconds: the data plus one sample period.
        self._period = max(max(ends) - self._t0, span - 1.0 / rec.sfreq) + 1.0 / rec.sfreq
        logger.info(
            "replay %r: %d ch x %d samples @ %g Hz, %d markers, speed %s%s",
            self.name,
            rec.n_channels,
            rec.n_times,
            rec.sfreq,
            len(rec.markers),
            "max" if self._speed is None else f"{self._speed:g}",
            ", looping" if self.loop else "",
        )

    def _extra_track(self, pylsl: Any, xs: XDFStream, buffered: int) -> _Track:
        fmt = xs.channel_format if xs.channel_format in _LSL_FORMATS else "float32"
        name = f"{self.name}-{xs.name}"
        info = pylsl.StreamInfo(
            name,
            xs.type,
            len(xs.ch_names),
            xs.sfreq if xs.sfreq > 0 else pylsl.IRREGULAR_RATE,
            getattr(pylsl, _LSL_FORMATS[fmt]),
            f"{self.source_id}-{xs.name}",
        )
        chans = info.desc().append_child("channels")
        for ch in xs.ch_names:
            chans.append_child("channel").append_child_value("label", ch)
        self.extra_names.append(name)
        numeric = fmt != "string"
        payload = np.ascontiguousarray(xs.data) if numeric else xs.data
        return _Track(pylsl.StreamOutlet(info, 0, buffered), xs.timestamps, payload, numeric)

    # ------------------------------------------------------------------ stepping
    @property
    def speed(self) -> float | str:
        return "max" if self._speed is None else self._speed

    @property
    def done(self) -> bool:
        """Everything was pushed (never True when looping)."""
        return not self.loop and all(t.finished for t in self._tracks)

    def _to_lsl(self, t_rec: np.ndarray) -> np.ndarray:
        assert self.t_start is not None  # set in step() before any push
        factor = 1.0 if self._speed is None else self._speed
        return self.t_start + (self._cycle + (t_rec - self._t0)) / factor

    def step(self, now: float | None = None) -> int:
        """Push every sample and marker that is due at LSL time ``now``.

        Parameters
        ----------
        now : float, optional
            LSL time (default: ``local_clock()``). The first call fixes ``t_start = now``.
            Ignored at speed "max", where each call pushes the next ``chunk_size`` samples.

        Returns
        -------
        n : int
            EEG samples pushed by this call.
        """
        with self._lock:
            if self._closed:
                raise StreamError(f"Replay {self.name!r} is closed")
            if now is None:
                now = float(get_pylsl().local_clock())
            if self.t_start is None:
                self.t_start = float(now)
            pushed = 0
            for _ in range(1000):  # bounded: a loop wraps at most a few times per call
                if self._speed is None:
                    if self._eeg.finished:
                        due = math.inf
                    else:
                        end = min(self._eeg.pos + self.chunk_size, self._eeg.n)
                        due = float(self._eeg.pace[end - 1])
                else:
                    due = self._t0 + (now - self.t_start) * self._speed - self._cycle
                pushed += self._eeg.push_until(due, self._to_lsl)
                for track in self._tracks[1:]:
                    track.push_until(due, self._to_lsl)
                if not (self.loop and all(t.finished for t in self._tracks)):
                    break
                self._cycle += self._period
                self.n_loops += 1
                for track in self._tracks:
                    track.pos = 0
                if self._speed is None:
                    break
            self.n_pushed += pushed
            return pushed

    def run_forever(self, consumer_timeout: float | None = 10.0) -> None:
        """Step until done (or :meth:`stop`, or forever when looping).

        At speed "max" it first waits up to ``consumer_timeout`` seconds (None: until a reader
        comes or :meth:`stop`) for a reader of the EEG stream, so the data does not go to nobody.
        """
        self._stop.clear()
        if self._speed is None and self.t_start is None:
            waited = 0.0
            while not self._eeg.outlet.have_consumers() and not self._stop.is_set():
                if consumer_timeout is not None and waited >= consumer_timeout:
                    logger.warning(
                        "replay %r: no reader after %g s; pushing anyway",
                        self.name,
                        consumer_timeout,
                    )
                    break
                self._eeg.outlet.wait_for_consumers(0.2)
                waited += 0.2
        while not self._stop.is_set():
            self.step()
            if self.done:
                break
            if self._speed is not None:
                self._stop.wait(self.interval)

    def start(self) -> None:
        """Run :meth:`run_forever` in a background thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"replay-{self.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.run_forever()
        except BaseException as exc:  # logged and kept for the owner; never swallowed silently
            self.error = exc
            logger.exception("replay %r stopped with an error", self.name)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (the outlets stay open until :meth:`close`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop and destroy the outlets (idempotent)."""
        self.stop()
        with self._lock:
            self._closed = True
            for track in self._tracks:
                track.outlet = None

    def __enter__(self) -> Replay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Replay({self.name!r}, speed={self.speed}, loop={self.loop}, "
            f"pushed={self.n_pushed}/{self.recording.n_times})"
        )
