"""The decoding session: source -> raw buffer -> ordered stages -> messages.

A session owns its state (source, raw ring buffer, markers, stages). :meth:`step` does one
round of work and never blocks, so the engine thread, a replay loop or a unit test can drive
it the same way. What happens to the samples is the stages' business
(:mod:`bci.online.stages`): the decoder, the signal monitor, and whichever of calibration,
mu suppression, cue outlet and recording are on.

Commands
--------
Every change from another thread (an API route, a WebSocket client, a calibration's fit
thread) is a command: a function of the session queued with :meth:`submit`, which returns a
:class:`concurrent.futures.Future`. The commands run at the start of the next :meth:`step`,
on the thread that steps the session, so only that thread mutates the session.
:meth:`apply_commands` runs the queue now (under the same lock as a step): the manager calls
it when no engine steps the session (unit tests, before the engine starts, after a delete),
so a command always completes and nothing waits for a step that will never come.
"""

# Long module: the step, the command inbox, subscriptions and the status are one state
# machine over one lock; what happens to samples is already in the stages' modules.

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from bci.decoders.model import Model
from bci.errors import BCIError, SessionStateError, SignalError
from bci.online.decoder import Decoder
from bci.online.messages import MarkerMessage, Message, Status
from bci.online.monitor import SignalMonitor
from bci.online.quality_gate import QualityGate
from bci.online.stages import STATUS_KEYS, ChunkIn, Stage, StageContext
from bci.streams.buffer import RingBuffer
from bci.types import Chunk, Marker, StreamDescription

__all__ = ["Command", "DecodingSession", "MarkerSource", "SessionConfig", "Source"]

logger = logging.getLogger(__name__)

