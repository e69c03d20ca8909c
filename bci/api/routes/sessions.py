"""Sessions: bind a stream, inspect, delete; app events; calibration; mu suppression."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from starlette.concurrency import run_in_threadpool

from bci.api.deps import ServiceDep
from bci.api.errors import responses
from bci.api.schemas import (
    BaselineIn,
    CalibrationIn,
    CalibrationOut,
    EventIn,
    EventOut,
    MuSuppressionIn,
    SessionCreate,
    SessionOut,
    session_out,
)

router = APIRouter(prefix="/sessions", tags=["sessions"])


@router.post(
    "",
    response_model=SessionOut,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_session",
    responses=responses(404, 409, 503),
)
async def create_session(body: SessionCreate, service: ServiceDep) -> SessionOut:
    """Resolve the stream (waits up to ``timeout`` s) and start a session on it.

    The resolution runs in a worker thread, a few at a time (503 when too many wait), so
    requests for missing streams never hold up the others.
    """
    st = await run_in_threadpool(lambda: service.create_session(**body.model_dump()))
    return session_out(st)


@router.get("", response_model=list[SessionOut], operation_id="list_sessions")
def list_sessions(service: ServiceDep) -> list[SessionOut]:
    return [session_out(s) for s in service.list_sessions()]


@router.get(
    "/{session_id}", response_model=SessionOut, operation_id="get_session", responses=responses(404)
)
def get_session(session_id: str, service: ServiceDep) -> SessionOut:
    return session_out(service.session_status(session_id))


@router.delete(
    "/{session_id}",
    response_model=SessionOut,
    operation_id="delete_session",
    responses=responses(404),
)
def delete_session(session_id: str, service: ServiceDep) -> SessionOut:
    return session_out(service.delete_session(session_id))


@router.post(
    "/{session_id}/events",
    response_model=EventOut,
    status_code=201,
    operation_id="post_event",
    responses=responses(404, 503),
)
def post_event(session_id: str, body: EventIn, service: ServiceDep) -> EventOut:
    """Record an app event; stamped on the LSL clock on arrival unless ``t`` is given."""
    m = service.add_event(session_id, body.value, body.t, source="http")
    return EventOut(t=m.t, value=m.value, source=m.source)


@router.get(
    "/{session_id}/events",
    response_model=list[EventOut],
    operation_id="list_events",
    responses=responses(404),
)
def list_events(session_id: str, service: ServiceDep) -> list[EventOut]:
    return [EventOut(t=m.t, value=m.value, source=m.source) for m in service.events(session_id)]


@router.post(
    "/{session_id}/calibration",
    response_model=CalibrationOut,
    status_code=202,
    operation_id="start_calibration",
    responses=responses(404, 409, 503),
)
def start_calibration(session_id: str, body: CalibrationIn, service: ServiceDep) -> CalibrationOut:
    """Run a cued calibration: cues on the WebSocket and on LSL, trials cut at the cue times,
    then the pipeline is cross-validated, fitted, stored and activated."""
    return CalibrationOut(**service.start_calibration(session_id, body.model_dump()))


@router.get(
    "/{session_id}/calibration",
    response_model=CalibrationOut,
    operation_id="get_calibration",
    responses=responses(404),
)
def get_calibration(session_id: str, service: ServiceDep) -> CalibrationOut:
    return CalibrationOut(**service.calibration_progress(session_id))


@router.delete(
    "/{session_id}/calibration",
    response_model=CalibrationOut,
    operation_id="cancel_calibration",
    responses=responses(404, 503),
)
def cancel_calibration(session_id: str, service: ServiceDep) -> CalibrationOut:
    return CalibrationOut(**service.cancel_calibration(session_id))


@router.put(
    "/{session_id}/mu-suppression",
    operation_id="enable_mu_suppression",
    responses=responses(404, 503),
)
def enable_mu_suppression(
    session_id: str, body: MuSuppressionIn, service: ServiceDep
) -> dict[str, Any]:
    """Publish a mu-suppression value (log10 power / baseline power) every ``step_s``."""
    return service.enable_mu_suppression(session_id, body.model_dump())


@router.get(
    "/{session_id}/mu-suppression",
    operation_id="get_mu_suppression",
    responses=responses(404),
)
def get_mu_suppression(session_id: str, service: ServiceDep) -> dict[str, Any]:
    return service.mu_suppression_status(session_id)


@router.post(
    "/{session_id}/mu-suppression/baseline",
    operation_id="set_mu_baseline",
    responses=responses(404, 409, 503),
)
def set_mu_baseline(session_id: str, body: BaselineIn, service: ServiceDep) -> dict[str, Any]:
    """Use the last ``seconds`` of signal as the baseline (end of a baseline/rest run)."""
    return service.set_mu_baseline(session_id, body.seconds)


@router.delete(
    "/{session_id}/mu-suppression",
    operation_id="disable_mu_suppression",
    responses=responses(404, 503),
)
def disable_mu_suppression(session_id: str, service: ServiceDep) -> dict[str, Any]:
    return service.disable_mu_suppression(session_id)
