"""The synthetic headset on LSL: an EEG outlet and a marker outlet fed by :class:`SyntheticEEG`.

``SyntheticOutlet.step(now)`` pushes every sample due up to ``now`` (LSL clock) with exact
timestamps ``t0 + i / sfreq``; a thread (``start()``) or ``run_forever()`` only calls it.
Condition changes (live ``set_condition`` or the paradigm's own cues with ``auto_cues``) are
events at a sample index: the generator switches at that sample and the marker carries that
sample's timestamp, so epochs cut at the marker see the change where it happened.

Run it from a shell::

    bci stream synthetic --headset openbci-cyton --name bci-synthetic \\
        --seed 1 --paradigm imagery-left-right
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import numpy as np

from bci.errors import BCIError, ConfigError
from bci.headsets import Headset
from bci.paradigms import Paradigm, get_paradigm
from bci.streams.lsl import get_pylsl, local_clock, make_eeg_info, make_marker_info
from bci.streams.synthetic import SyntheticEEG, condition_effect, make_schedule

__all__ = ["CueListener", "SyntheticOutlet"]

logger = logging.getLogger(__name__)

#: Called as ``listener(t, marker, label)`` for every cue the outlet publishes.
CueListener = Callable[[float, str, str], None]


@dataclass(order=True)
class _Event:
    sample: int
    seq: int
    condition: str | None = field(compare=False)
    marker: str | None = field(compare=False)
    label: str | None = field(compare=False)
    auto: bool = field(default=False, compare=False)


class SyntheticOutlet:
    """Publish synthetic EEG (and its cue markers) on LSL in real time.

    Parameters
    ----------
    headset : str or Headset
        Headset preset: channels, rate, positions.
    name : str
        EEG stream name; the marker stream is ``f"{name}-markers"``.
    seed : int or None
        Seed of the generator and of the automatic cue schedule.
    source_id : str or None
        LSL source id of the EEG stream (default ``f"bci-synthetic-{name}"``); the marker
        stream gets ``f"{source_id}-markers"``. Inlets with ``recover=True`` reattach to a
        restarted outlet with the same id.
    paradigm : str or Paradigm or None
        Paradigm whose classes map markers to labels and, with ``auto_cues``, whose trials
        are played.
    auto_cues : bool
        Loop the paradigm's trials forever: at each cue switch the condition and push the
        class marker; return to ``rest`` at trial end.
    chunk_s : float
        Period of the background thread (``start``/``run_forever``), in seconds.
    cue_listener : callable or None
        ``listener(t, marker, label)`` called (from the stepping thread) for every cue
        published; its errors are logged and do not stop the stream. It runs inside
        ``step``, so it must return quickly (hand the cue to a queue).
    **generator_kwargs
        Passed to :class:`bci.streams.synthetic.SyntheticEEG` (``erd_depth``, ``snr``,
        ``line_freq``, ``blink_rate``...).

    Attributes
    ----------
    generator : SyntheticEEG
    t0 : float or None
        LSL time of sample 0 (set by the first ``step``).
    n_pushed : int
        Samples pushed so far.
    error : BaseException or None
        The exception that stopped the background thread, if any.
    """

    def __init__(
        self,
        headset: str | Headset = "openbci-cyton",
        name: str = "bci-synthetic",
        seed: int | None = None,
        source_id: str | None = None,
        paradigm: str | Paradigm | None = None,
        auto_cues: bool = False,
        chunk_s: float = 1 / 32,
        cue_listener: CueListener | None = None,
        **generator_kwargs: Any,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"name must be a non-empty string, got {name!r}")
        if not (isinstance(chunk_s, int | float) and 0 < chunk_s <= 1):
            raise ConfigError(f"chunk_s must be a number of seconds in (0, 1], got {chunk_s!r}")
        if auto_cues and paradigm is None:
            raise ConfigError(
                "auto_cues=True needs a paradigm (e.g. paradigm='imagery-left-right')"
            )
        self.generator = SyntheticEEG(headset, seed=seed, **generator_kwargs)
        self.headset = self.generator.headset
        self.name = name
        self.source_id = source_id or f"bci-synthetic-{name}"
        self.marker_name = f"{name}-markers"
        self.paradigm = None if paradigm is None else get_paradigm(paradigm)
        self.auto_cues = bool(auto_cues)
        self.chunk_s = float(chunk_s)
        self.cue_listener = cue_listener
        self.sfreq = self.generator.sfreq
        self.ch_names = list(self.generator.ch_names)

        pylsl = get_pylsl()
        info = make_eeg_info(
            name, self.ch_names, self.sfreq, self.source_id, manufacturer="bci-synthetic"
        )
        self._outlet: Any = pylsl.StreamOutlet(info)
        minfo = make_marker_info(self.marker_name, f"{self.source_id}-markers")
        self._marker_outlet: Any = pylsl.StreamOutlet(minfo)

        self.t0: float | None = None
        self.n_pushed = 0
        self.error: BaseException | None = None
        self._events: list[_Event] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = False
        self._schedule_rng = np.random.default_rng(seed)
        self._cues_until = 0  # sample index up to which auto cues are scheduled
        self._block_start_s = 2.0  # rest before the first trial: a baseline for the first cue

    # ---------------------------------------------------------------------------------------

    @property
    def condition(self) -> str:
        """The generator's current condition."""
        return self.generator.condition

    @property
    def running(self) -> bool:
        """Whether the background thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def have_consumers(self) -> bool:
        """Whether an inlet is connected to the EEG stream."""
        return bool(self._outlet.have_consumers())

    def wait_for_consumers(self, timeout: float = 5.0) -> bool:
        """Block until an inlet connects to the EEG stream (or ``timeout`` seconds)."""
        return bool(self._outlet.wait_for_consumers(timeout))

    def _label_of(self, marker: str) -> str:
        if self.paradigm is not None:
            spec = self.paradigm.by_marker().get(marker)
            if spec is not None:
                return spec.label
        return marker

    def _push(self, event: _Event) -> None:
        heapq.heappush(self._events, event)

    # ---------------------------------------------------------------------------------------

    def push_marker(self, value: str, t: float | None = None) -> float:
        """Push one string marker now (or with timestamp ``t``, LSL clock); return its time."""
        if not isinstance(value, str) or not value:
            raise ConfigError(f"marker value must be a non-empty string, got {value!r}")
        stamp = local_clock() if t is None else float(t)
        with self._lock:
            self._check_open()
            self._marker_outlet.push_sample([value], stamp)
        return stamp

    def set_condition(self, cond: str, marker: str | None = None, t: float | None = None) -> None:
        """Change the brain state live, optionally with a cue marker.

        Before the first ``step`` the change is immediate and the marker is pushed at ``t``
        (default now). Afterwards the change happens at the first sample not yet pushed whose
        timestamp is at or after ``t`` (default now); the marker gets that sample's
        timestamp and is pushed, with the cue listener called, by the ``step`` that reaches
        it (at most ``chunk_s`` later when the thread runs).

        Parameters
        ----------
        cond : str
            One of :data:`bci.paradigms.CONDITIONS`.
        marker : str or None
            Marker to push on the marker stream (e.g. ``"left"``).
        t : float or None
            LSL time of the change.

        Raises
        ------
        bci.errors.UnknownNameError
            Unknown condition.
        """
        condition_effect(cond)  # validate now, in the caller's thread
        if marker is not None and (not isinstance(marker, str) or not marker):
            raise ConfigError(f"marker must be a non-empty string or None, got {marker!r}")
        label = None if marker is None else self._label_of(marker)
        with self._lock:
            self._check_open()
            if self.t0 is None:
                self.generator.set_condition(cond)
                if marker is not None:
                    stamp = self.push_marker(marker, t)
                    self._notify(stamp, marker, label or marker)
                return
            when = local_clock() if t is None else float(t)
            sample = max(self.n_pushed, math.ceil((when - self.t0) * self.sfreq - 1e-6))
            self._push(_Event(sample, next(self._seq), cond, marker, label))

    def step(self, now: float | None = None) -> int:
        """Push every sample whose timestamp ``t0 + i / sfreq`` is at or before ``now``.

        Parameters
        ----------
        now : float or None
            LSL time (default ``local_clock()``). The first call sets ``t0 = now``.

        Returns
        -------
        n : int
            Samples pushed by this call.
        """
        with self._lock:
            self._check_open()
            now = local_clock() if now is None else float(now)
            if self.t0 is None:
                self.t0 = now
            due = math.floor((now - self.t0) * self.sfreq + 1e-6) + 1
            if due <= self.n_pushed:
                return 0
            if self.auto_cues:
                self._schedule_cues(due)
            start = self.n_pushed
            pieces: list[np.ndarray] = []
            pos = start
            while pos < due:
                while self._events and self._events[0].sample <= pos:
                    self._apply(heapq.heappop(self._events), pos)
                nxt = self._events[0].sample if self._events else due
                end = min(nxt, due)
                pieces.append(self.generator.generate(end - pos))
                pos = end
            data = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
            stamps = self.t0 + np.arange(start, due) / self.sfreq
            self._outlet.push_chunk(data, stamps.tolist())
            self.n_pushed = due
            return due - start

    def _apply(self, ev: _Event, pos: int) -> None:
        if ev.condition is not None:
            self.generator.set_condition(ev.condition)
        if ev.marker is not None and self.t0 is not None:
            stamp = self.t0 + pos / self.sfreq
            self._marker_outlet.push_sample([ev.marker], stamp)
            self._notify(stamp, ev.marker, ev.label or ev.marker)

    def _notify(self, t: float, marker: str, label: str) -> None:
        if self.cue_listener is None:
            return
        try:
            self.cue_listener(t, marker, label)
        except Exception:  # a listener's bug must not stop the stream; it is logged
            logger.exception("cue_listener failed for marker %r at t=%.3f", marker, t)

    def _schedule_cues(self, due: int) -> None:
        """Queue the paradigm's trials, one balanced block at a time, ahead of ``due``."""
        par = self.paradigm
        if par is None:
            return
        fs = self.sfreq
        while self._cues_until <= due:
            seed = int(self._schedule_rng.integers(2**63))
            trials = make_schedule(par, seed=seed, start_s=self._block_start_s)
            self._block_start_s = 0.0
            offset = self._cues_until
            for tr in trials:
                on = offset + round(tr.onset_s * fs)
                self._push(_Event(on, next(self._seq), tr.condition, tr.marker, tr.label, True))
                end = on + round(tr.duration_s * fs)
                self._push(_Event(end, next(self._seq), "rest", None, None, True))
            last = trials[-1]
            block_end_s = last.onset_s + last.duration_s + par.timing.rest_s
            self._cues_until = offset + round(block_end_s * fs)

    def set_auto_cues(self, enabled: bool) -> None:
        """Turn the automatic cue loop on or off while streaming.

        Off drops the cues not yet reached and returns the brain to ``rest`` (a calibration
        that drives the conditions itself needs this); on starts a new block of trials,
        after 2 s of rest, from the next sample.

        Raises
        ------
        bci.errors.ConfigError
            Turning it on without a paradigm.
        """
        with self._lock:
            self._check_open()
            if enabled and self.paradigm is None:
                raise ConfigError("auto cues need a paradigm; create the outlet with paradigm=...")
            if enabled == self.auto_cues:
                return
            self.auto_cues = bool(enabled)
            if enabled:
                self._cues_until = self.n_pushed
                self._block_start_s = 2.0
                return
            self._events = [e for e in self._events if not e.auto]
            heapq.heapify(self._events)
            if self.t0 is None:
                self.generator.set_condition("rest")
            else:
                self._push(_Event(self.n_pushed, next(self._seq), "rest", None, None))

    # ---------------------------------------------------------------------------------------

    def start(self) -> SyntheticOutlet:
        """Run :meth:`step` every ``chunk_s`` seconds in a daemon thread."""
        with self._lock:
            self._check_open()
            if self.running:
                return self
            self._stop.clear()
            self.error = None
            self._thread = threading.Thread(
                target=self._loop, name=f"synthetic-outlet-{self.name}", daemon=True
            )
            self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            while True:
                self.step()
                if self._stop.wait(self.chunk_s):
                    break
        except BaseException as exc:  # kept for the owner (self.error) and logged
            self.error = exc
            logger.exception("synthetic outlet %r stopped on an error", self.name)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the background thread (the streams stay open)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def close(self) -> None:
        """Stop and destroy both outlets; inlets see the streams disappear."""
        self.stop()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._outlet = None
            self._marker_outlet = None

    def _check_open(self) -> None:
        if self._closed:
            raise BCIError(f"Synthetic outlet {self.name!r} is closed; create a new one")

    def run_forever(self, duration: float | None = None) -> None:
        """Step in the calling thread until KeyboardInterrupt (or ``duration`` seconds)."""
        t_end = None if duration is None else time.monotonic() + duration
        try:
            while t_end is None or time.monotonic() < t_end:
                self.step()
                time.sleep(self.chunk_s)
        except KeyboardInterrupt:
            logger.info("synthetic outlet %r interrupted", self.name)
        finally:
            self.close()

    def __enter__(self) -> SyntheticOutlet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"SyntheticOutlet(name={self.name!r}, headset={self.headset.name!r}, "
            f"{len(self.ch_names)} ch @ {self.sfreq:g} Hz, pushed={self.n_pushed})"
        )