Subscriber = Callable[[Message], None]
_NO_ROWS = np.empty(0, dtype=np.intp)
_NO_ROWS.flags.writeable = False
S = TypeVar("S", bound=Stage)
T = TypeVar("T")
#: A command: a function applied to the session on the thread that steps it.
Command = Callable[["DecodingSession"], T]


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
    """One stream decoded by one (swappable) model, with optional stages.

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
        desc = source.description
        if desc.sfreq <= 0:
            raise SignalError(
                f"Stream {desc.name!r} has an irregular rate; an EEG stream with a nominal "
                "sampling rate is needed"
            )
        self.description = desc
        self.sfreq = desc.sfreq
        self.ch_names = list(desc.ch_names)
        cap = int(np.ceil(max(self.config.buffer_s, self.config.window_s * 2) * self.sfreq))
        self.raw = RingBuffer(cap, desc.n_channels)
        self.state = "starting"
        self.error: str | None = None
        self.warnings: list[str] = []
        self.markers: deque[Marker] = deque(maxlen=10_000)
        self.created = time.time()
        self.pipeline: str | None = None  # the pipeline a calibration fits by default
        self.marker_sources: list[MarkerSource] = []
        # A source's own marker -> the class marker it stands for (POST /sessions marker_map).
        self.marker_map: dict[str, str] = {}
        self._clock = clock
        self._subscribers: list[Subscriber] = []
        self._sub_lock = threading.Lock()
        self._step_lock = threading.RLock()  # held while a step or the command queue runs
        self._inbox: deque[tuple[Command[Any], Future[Any]]] = deque()
        self._last_data_clock: float | None = None
        self._last_t: float | None = None
        self.ctx = StageContext(
            session_id, desc, self.raw, clock, self._warn, self._stamp, self.set_model
        )
        self.ctx.wants_signal = self.wants_signal
        self._stages: list[Stage] = []
        # The stages that override each hook, in order (rebuilt when the stages change):
        # most stages need one or two hooks, and a step calls them for every session.
        self._chunk_hooks: list[Stage] = []
        self._tick_hooks: list[Stage] = []
        self._marker_hooks: list[Stage] = []
        self._message_hooks: list[Stage] = []
        self._published_hooks: list[Stage] = []
        c = self.config
        self._decoder = Decoder(self.sfreq, desc.n_channels, cap, c.window_s, c.step_s, c.band)
        self.add_stage(self._decoder)
        self.add_stage(QualityGate(lambda: self._decoder.window_n, self.sfreq))
        self.add_stage(SignalMonitor())
        if model is not None:
            self.set_model(model)

    # ----------------------------------------------------------------- clock
    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.ctx.clock = clock

    def _now(self) -> float:
        return self._clock()

    # ----------------------------------------------------------------- stages
    def add_stage(self, stage: Stage) -> Stage:
        """Insert ``stage`` by its ``order`` (after the stages of the same order)."""
        if isinstance(stage, Decoder):  # a replacement decoder (batched, adaptive...)
            self._decoder = stage
        i = next((k for k, s in enumerate(self._stages) if s.order > stage.order), None)
        self._stages.insert(len(self._stages) if i is None else i, stage)
        self._index_hooks()
        return stage

    def _index_hooks(self) -> None:
        def overriding(name: str) -> list[Stage]:
            base = getattr(Stage, name)
            return [st for st in self._stages if getattr(type(st), name) is not base]

        self._chunk_hooks = overriding("on_chunk")
        self._tick_hooks = overriding("tick")
        self._marker_hooks = overriding("on_marker")
        self._message_hooks = overriding("on_message")
        self._published_hooks = overriding("on_published")
        self._clocked = [st for st in self._stages if type(st).clocked is not Stage.clocked]

    def remove_stage(self, stage: Stage) -> None:
        """Remove ``stage`` (if present) and close it."""
        if stage in self._stages:
            self._stages.remove(stage)
            self._index_hooks()
            stage.close()

    def replace_stage(self, stage: Stage) -> Stage:
        """Remove every stage of ``type(stage)``, then add ``stage``."""
        for old in [s for s in self._stages if type(s) is type(stage)]:
            self.remove_stage(old)
        return self.add_stage(stage)

    def stage(self, kind: type[S]) -> S | None:
        """The stage of type ``kind``, or None."""
        for s in self._stages:
            if isinstance(s, kind):
                return s
        return None

    @property
    def stages(self) -> list[Stage]:
        """The stages in order (a copy)."""
        return list(self._stages)

    @property
    def decoder(self) -> Decoder:
        """The decoder stage (every session has one, added at construction)."""
        return self._decoder

    @property
    def model(self) -> Model | None:
        return self.decoder.model

    @property
    def n_windows(self) -> int:
        return self.decoder.n_windows

    @property
    def last_prediction(self) -> Any:
        """The latest ``prediction`` published (never one a stage withheld or dropped)."""
        return self.decoder.last_prediction

    # ----------------------------------------------------------------- subscriptions
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(message)`` for every message; returns the unsubscribe function."""
        with self._sub_lock:
            self._subscribers.append(callback)

        def _unsubscribe() -> None:
            with self._sub_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return _unsubscribe

    def wants_signal(self) -> bool:
        """Whether any subscriber takes ``signal`` frames.

        A subscriber says no with a ``wants_signal`` attribute that is false (the WebSocket
        fan-out does, unless a client asked for ``?signal=1``); the signal monitor then skips
        its work (band power and quality every 0.1 s per session).
        """
        with self._sub_lock:
            subs = list(self._subscribers)
        return any(getattr(cb, "wants_signal", True) for cb in subs)

    def publish(self, message: Message) -> None:
        """Pass ``message`` through the stages' ``on_message``, then to every subscriber."""
        msg = message
        for stage in self._message_hooks:
            out = stage.on_message(self.ctx, msg)
            if out is None:
                return
            msg = out
        for stage in self._published_hooks:
            stage.on_published(self.ctx, msg)
        with self._sub_lock:
            subs = list(self._subscribers)
        for cb in subs:
            try:
                cb(msg)
            except Exception:  # a broken subscriber must not stop decoding
                logger.exception("session %s: subscriber failed", self.id)

    def _publish_all(self, messages: list[Message]) -> None:
        for m in messages:
            self.publish(m)

    # ----------------------------------------------------------------- commands
    def submit(self, command: Command[T]) -> Future[T]:
        """Queue ``command``; it runs at the start of the next step (or :meth:`apply_commands`).

        Returns
        -------
        future : Future
            Resolves to the command's return value, or raises its exception.
        """
        fut: Future[T] = Future()
        self._inbox.append((command, fut))
        return fut

    def apply_commands(self) -> int:
        """Run the queued commands now, in order; returns how many ran."""
        n = 0
        with self._step_lock:
            while self._inbox:
                command, fut = self._inbox.popleft()
                if not fut.set_running_or_notify_cancel():
                    continue
                try:
                    fut.set_result(command(self))
                except BaseException as exc:  # handed to the caller, never swallowed
                    fut.set_exception(exc)
                n += 1
        return n

    # ----------------------------------------------------------------- model
    def set_model(self, model: Model) -> None:
        """Activate ``model``; refuses one whose channels or rate differ from the stream.

        Call it from the thread that steps the session (other threads:
        ``SessionManager.activate_model``).
        """
        self.publish(self.decoder.set_model(self.ctx, model))

    def require_model(self) -> Model:
        if self.model is None:
            raise SessionStateError(
                f"No model is active for session {self.id}: run a calibration or "
                f"POST /sessions/{self.id}/model first"
            )
        return self.model

    # ----------------------------------------------------------------- markers
    def add_marker(self, value: str, t: float | None = None, source: str = "api") -> Marker:
        """Record an event on the LSL clock (stamped now if ``t`` is None).

        Call it from the thread that steps the session; other threads submit it as a
        command (``SessionManager.add_event``).
        """
        return self._stamp(value, t, source)

    def _stamp(self, value: str, t: float | None, source: str, stream: str = "") -> Marker:
        label = self.marker_map.get(str(value)) if source == "lsl" else None
        t = self._now() if t is None else float(t)
        m = Marker(t=t, value=str(value), source=source, stream=stream, label=label)
        self.markers.append(m)
        out: list[Message] = []
        for stage in self._marker_hooks:
            out.extend(stage.on_marker(self.ctx, m))
        self.publish(
            MarkerMessage(
                session_id=self.id,
                t=t,
                value=m.value,
                source=source,
                stream=stream or None,
                mapped=label,
            )
        )
        self._publish_all(out)
        return m

    # ----------------------------------------------------------------- the step
    def wants_step(self) -> bool:
        """True when the session must be stepped now even if no sample is due: a command is
        queued, or a stage is :attr:`~bci.online.stages.Stage.clocked`."""
        return bool(self._inbox) or any(st.clocked for st in self._clocked)

    def step(self) -> int:
        """Apply commands, pull what has arrived, run the stages. Never blocks.

        Returns
        -------
        n_windows : int
            Windows decoded in this step.
        """
        with self._step_lock:
            if self._inbox:
                self.apply_commands()
            if self.state in ("stopped", "error"):
                return 0
            dec = self._decoder
            before = dec.n_windows
            self._step()
            return dec.n_windows - before

    def _step(self) -> None:
        now = self._clock()
        for ms in self.marker_sources:
            try:
                name = getattr(getattr(ms, "description", None), "name", "")
                for t, value in ms.pull():
                    self._stamp(value, t, "lsl", name)
            except Exception as exc:  # a marker stream problem must not stop decoding
                self._warn(f"marker stream failed: {exc}")
        try:
            chunk = self.source.pull()
        except BCIError as exc:
            self.fail(str(exc))
            return
        # LSL inlets: unknown units, repeated or backward timestamps.
        for text in getattr(self.source, "drain_warnings", list)():
            self._warn(text)
        if chunk.n_samples == 0:
            self._check_stall(now)
        else:
            self._last_data_clock = now
            if self.state != "running":
                self._set_state("running")
            try:
                cin = self._ingest(chunk)
            except SignalError as exc:
                self._warn(f"chunk dropped: {exc}")
                return
            for stage in self._chunk_hooks:
                msgs = stage.on_chunk(self.ctx, cin)
                if msgs:
                    self._publish_all(msgs)
        for stage in self._tick_hooks:
            msgs = stage.tick(self.ctx, now)
            if msgs:
                self._publish_all(msgs)

    def _ingest(self, chunk: Chunk) -> ChunkIn:
        received = chunk.data
        data = np.asarray(received, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != self.raw.n_channels:
            raise SignalError(f"chunk has shape {data.shape}, expected (n, {self.raw.n_channels})")
        t = chunk.timestamps
        gap = self._last_t is not None and t[0] - self._last_t > self.config.gap_reset_s
        if gap:
            logger.info(
                "session %s: %.2f s gap in the stream, restarting windows",
                self.id,
                t[0] - self._last_t,
            )
        self._last_t = float(t[-1])
        bad_rows = _NO_ROWS
        if not np.isfinite(data).all():  # rare: one check per chunk in the usual case
            bad = ~np.isfinite(data)
            bad_rows = np.flatnonzero(bad.any(axis=1))
            data = np.where(bad, 0.0, data)
            chans = [self.ch_names[i] for i in np.flatnonzero(bad.any(axis=0))]
            self._warn(
                f"non-finite samples (NaN/inf) on {', '.join(chans)}; "
                "windows containing them are not decoded"
            )
        self.raw.write(data, t)
        return ChunkIn(data, t, np.asarray(received), bad_rows, bool(gap))

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
            self.publish(Status(session_id=self.id, state=state, previous=old))  # type: ignore[arg-type]

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)
            self.warnings = self.warnings[-20:]
            logger.warning("session %s: %s", self.id, text)

    def fail(self, text: str) -> None:
        """Put the session in the ``error`` state with ``text`` as its error."""
        self.error = text
        self._set_state("error")

    def stop(self) -> None:
        """Stop, close every stage and release the sources."""
        with self._step_lock:
            if self.state == "stopped":
                return
            self._set_state("stopped")
            for stage in list(self._stages):
                try:
                    stage.close()
                except Exception:
                    logger.exception("session %s: closing %s failed", self.id, stage)
            sources: list[Source | MarkerSource] = [self.source, *self.marker_sources]
            for src in sources:
                try:
                    src.close()
                except Exception:
                    logger.debug("closing source failed", exc_info=True)

    # ----------------------------------------------------------------- status
    def status(self) -> dict[str, Any]:
        """JSON-ready state: stream, counts, and each stage's contribution."""
        out: dict[str, Any] = {
            "id": self.id,
            "state": self.state,
            "error": self.error,
            "warnings": list(self.warnings),
            "stream": self.description.to_dict(),
            "pipeline": self.pipeline,
            "marker_map": dict(self.marker_map),
            "counts": {
                "samples": int(self.raw.n_written),
                "gaps": int(getattr(self.source, "n_gaps", 0)),
                "dropped": int(getattr(self.source, "n_dropped", 0)),
                "timestamp_errors": int(getattr(self.source, "n_timestamp_errors", 0)),
                "markers": len(self.markers),
            },
        }
        out.update(dict.fromkeys(STATUS_KEYS))
        for stage in list(self._stages):
            st = stage.status()
            if stage.status_key is not None:
                out[stage.status_key] = st
            elif st is not None:
                for k, v in st.items():
                    if isinstance(v, dict) and isinstance(out.get(k), dict):
                        out[k] = {**out[k], **v}
                    else:
                        out[k] = v
        return out
