"""The decoding session: source -> causal filter -> ring buffer -> windows -> decoder -> messages.

A session owns its state (source, filter state, buffers, model, markers). :meth:`step` does
one round of work and never blocks, so the engine thread, a replay loop or a unit test can
drive it the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from bci.decoders.model import Model
from bci.errors import BCIError, SessionStateError, SignalError
from bci.online.monitor import SignalMonitor
from bci.signal.filters import CausalFilter
from bci.streams.buffer import RingBuffer
from bci.types import Chunk, Marker, Prediction, StreamDescription

__all__ = ["DecodingSession", "MarkerSource", "SessionConfig", "Source"]

logger = logging.getLogger(__name__)

Message = dict[str, Any]
Subscriber = Callable[[Message], None]


class Source(Protocol):
    """Anything that yields chunks without blocking (LSL inlet, replay, array)."""

    description: StreamDescription
    n_gaps: int
    n_dropped: int

    def pull(self) -> Chunk: ...

    def close(self) -> None: ...


class MarkerSource(Protocol):
    """Anything that yields (LSL time, value) markers without blocking."""

    def pull(self) -> list[tuple[float, str]]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SessionConfig:
    """How a session windows and decodes.

    Attributes
    ----------
    window_s : float
        Window length; when a model is active, the model's window wins.
    step_s : float
        Stream time between two decisions.
    band : (float, float)
        Causal band-pass before windowing; when a model is active, the model's band wins.
    stall_timeout_s : float
        Seconds without samples before the session reports ``stalled``.
    gap_reset_s : float
        A timestamp jump longer than this resets the filter and waits for a full window.
    buffer_s : float
        Seconds of raw and filtered signal kept.
    """

    window_s: float = 2.0
    step_s: float = 1 / 16
    band: tuple[float, float] = (8.0, 30.0)
    stall_timeout_s: float = 1.0
    gap_reset_s: float = 0.5
    buffer_s: float = 10.0


class DecodingSession:
    """One stream decoded by one (swappable) model.

    Parameters
    ----------
    session_id : str
        Id used in the API and in messages.
    source : Source
        Where chunks come from.
    model : Model or None
        Active model; ``None`` acquires without decoding until one is set.
    config : SessionConfig
    clock : callable
        Returns the current LSL time (``bci.streams.lsl.local_clock`` live; injectable).
    """

    def __init__(
        self,
        session_id: str,
        source: Source,
        model: Model | None = None,
        config: SessionConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = session_id
        self.source = source
        self.config = config or SessionConfig()
        self.clock = clock
        desc = source.description
        if desc.sfreq <= 0:
            raise SignalError(
                f"Stream {desc.name!r} has an irregular rate; an EEG stream with a nominal "
                "sampling rate is needed"
            )
        self.description = desc
        self.sfreq = desc.sfreq
        self.ch_names = list(desc.ch_names)
        n_ch = desc.n_channels
        cap = int(np.ceil(max(self.config.buffer_s, self.config.window_s * 2) * self.sfreq))
        self.raw = RingBuffer(cap, n_ch)
        self.filtered = RingBuffer(cap, n_ch)
        self.state = "starting"
        self.error: str | None = None
        self.warnings: list[str] = []
        self.markers: deque[Marker] = deque(maxlen=10_000)
        self.n_windows = 0
        self.n_rejected = 0
        self.n_decode_errors = 0
        self.last_prediction: Prediction | None = None
        self.created = time.time()
        self._subscribers: list[Subscriber] = []
        self._lock = threading.RLock()
        self._last_data_clock: float | None = None
        self._last_t: float | None = None
        self._bad_until = 0  # windows ending at or before this sample index contain bad samples
        self.marker_sources: list[MarkerSource] = []
        self.calibration: Any = None  # bci.online.calibration.Calibration while one runs
        self.mu_feed: Any = None  # bci.online.neurofeedback.MuSuppressionFeed when enabled
        self.recording: Any = None  # bci.online.recording.SessionRecording while recording
        self.adaptation: Any = None  # bci.online.adaptation.SessionAdaptation when enabled
        self.pipeline: str | None = None  # the pipeline a calibration fits by default
        self.cue_outlet: Any = None  # LSL marker outlet of calibration cues, made on first use
        self.model: Model | None = None
        self._filter: CausalFilter
        self._set_band(self.config.band)
        self._window_n = round(self.config.window_s * self.sfreq)
        self._restart_windows()
        if model is not None:
            self.set_model(model)
        self.signal_monitor = SignalMonitor(self)

    # ----------------------------------------------------------------- subscriptions
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(message)`` for every message; returns the unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)

        def _unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return _unsubscribe

    def publish(self, message: Message) -> None:
        with self._lock:
            subs = list(self._subscribers)
        for cb in subs:
            try:
                cb(message)
            except Exception:  # a broken subscriber must not stop decoding
                logger.exception("session %s: subscriber failed", self.id)

    # ----------------------------------------------------------------- model
    def set_model(self, model: Model) -> None:
        """Activate ``model``; refuses one whose channels or rate differ from the stream."""
        model.check_compatible(self.ch_names, self.sfreq)
        with self._lock:
            band_changed = tuple(model.band) != (self._filter.l_freq, self._filter.h_freq)
            self.model = model
            self._window_n = model.n_times
            if band_changed:
                self._set_band(tuple(model.band))  # type: ignore[arg-type]
                self._restart_windows()
            else:
                self._reschedule()
        self.publish({"type": "model", "session_id": self.id, "model_id": model.model_id})

    def require_model(self) -> Model:
        if self.model is None:
            raise SessionStateError(
                f"No model is active for session {self.id}: run a calibration or "
                f"POST /sessions/{self.id}/model first"
            )
        return self.model

    def _set_band(self, band: tuple[float, float]) -> None:
        lo, hi = band
        hi = min(hi, 0.45 * self.sfreq)
        self._filter = CausalFilter(self.sfreq, lo, hi)

    def _restart_windows(self) -> None:
        """Wait for a full window of (re)filtered data before the next decision."""
        self._filter.reset()
        self._valid_from = self.filtered.n_written
        self._reschedule()

    def _reschedule(self) -> None:
        """Next decision: the first step boundary not yet passed, for the current window."""
        step = self.config.step_s * self.sfreq
        behind = self.filtered.n_written - self._valid_from - self._window_n
        self._k = max(0, int(np.ceil(behind / step)))
        self._next_end = self._valid_from + self._window_n + round(self._k * step)

    # ----------------------------------------------------------------- markers
    def add_marker(self, value: str, t: float | None = None, source: str = "api") -> Marker:
        """Record an event on the LSL clock (stamped now if ``t`` is None)."""
        m = Marker(t=self.clock() if t is None else float(t), value=str(value), source=source)
        self.markers.append(m)
        if self.recording is not None:
            self.recording.marker(m.value, m.t)
        for listener in (self.mu_feed, self.calibration):
            if listener is not None and hasattr(listener, "on_marker"):
                listener.on_marker(m.value, m.t)
        self.publish(
            {
                "type": "marker",
                "session_id": self.id,
                "t": m.t,
                "value": m.value,
                "source": m.source,
            }
        )
        return m

    # ----------------------------------------------------------------- the step
    def step(self) -> int:
        """Pull what has arrived, filter, buffer, decode every due window. Never blocks.

        Returns
        -------
        n_windows : int
            Windows decoded in this step.
        """
        if self.state in ("stopped", "error"):
            return 0
        now = self.clock()
        for ms in self.marker_sources:
            try:
                for t, value in ms.pull():
                    self.add_marker(value, t, source="lsl")
            except Exception as exc:  # a marker stream problem must not stop decoding
                self._warn(f"marker stream failed: {exc}")
        try:
            chunk = self.source.pull()
        except BCIError as exc:
            self._fail(str(exc))
            return 0
        if chunk.n_samples == 0:
            self._check_stall(now)
            self._tick_calibration(now)
            return 0
        self._last_data_clock = now
        if self.state != "running":
            self._set_state("running")
        try:
            self._ingest(chunk)
        except SignalError as exc:
            self._warn(f"chunk dropped: {exc}")
            return 0
        self.signal_monitor.maybe_emit(now)
        self._tick_calibration(now)
        if self.mu_feed is not None:
            self.mu_feed.step()
        if self.model is None:
            return 0
        return self._decode_due(now)

    def _ingest(self, chunk: Chunk) -> None:
        data = np.asarray(chunk.data, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != self.raw.n_channels:
            raise SignalError(f"chunk has shape {data.shape}, expected (n, {self.raw.n_channels})")
        t = chunk.timestamps
        if self._last_t is not None and t[0] - self._last_t > self.config.gap_reset_s:
            logger.info(
                "session %s: %.2f s gap in the stream, restarting windows",
                self.id,
                t[0] - self._last_t,
            )
            self._restart_windows()
        self._last_t = float(t[-1])
        if self.recording is not None:
            self.recording.eeg(data, t)  # raw, before any filter or cleaning
        bad = ~np.isfinite(data)
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))
            data = np.where(bad, 0.0, data)
            self._bad_until = self.filtered.n_written + int(rows[-1]) + 1 + self._window_n
            chans = [self.ch_names[i] for i in np.flatnonzero(bad.any(axis=0))]
            self._warn(
                f"non-finite samples (NaN/inf) on {', '.join(chans)}; "
                "windows containing them are not decoded"
            )
        self.raw.write(data, t)
        self.filtered.write(self._filter.process(data), t)
        if self.calibration is not None:
            self.calibration.on_chunk(data, t)

    def _due_ends(self) -> list[int]:
        ends = []
        step = self.config.step_s * self.sfreq
        oldest = self.filtered.n_written - self.filtered.n_available
        while self._next_end <= self.filtered.n_written:
            if self._next_end - self._window_n >= oldest:
                ends.append(self._next_end)
            self._k += 1
            self._next_end = self._valid_from + self._window_n + round(self._k * step)
        return ends

    def _tick_calibration(self, now: float) -> None:
        cal = self.calibration
        if cal is None:
            return
        try:
            cal.tick(now)
        except Exception as exc:  # a calibration bug must not stop decoding
            logger.exception("session %s: calibration step failed", self.id)
            cal.state, cal.error = "failed", f"{type(exc).__name__}: {exc}"
            self.publish(
                {
                    "type": "calibration",
                    "session_id": self.id,
                    "state": "failed",
                    "error": cal.error,
                }
            )

    def _decode_due(self, now: float) -> int:
        model = self.model
        assert model is not None  # checked by the caller
        ends = self._due_ends()
        if not ends:
            return 0
        good = [e for e in ends if e > self._bad_until]
        self.n_rejected += len(ends) - len(good)
        if not good:
            return 0
        wins = []
        times = []
        for e in good:
            w, ts = self.filtered.window_ending_at(e, self._window_n)
            wins.append(w)
            times.append(float(ts[-1]))
        X = np.stack(wins)
        t0 = time.perf_counter()
        try:
            proba = model.predict_proba(X)
        except Exception as exc:  # keep running; say what failed
            self.n_decode_errors += 1
            self._warn(f"decoder failed on {len(good)} window(s): {exc}")
            logger.exception("session %s: decode failed", self.id)
            return 0
        compute_ms = (time.perf_counter() - t0) * 1e3 / len(good)
        done = self.clock()
        for t, p in zip(times, proba, strict=True):
            self.n_windows += 1
            best = int(np.argmax(p))
            pred = Prediction(
                t=t,
                probabilities={c: float(v) for c, v in zip(model.classes, p, strict=True)},
                label=model.classes[best],
                model_id=model.model_id,
                latency_ms=max(0.0, (done - t) * 1e3),
                session_id=self.id,
                window_index=self.n_windows,
            )
            self.last_prediction = pred
            msg = pred.to_message()
            msg["compute_ms"] = compute_ms
            if self.recording is not None:
                self.recording.prediction(msg)
            self.publish(msg)
        return len(good)

    def _check_stall(self, now: float) -> None:
        if (
            self.state == "running"
            and self._last_data_clock is not None
            and now - self._last_data_clock > self.config.stall_timeout_s
        ):
            self._set_state("stalled")

    def _set_state(self, state: str) -> None:
        old, self.state = self.state, state
        if old != state:
            logger.info("session %s: %s -> %s", self.id, old, state)
            self.publish({"type": "status", "session_id": self.id, "state": state, "previous": old})

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)
            self.warnings = self.warnings[-20:]
            logger.warning("session %s: %s", self.id, text)

    def _fail(self, text: str) -> None:
        self.error = text
        self._set_state("error")

    def stop(self) -> None:
        """Stop and release the source."""
        if self.state == "stopped":
            return
        self._set_state("stopped")
        self.stop_recording()
        sources: list[Source | MarkerSource] = [self.source, *self.marker_sources]
        for src in sources:
            try:
                src.close()
            except Exception:
                logger.debug("closing source failed", exc_info=True)

    # ----------------------------------------------------------------- recording
    def start_recording(self, folder: Any) -> Any:
        """Record raw EEG, markers and predictions into a new XDF file in ``folder``."""
        from bci.online.recording import SessionRecording

        if self.recording is not None and self.recording.active:
            raise SessionStateError(
                f"Session {self.id} is already recording to {self.recording.path.name}: "
                f"DELETE /sessions/{self.id}/recording first"
            )
        self.recording = SessionRecording(self, folder)
        return self.recording

    def stop_recording(self) -> Any:
        rec, self.recording = self.recording, None
        if rec is not None:
            rec.close()
        return rec

    # ----------------------------------------------------------------- status
    def status(self) -> dict[str, Any]:
        d = self.description
        return {
            "id": self.id,
            "state": self.state,
            "error": self.error,
            "warnings": list(self.warnings),
            "stream": d.to_dict(),
            "model": None if self.model is None else self.model.card(),
            "window_s": self._window_n / self.sfreq,
            "step_s": self.config.step_s,
            "band": [self._filter.l_freq, self._filter.h_freq],
            "counts": {
                "samples": int(self.raw.n_written),
                "windows": int(self.n_windows),
                "rejected_windows": int(self.n_rejected),
                "decode_errors": int(self.n_decode_errors),
                "gaps": int(getattr(self.source, "n_gaps", 0)),
                "dropped": int(getattr(self.source, "n_dropped", 0)),
                "markers": len(self.markers),
            },
            "last_prediction": None
            if self.last_prediction is None
            else self.last_prediction.to_message(),
            "mu_suppression": None if self.mu_feed is None else self.mu_feed.status(),
            "recording": None if self.recording is None else self.recording.status(),
            "adaptation": None if self.adaptation is None else self.adaptation.status(),
        }
