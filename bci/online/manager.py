"""The session manager: binds streams to sessions, keeps models, runs the engine.

Every change to a session goes through a command (:meth:`DecodingSession.submit`): the
manager's methods (``add_event``, ``start_calibration``, ``enable_mu_suppression``,
``start_recording``, ``activate_model``, ``delete``...) queue one and wait for its result.
While the engine steps the session, the engine thread applies it at the start of the
session's next step; when no engine steps it (a unit test stepping by hand, a session not
yet added or already removed, an engine stopped meanwhile) the waiting caller applies the
queue itself, under the session's step lock, so a command always completes. Reads
(``get``, ``session_status``, ``calibration_progress``...) do not wait for a step.
"""

from __future__ import annotations

import builtins
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, TypeVar

from bci.config import Settings
from bci.decoders.model import Model
from bci.decoders.store import ModelStore
from bci.errors import (
    BCIError,
    CommandTimeoutError,
    NotFoundError,
    SessionNotFoundError,
    SessionStateError,
    StreamMismatchError,
)
from bci.headsets import motor_coverage_warnings
from bci.online.calibration import Calibration, CalibrationSpec, Follower
from bci.online.cues import CueOutlet
from bci.online.engine import Engine
from bci.online.neurofeedback import MuSuppressionFeed
from bci.online.recording import SessionRecording
from bci.online.session import DecodingSession, SessionConfig, Source
from bci.types import Marker

