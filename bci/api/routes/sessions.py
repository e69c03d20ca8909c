"""Sessions: bind a stream, inspect, delete; app events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from bci.api.deps import ManagerDep
from bci.api.schemas import (
    BaselineIn,
    CalibrationIn,
    CalibrationOut,
    EventIn,
    EventOut,
    MuSuppressionIn,
    SessionCreate,
    SessionOut,
)
from bci.errors import NotFoundError, StreamNotFoundError
from bci.online.manager import SessionManager
from bci.online.session import DecodingSession

router = APIRouter(prefix="/sessions", tags=["sessions"])


def session_out(s: DecodingSession) -> SessionOut:
    st: dict[str, Any] = s.status()
    return SessionOut(**st, pipeline=s.pipeline, websocket=f"/ws/sessions/{s.id}")


@router.post("", response_model=SessionOut, status_code=status.HTTP_201_CREATED)
def create_session(body: SessionCreate, manager: ManagerDep) -> SessionOut:
    """Resolve the stream (waits up to ``timeout`` s) and start a session on it."""
    model = manager.get_model(body.model_id) if body.model_id else None
    if body.pipeline is not None:
        from bci.decoders import get_pipeline

        get_pipeline(body.pipeline)  # unknown name -> 422 before any stream is opened
    marker_sources = []
    if body.markers:
        marker_sources.append(manager.open_marker_source(body.markers, body.timeout))
    elif body.name:
        try:
            marker_sources.append(manager.open_marker_source(f"{body.name}-markers", 0.3))
        except StreamNotFoundError:
            pass  # a stream without its own marker stream is normal
    try:
        source = manager.open_lsl_source(body.name, body.type, body.source_id, body.timeout)
    except BaseException:
        for m in marker_sources:
            m.close()
        raise
    session = manager.create(
        source,
        model=model,
        window_s=body.window_s,
        step_s=body.step_s,
        expected_channels=body.expected_channels,
        expected_sfreq=body.expected_sfreq,
        pipeline=body.pipeline,
        marker_sources=marker_sources,
        record=body.record,
        adaptation=body.adaptation,
    )
    return session_out(session)


@router.get("", response_model=list[SessionOut])
def list_sessions(manager: ManagerDep) -> list[SessionOut]:
    return [session_out(s) for s in manager.list()]


@router.get("/{session_id}", response_model=SessionOut)
def get_session(session_id: str, manager: ManagerDep) -> SessionOut:
    return session_out(manager.get(session_id))


@router.delete("/{session_id}", response_model=SessionOut)
def delete_session(session_id: str, manager: ManagerDep) -> SessionOut:
    return session_out(manager.delete(session_id))


@router.post("/{session_id}/events", response_model=EventOut, status_code=201)
def post_event(session_id: str, body: EventIn, manager: ManagerDep) -> EventOut:
    """Record an app event; stamped on the LSL clock on arrival unless ``t`` is given."""
    m = manager.get(session_id).add_marker(body.value, body.t, source="http")
    return EventOut(t=m.t, value=m.value, source=m.source)


@router.get("/{session_id}/events", response_model=list[EventOut])
def list_events(session_id: str, manager: ManagerDep) -> list[EventOut]:
    markers = manager.get(session_id).markers
    return [EventOut(t=m.t, value=m.value, source=m.source) for m in markers]


@router.post("/{session_id}/calibration", response_model=CalibrationOut, status_code=202)
def start_calibration(session_id: str, body: CalibrationIn, manager: ManagerDep) -> CalibrationOut:
    """Run a cued calibration: cues on the WebSocket and on LSL, trials cut at the cue times,
    then the pipeline is cross-validated, fitted, stored and activated."""
    from bci.online.calibration import CalibrationSpec

    data = body.model_dump()
    data["pipeline"] = data["pipeline"] or manager.get(session_id).pipeline or "ts-lr"
    cal = manager.start_calibration(session_id, CalibrationSpec(**data))
    return CalibrationOut(**cal.progress())


@router.get("/{session_id}/calibration", response_model=CalibrationOut)
def get_calibration(session_id: str, manager: ManagerDep) -> CalibrationOut:
    return CalibrationOut(**manager.get_calibration(session_id).progress())


@router.delete("/{session_id}/calibration", response_model=CalibrationOut)
def cancel_calibration(session_id: str, manager: ManagerDep) -> CalibrationOut:
    cal = manager.get_calibration(session_id)
    cal.cancel()
    return CalibrationOut(**cal.progress())


def _feed(manager: SessionManager, session_id: str) -> Any:
    session = manager.get(session_id)
    if session.mu_feed is None:
        raise NotFoundError(
            f"Mu suppression is off for session {session.id}: "
            f"PUT /sessions/{session.id}/mu-suppression first"
        )
    return session.mu_feed


@router.put("/{session_id}/mu-suppression")
def enable_mu_suppression(
    session_id: str, body: MuSuppressionIn, manager: ManagerDep
) -> dict[str, Any]:
    """Publish a mu-suppression value (log10 power / baseline power) every ``step_s``."""
    from bci.online.neurofeedback import MuSuppressionFeed

    session = manager.get(session_id)
    session.mu_feed = MuSuppressionFeed(session, **body.model_dump())
    status: dict[str, Any] = session.mu_feed.status()
    return status


@router.get("/{session_id}/mu-suppression")
def get_mu_suppression(session_id: str, manager: ManagerDep) -> dict[str, Any]:
    status: dict[str, Any] = _feed(manager, session_id).status()
    return status


@router.post("/{session_id}/mu-suppression/baseline")
def set_mu_baseline(session_id: str, body: BaselineIn, manager: ManagerDep) -> dict[str, Any]:
    """Use the last ``seconds`` of signal as the baseline (end of a baseline/rest run)."""
    feed = _feed(manager, session_id)
    feed.set_baseline_now(body.seconds)
    status: dict[str, Any] = feed.status()
    return status


@router.delete("/{session_id}/mu-suppression")
def disable_mu_suppression(session_id: str, manager: ManagerDep) -> dict[str, Any]:
    status: dict[str, Any] = _feed(manager, session_id).status()
    manager.get(session_id).mu_feed = None
    return status
