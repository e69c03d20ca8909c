"""The session manager: binds streams to sessions, keeps models, runs the engine."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bci.config import Settings
from bci.decoders.model import Model
from bci.decoders.store import ModelStore
from bci.errors import (
    BCIError,
    NotFoundError,
    SessionNotFoundError,
    SessionStateError,
    StreamMismatchError,
)
from bci.headsets import motor_coverage_warnings
from bci.online.calibration import Calibration, CalibrationSpec
from bci.online.engine import Engine
from bci.online.session import DecodingSession, SessionConfig, Source

__all__ = ["SessionManager"]

logger = logging.getLogger(__name__)


class SessionManager:
    """Creates, lists and deletes sessions; owns the engine and the model store.

    Models persist under ``settings.data_dir / "models"`` (:class:`ModelStore`).

    Parameters
    ----------
    settings : Settings
    engine : Engine or None
        A new one is made (not started) when None.
    clock : callable or None
        The LSL clock; ``bci.streams.lsl.local_clock`` when None.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or Engine()
        if clock is None:
            from bci.streams.lsl import local_clock

            clock = local_clock
        self.clock = clock
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
    def recordings_dir(self) -> Path:
        return Path(self.settings.data_dir) / "recordings"

    # ------------------------------------------------------------------ sessions
    def open_lsl_source(
        self,
        name: str | None = None,
        type: str | None = None,
        source_id: str | None = None,
        timeout: float | None = None,
    ) -> Source:
        """Resolve an LSL stream and open a non-blocking inlet on it (blocks up to timeout)."""
        from bci.streams.lsl import Inlet, resolve_stream

        info = resolve_stream(
            name=name,
            type=type,
            source_id=source_id,
            timeout=self.settings.resolve_timeout if timeout is None else timeout,
        )
        return Inlet(info)

    def open_marker_source(self, name: str, timeout: float = 0.3) -> Any:
        """Open an LSL marker stream by name (raises StreamNotFoundError if absent)."""
        from bci.streams.lsl import MarkerInlet, resolve_stream

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
            from bci.online.adaptation import SessionAdaptation

            try:
                session.adaptation = SessionAdaptation(session, adaptation, store=self.store)
            except BCIError:
                for src in (source, *(marker_sources or [])):
                    src.close()
                raise
        session.pipeline = pipeline or self.settings.pipeline
        session.marker_sources.extend(marker_sources or [])
        for w in motor_coverage_warnings(d.ch_names, d.name):
            session.warnings.append(w)
        with self._lock:
            self._sessions[sid] = session
        if record if record is not None else self.settings.record:
            try:
                session.start_recording(self.recordings_dir)
            except BCIError as exc:  # the session runs; it says why it does not record
                session._warn(f"recording could not start: {exc}")
        self.engine.add(session)
        logger.info(
            "session %s bound to stream %r (%d ch, %g Hz)", sid, d.name, d.n_channels, d.sfreq
        )
        return session

    def start_calibration(self, session_id: str, spec: CalibrationSpec) -> Calibration:
        """Start a calibration run on a session (refused while another one runs)."""
        session = self.get(session_id)
        cur = session.calibration
        if cur is not None and cur.state in ("running", "fitting"):
            raise SessionStateError(
                f"A calibration is already {cur.state} on session {session.id}: wait for it "
                f"or DELETE /sessions/{session.id}/calibration first"
            )
        follower = self.hosted.get(session.description.name)
        if follower is not None and not hasattr(follower, "set_condition"):
            follower = None
        cal = Calibration(
            session,
            spec,
            on_model=self.add_model,
            follower=follower,
            marker_outlet=self._cue_outlet(session),
        )
        session.calibration = cal
        return cal

    def _cue_outlet(self, session: DecodingSession) -> Any:
        """An LSL marker stream ``bci-session-<id>-cues`` so any recorder sees the cues."""
        outlet = session.cue_outlet
        if outlet is None:
            from bci.streams.lsl import get_pylsl, make_marker_info

            name = f"bci-session-{session.id}-cues"
            outlet = get_pylsl().StreamOutlet(make_marker_info(name, f"{name}-{id(self)}"))
            session.cue_outlet = outlet
        return outlet

    def get_calibration(self, session_id: str) -> Calibration:
        session = self.get(session_id)
        if session.calibration is None:
            raise NotFoundError(
                f"No calibration has run on session {session.id}: "
                f"POST /sessions/{session.id}/calibration to start one"
            )
        cal: Calibration = session.calibration
        return cal

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

    def delete(self, session_id: str) -> DecodingSession:
        s = self.get(session_id)
        with self._lock:
            self._sessions.pop(s.id, None)
        self.engine.remove(s.id)
        s.stop()
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
