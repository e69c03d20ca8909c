"""Sessions: bind a stream, inspect, delete; app events."""

from __future__ import annotations

import time
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
from bci.errors import StreamNotFoundError

router = APIRouter(prefix="/sessions", tags=["sessions"])


def session_out(st: dict[str, Any]) -> SessionOut:
    """A session status (``manager.session_status``) as the API returns it."""
    return SessionOut(**st, websocket=f"/ws/sessions/{st['id']}")


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
        # LabRecorder-era tools publish "<name>-markers"; mne-lsl's Player "<name>-annotations".
        # Short looks at both names; with a marker_map the markers are expected, so keep
        # looking for as long as the stream itself may take to appear.
        deadline = time.monotonic() + (body.timeout if body.marker_map else 0.0)
        while not marker_sources:
            for suffix in ("-markers", "-annotations"):
                try:
                    marker_sources.append(manager.open_marker_source(f"{body.name}{suffix}", 0.3))
                    break
                except StreamNotFoundError:
                    pass  # a stream without its own marker stream is normal
            if time.monotonic() >= deadline:
                break
    try:
        source = manager.open_lsl_source(
            body.name, body.type, body.source_id, body.timeout, dejitter=body.dejitter
        )
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
        marker_map=body.marker_map,
        lsl_outlet=body.lsl_outlet,
        adaptation=body.adaptation,
    )
    if body.marker_map and not marker_sources:
        session.warnings.append(
            f"marker_map is set but no marker stream was found ('{body.name}-markers' or "
            f"'{body.name}-annotations'); name it with \"markers\""
        )
    return session_out(manager.session_status(session.id))


@router.get("", response_model=list[SessionOut])
def list_sessions(manager: ManagerDep) -> list[SessionOut]:
    return [session_out(s.status()) for s in manager.list()]


@router.get("/{session_id}", response_model=SessionOut)
def get_session(session_id: str, manager: ManagerDep) -> SessionOut:
    return session_out(manager.session_status(session_id))


@router.delete("/{session_id}", response_model=SessionOut)
def delete_session(session_id: str, manager: ManagerDep) -> SessionOut:
    return session_out(manager.delete(session_id).status())


@router.post("/{session_id}/events", response_model=EventOut, status_code=201)
def post_event(session_id: str, body: EventIn, manager: ManagerDep) -> EventOut:
    """Record an app event; stamped on the LSL clock on arrival unless ``t`` is given."""
    m = manager.add_event(session_id, body.value, body.t, source="http")
    return EventOut(t=m.t, value=m.value, source=m.source)


@router.get("/{session_id}/events", response_model=list[EventOut])
def list_events(session_id: str, manager: ManagerDep) -> list[EventOut]:
    markers = manager.events(session_id)
    return [EventOut(t=m.t, value=m.value, source=m.source) for m in markers]


@router.post("/{session_id}/calibration", response_model=CalibrationOut, status_code=202)
def start_calibration(session_id: str, body: CalibrationIn, manager: ManagerDep) -> CalibrationOut:
    """Run a cued calibration: cues on the WebSocket and on LSL, trials cut at the cue times,
    then the pipeline is cross-validated, fitted, stored and activated."""
    return CalibrationOut(**manager.start_calibration(session_id, body.model_dump()))


@router.get("/{session_id}/calibration", response_model=CalibrationOut)
def get_calibration(session_id: str, manager: ManagerDep) -> CalibrationOut:
    return CalibrationOut(**manager.calibration_progress(session_id))


@router.delete("/{session_id}/calibration", response_model=CalibrationOut)
def cancel_calibration(session_id: str, manager: ManagerDep) -> CalibrationOut:
    return CalibrationOut(**manager.cancel_calibration(session_id))


@router.put("/{session_id}/mu-suppression")
def enable_mu_suppression(
    session_id: str, body: MuSuppressionIn, manager: ManagerDep
) -> dict[str, Any]:
    """Publish a mu-suppression value (log10 power / baseline power) every ``step_s``."""
    return manager.enable_mu_suppression(session_id, body.model_dump())


@router.get("/{session_id}/mu-suppression")
def get_mu_suppression(session_id: str, manager: ManagerDep) -> dict[str, Any]:
    return manager.mu_suppression_status(session_id)


@router.post("/{session_id}/mu-suppression/baseline")
def set_mu_baseline(session_id: str, body: BaselineIn, manager: ManagerDep) -> dict[str, Any]:
    """Use the last ``seconds`` of signal as the baseline (end of a baseline/rest run)."""
    return manager.set_mu_baseline(session_id, body.seconds)


@router.delete("/{session_id}/mu-suppression")
def disable_mu_suppression(session_id: str, manager: ManagerDep) -> dict[str, Any]:
    return manager.disable_mu_suppression(session_id)