__all__ = ["SessionManager"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SessionManager:
    """Creates, lists and deletes sessions; sends them commands; owns the engine and models.

    Models persist under ``settings.data_dir / "models"`` (:class:`ModelStore`).

    Parameters
    ----------
    settings : Settings
    engine : Engine or None
        A new one is made (not started) when None.
    clock : callable or None
        The LSL clock; ``bci.streams.lsl.local_clock`` when None.
    command_timeout : float
        Seconds a caller waits for the engine to apply a command before
        :class:`~bci.errors.CommandTimeoutError`.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        clock: Callable[[], float] | None = None,
        command_timeout: float = 10.0,
    ) -> None:
        self.settings = settings
        self.engine = engine or Engine(
            period_s=settings.engine_period_ms / 1e3,
            batch=settings.engine_batch,
            hold=settings.engine_hold,
        )
        if clock is None:
            from bci.streams.lsl import local_clock

            clock = local_clock
        self.clock = clock
        self.command_timeout = command_timeout
        self._sessions: dict[str, DecodingSession] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.store = ModelStore(settings.data_dir / "models")
        # Sources this process publishes itself (synthetic headsets, replays), by stream name.
        self.hosted: dict[str, Any] = {}

    # ------------------------------------------------------------------ models
    def add_model(self, model: Model) -> Model:
        """Store ``model`` on disk (and in memory); returns it."""
        self.store.save(model)
        return model

    def get_model(self, model_id: str) -> Model:
        """A stored model; raises ModelNotFoundError naming the known ids."""
        return self.store.get(model_id)

    @property
    def instance(self) -> str:
        """This service's id in the names of the LSL outlets it creates (see
        :func:`~bci.streams.lsl.service_outlet_ids`): stable across restarts, different for
        two services on one machine (another data folder or port)."""
        from bci.streams.lsl import instance_id

        return instance_id(Path(self.settings.data_dir).resolve(), self.settings.port)

    @property
    def recordings_dir(self) -> Path:
        return Path(self.settings.data_dir) / "recordings"

    # ------------------------------------------------------------------ commands
    def _command(self, session: DecodingSession, command: Callable[[DecodingSession], T]) -> T:
        """Queue ``command`` on ``session`` and wait for its result (see the module doc)."""
        fut = session.submit(command)
        deadline = time.monotonic() + self.command_timeout
        while True:
            if not self.engine.steps(session):
                session.apply_commands()  # nobody else will: apply it here
            try:
                return fut.result(timeout=0.05)
            except FutureTimeout:
                if time.monotonic() > deadline:
                    fut.cancel()
                    raise CommandTimeoutError(
                        f"Session {session.id} did not apply a command within "
                        f"{self.command_timeout:g} s: the engine is busy or stuck; "
                        f"GET /sessions/{session.id} shows its state"
                    ) from None

    # ------------------------------------------------------------------ sessions
    def open_lsl_source(
        self,
        name: str | None = None,
        type: str | None = None,
        source_id: str | None = None,
        timeout: float | None = None,
        dejitter: bool = False,
    ) -> Source:
        """Resolve an LSL stream and open a non-blocking inlet on it (blocks up to timeout).

        Any numeric channel format is read, each channel converted from its declared unit
        to µV; ``dejitter`` lets liblsl smooth the timestamps.
        """
        from bci.streams.inlets import Inlet
        from bci.streams.lsl import resolve_stream

        info = resolve_stream(
            name=name,
            type=type,
            source_id=source_id,
            timeout=self.settings.resolve_timeout if timeout is None else timeout,
        )
        return Inlet(info, dejitter=dejitter)

    def open_marker_source(self, name: str, timeout: float = 0.3) -> Any:
        """Open an LSL marker stream by name (raises StreamNotFoundError if absent).

        String, numeric-code and one-hot (mne-lsl annotation) streams are all read.
        """
        from bci.streams.inlets import MarkerInlet
        from bci.streams.lsl import resolve_stream

        return MarkerInlet(resolve_stream(name=name, timeout=timeout))

    def create(
        self,
        source: Source,
        *,
        model: Model | None = None,
        window_s: float | None = None,
        step_s: float | None = None,
        expected_channels: int | None = None,
        expected_sfreq: float | None = None,
        pipeline: str | None = None,
        marker_sources: list[Any] | None = None,
        record: bool | None = None,
        marker_map: Mapping[str, str] | None = None,
        lsl_outlet: bool = False,
        adaptation: str = "none",
    ) -> DecodingSession:
        """Start a session on ``source`` (it is stepped by the engine from now on).

        ``adaptation`` is ``"none"``, ``"recenter"`` or ``"supervised"``
        (:mod:`bci.online.adaptation`).
        """
        d = source.description
        try:
            if expected_channels is not None and d.n_channels != expected_channels:
                raise StreamMismatchError(
                    f"Stream {d.name!r} has {d.n_channels} channels, the session expects "
                    f"{expected_channels}"
                )
            if expected_sfreq is not None and abs(d.sfreq - expected_sfreq) > 1e-6:
                raise StreamMismatchError(
                    f"Stream {d.name!r} runs at {d.sfreq:g} Hz, the session expects "
                    f"{expected_sfreq:g} Hz"
                )
            s = self.settings
            config = SessionConfig(
                window_s=window_s or s.window_s,
                step_s=step_s or s.step_s,
                band=(s.l_freq, s.h_freq),
                stall_timeout_s=s.stall_timeout_s,
            )
            with self._lock:
                sid = str(next(self._ids))
            session = DecodingSession(sid, source, model=model, config=config, clock=self.clock)
        except BCIError:
            for src in (source, *(marker_sources or [])):
                src.close()
            raise
        if adaptation != "none":
            from bci.online.adaptation import AdaptationStage

            try:
                session.add_stage(
                    AdaptationStage(session.decoder, config.step_s, adaptation, store=self.store)
                )
            except BCIError:
                for src in (source, *(marker_sources or [])):
                    src.close()
                raise
        session.pipeline = pipeline or self.settings.pipeline
        session.marker_map = dict(marker_map or {})
        if lsl_outlet:  # decisions on LSL too (bci-session-<id>-predictions-<instance>)
            from bci.online.lsl_outlet import PredictionOutlet

            session.add_stage(PredictionOutlet(self.instance, sid))
        session.marker_sources.extend(marker_sources or [])
        for w in motor_coverage_warnings(d.ch_names, d.name):
            session.warnings.append(w)
        with self._lock:
            self._sessions[sid] = session
        if record if record is not None else self.settings.record:
            try:
                self.start_recording(sid)
            except BCIError as exc:  # the session runs; it says why it does not record
                session._warn(f"recording could not start: {exc}")
        self.engine.add(session)
        logger.info(
            "session %s bound to stream %r (%d ch, %g Hz)", sid, d.name, d.n_channels, d.sfreq
        )
        return session

    def get(self, session_id: str) -> DecodingSession:
        with self._lock:
            s = self._sessions.get(str(session_id))
            known = ", ".join(self._sessions) or "none"
        if s is None:
            raise SessionNotFoundError(
                f"No session with id {session_id!r}. Active sessions: {known}"
            )
        return s

    def list(self) -> list[DecodingSession]:
        with self._lock:
            return list(self._sessions.values())

    def session_status(self, session_id: str) -> dict[str, Any]:
        """The session's status (as GET /sessions/{id}, without the WebSocket path)."""
        return self.get(session_id).status()

    def delete(self, session_id: str) -> DecodingSession:
        """Stop the session (a command: it runs after the step in progress) and forget it."""
        s = self.get(session_id)
        with self._lock:
            self._sessions.pop(s.id, None)
        self.engine.remove(s.id)
        self._command(s, DecodingSession.stop)
        return s

    def close(self) -> None:
        """Stop every session, hosted source and the engine."""
        self.engine.stop()
        for s in self.list():
            self.delete(s.id)
        for name, src in list(self.hosted.items()):
            try:
                src.close()
            except Exception:
                logger.exception("closing hosted source %s failed", name)
        self.hosted.clear()

    # ------------------------------------------------------------------ events
    def add_event(
        self, session_id: str, value: str, t: float | None = None, source: str = "http"
    ) -> Marker:
        """Stamp an app event (on the LSL clock at arrival unless ``t`` is given)."""
        s = self.get(session_id)
        stamp = self.clock() if t is None else float(t)
        return self._command(s, lambda s: s.add_marker(value, stamp, source=source))

    def events(self, session_id: str) -> builtins.list[Marker]:
        """Every marker of the session (the last 10 000), oldest first."""
        return list(self.get(session_id).markers)

    # ------------------------------------------------------------------ models in sessions
    def activate_model(self, session_id: str, model_id: str) -> dict[str, Any]:
        """Decode with stored model ``model_id`` from now on; returns the session status."""
        s = self.get(session_id)
        model = self.get_model(model_id)
        model.check_compatible(s.ch_names, s.sfreq)  # refuse in the caller's thread

        def _activate(s: DecodingSession) -> dict[str, Any]:
            s.set_model(model)
            return s.status()

        return self._command(s, _activate)

    # ------------------------------------------------------------------ calibration
    def start_calibration(
        self, session_id: str, spec: CalibrationSpec | Mapping[str, Any]
    ) -> dict[str, Any]:
        """Start a calibration run (refused while another one runs); returns its progress.

        ``spec`` as a mapping takes the fields of :class:`CalibrationSpec`; a missing or
        None ``pipeline`` is the session's pipeline.
        """
        s = self.get(session_id)
        if s.state in ("error", "stopped"):
            cause = f": {s.error}" if s.error else ""
            raise SessionStateError(
                f"Session {s.id} is in state {s.state!r}{cause}. A calibration needs a live "
                f"stream: DELETE /sessions/{s.id} and POST /sessions again once the stream "
                "is back"
            )
        if not isinstance(spec, CalibrationSpec):
            fields = dict(spec)
            fields["pipeline"] = fields.get("pipeline") or s.pipeline or "ts-lr"
            spec = CalibrationSpec(**fields)
        hosted = self.hosted.get(s.description.name)
        follower = hosted if isinstance(hosted, Follower) else None  # a replay cannot follow
        cal = Calibration(s.ctx, spec, on_model=self.add_model, follower=follower)
        outlet = None
        if s.stage(CueOutlet) is None:  # made here: opening an LSL outlet takes a while
            from bci.streams.lsl import service_outlet_ids

            name, source_id = service_outlet_ids(self.instance, s.id, "cues")
            outlet = CueOutlet(s.ctx, source_id, name=name)

        def _start(s: DecodingSession) -> dict[str, Any]:
            cur = s.stage(Calibration)
            if cur is not None and cur.state in ("running", "fitting"):
                raise SessionStateError(
                    f"A calibration is already {cur.state} on session {s.id}: wait for it "
                    f"or DELETE /sessions/{s.id}/calibration first"
                )
            if outlet is not None and s.stage(CueOutlet) is None:
                s.add_stage(outlet)
            s.replace_stage(cal)
            return cal.progress()

        try:
            return self._command(s, _start)
        finally:
            if outlet is not None and s.stage(CueOutlet) is not outlet:
                outlet.close()

    def calibration(self, session_id: str) -> Calibration:
        """The session's current (or last) calibration run."""
        s = self.get(session_id)
        cal = s.stage(Calibration)
        if cal is None:
            raise NotFoundError(
                f"No calibration has run on session {s.id}: "
                f"POST /sessions/{s.id}/calibration to start one"
            )
        return cal

    def calibration_progress(self, session_id: str) -> dict[str, Any]:
        return self.calibration(session_id).progress()

    def cancel_calibration(self, session_id: str) -> dict[str, Any]:
        """Cancel the running calibration; returns its progress."""
        s = self.get(session_id)
        cal = self.calibration(session_id)

        def _cancel(s: DecodingSession) -> dict[str, Any]:
            for msg in cal.cancel():
                s.publish(msg)
            return cal.progress()

        return self._command(s, _cancel)

    # ------------------------------------------------------------------ mu suppression
    def _feed(self, s: DecodingSession) -> MuSuppressionFeed:
        feed = s.stage(MuSuppressionFeed)
        if feed is None:
            raise NotFoundError(
                f"Mu suppression is off for session {s.id}: "
                f"PUT /sessions/{s.id}/mu-suppression first"
            )
        return feed

    def enable_mu_suppression(self, session_id: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """(Re)start the mu-suppression feed with ``config`` (MuSuppressionFeed's parameters)."""

        def _enable(s: DecodingSession) -> dict[str, Any]:
            feed = MuSuppressionFeed(s.ctx, **config)
            s.replace_stage(feed)
            return feed.status()

        return self._command(self.get(session_id), _enable)

    def mu_suppression_status(self, session_id: str) -> dict[str, Any]:
        return self._feed(self.get(session_id)).status()

    def set_mu_baseline(self, session_id: str, seconds: float) -> dict[str, Any]:
        """Use the last ``seconds`` of signal as the mu-suppression baseline."""

        def _baseline(s: DecodingSession) -> dict[str, Any]:
            feed = self._feed(s)
            feed.set_baseline_now(s.ctx, seconds)
            return feed.status()

        return self._command(self.get(session_id), _baseline)

    def disable_mu_suppression(self, session_id: str) -> dict[str, Any]:
        """Turn the feed off; returns its last status."""

        def _disable(s: DecodingSession) -> dict[str, Any]:
            feed = self._feed(s)
            st = feed.status()
            s.remove_stage(feed)
            return st

        return self._command(self.get(session_id), _disable)

    # ------------------------------------------------------------------ recording
    def start_recording(self, session_id: str) -> dict[str, Any]:
        """Record raw EEG, markers and predictions to a new XDF file; returns the status."""
        folder = self.recordings_dir

        def _start(s: DecodingSession) -> dict[str, Any]:
            rec = s.stage(SessionRecording)
            if rec is not None and rec.active:
                raise SessionStateError(
                    f"Session {s.id} is already recording to {rec.path.name}: "
                    f"DELETE /sessions/{s.id}/recording first"
                )
            markers = [getattr(m, "description", None) for m in s.marker_sources]
            s.replace_stage(SessionRecording(s.ctx, folder, [d for d in markers if d is not None]))
            return s.status()

        return self._command(self.get(session_id), _start)

    def stop_recording(self, session_id: str) -> dict[str, Any]:
        """Close the session's recording file; returns the status."""

        def _stop(s: DecodingSession) -> dict[str, Any]:
            rec = s.stage(SessionRecording)
            if rec is None:
                raise SessionStateError(f"Session {s.id} is not recording")
            s.remove_stage(rec)
            return s.status()

        return self._command(self.get(session_id), _stop)

    def active_recordings(self) -> dict[str, str]:
        """File name -> session id of every recording being written."""
        out = {}
        for s in self.list():
            rec = s.stage(SessionRecording)
            if rec is not None and rec.active:
                out[rec.path.name] = s.id
        return out
