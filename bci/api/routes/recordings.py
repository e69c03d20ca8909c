"""Session recordings (XDF) and replays of recorded files as live LSL streams.

Paths are confined to the recordings folder and ``BCI_REPLAY_ROOTS``: anything else is one
uniform 404, and no response quotes a file's content.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from bci.api.deps import ServiceDep
from bci.api.errors import responses
from bci.api.schemas import RecordingOut, ReplayIn, ReplayOut, SessionOut, session_out

router = APIRouter(tags=["recordings"])

_XDF = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


@router.post(
    "/sessions/{session_id}/recording",
    response_model=SessionOut,
    status_code=201,
    operation_id="start_recording",
    responses=responses(404, 409, 503),
)
def start_recording(session_id: str, service: ServiceDep) -> SessionOut:
    """Start recording raw EEG, markers and predictions to a new XDF file."""
    return session_out(service.start_recording(session_id))


@router.delete(
    "/sessions/{session_id}/recording",
    response_model=SessionOut,
    operation_id="stop_recording",
    responses=responses(404, 409, 503),
)
def stop_recording(session_id: str, service: ServiceDep) -> SessionOut:
    return session_out(service.stop_recording(session_id))


@router.get("/recordings", response_model=list[RecordingOut], operation_id="list_recordings")
def list_recordings(service: ServiceDep) -> list[RecordingOut]:
    return [RecordingOut(**r) for r in service.list_recordings()]


@router.get(
    "/recordings/{name}",
    response_class=FileResponse,
    operation_id="download_recording",
    responses={200: {"content": _XDF, "description": "The XDF file"}, **responses(404)},
)
def download_recording(name: str, service: ServiceDep) -> FileResponse:
    path = service.recording_file(name)
    return FileResponse(path, media_type="application/octet-stream", filename=path.name)


@router.post(
    "/replays",
    response_model=ReplayOut,
    status_code=201,
    operation_id="start_replay",
    responses=responses(404, 409),
)
def start_replay(body: ReplayIn, service: ServiceDep) -> ReplayOut:
    """Publish a recording as live LSL streams (then bind it with POST /sessions)."""
    return ReplayOut(**service.start_replay(body.path, body.speed, body.loop, body.name))


@router.get("/replays", response_model=list[ReplayOut], operation_id="list_replays")
def list_replays(service: ServiceDep) -> list[ReplayOut]:
    return [ReplayOut(**r) for r in service.list_replays()]


@router.delete(
    "/replays/{name}",
    response_model=ReplayOut,
    operation_id="stop_replay",
    responses=responses(404),
)
def stop_replay(name: str, service: ServiceDep) -> ReplayOut:
    return ReplayOut(**service.stop_replay(name))
