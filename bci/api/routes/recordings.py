"""Session recordings (XDF) and replays of recorded files as live LSL streams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from bci.api.deps import ManagerDep
from bci.api.routes.sessions import session_out
from bci.api.schemas import SessionOut
from bci.errors import DataError, NotFoundError, SessionStateError
from bci.online.manager import SessionManager

router = APIRouter(tags=["recordings"])


@router.post("/sessions/{session_id}/recording", response_model=SessionOut, status_code=201)
def start_recording(session_id: str, manager: ManagerDep) -> SessionOut:
    """Start recording raw EEG, markers and predictions to a new XDF file."""
    return session_out(manager.start_recording(session_id))


@router.delete("/sessions/{session_id}/recording", response_model=SessionOut)
def stop_recording(session_id: str, manager: ManagerDep) -> SessionOut:
    return session_out(manager.stop_recording(session_id))


def _recording_file(manager: SessionManager, name: str) -> Path:
    folder = manager.recordings_dir.resolve()
    path = (folder / name).resolve()
    if path.parent != folder or path.suffix != ".xdf" or not path.is_file():
        known = ", ".join(p.name for p in sorted(folder.glob("*.xdf"))) if folder.is_dir() else ""
        raise NotFoundError(f"No recording named {name!r}. Recordings: {known or 'none'}")
    return path


@router.get("/recordings")
def list_recordings(manager: ManagerDep) -> list[dict[str, Any]]:
    folder = manager.recordings_dir
    active = manager.active_recordings()
    out = []
    for p in sorted(folder.glob("*.xdf")) if folder.is_dir() else []:
        st = p.stat()
        out.append(
            {
                "file": p.name,
                "bytes": st.st_size,
                "modified": st.st_mtime,
                "recording_session": active.get(p.name),
            }
        )
    return out


@router.get("/recordings/{name}", response_class=FileResponse)
def download_recording(name: str, manager: ManagerDep) -> FileResponse:
    path = _recording_file(manager, name)
    return FileResponse(path, media_type="application/octet-stream", filename=path.name)


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        min_length=1,
        description="a recording name from GET /recordings, or a file path on the server",
    )
    speed: float | str = Field(1.0, description="1 = real time, N = N times faster, 'max'")
    loop: bool = False
    name: str | None = Field(None, min_length=1, description="LSL stream name")


def _replay_out(name: str, rep: Any) -> dict[str, Any]:
    return {
        "name": name,
        "markers": rep.marker_name,
        "done": rep.done,
        "samples_pushed": rep.n_pushed,
        "error": None if rep.error is None else str(rep.error),
    }


@router.post("/replays", status_code=201)
def start_replay(body: ReplayIn, manager: ManagerDep) -> dict[str, Any]:
    """Publish a recording as live LSL streams (then bind it with POST /sessions)."""
    from bci.streams.replay import Replay

    p = Path(body.path)
    if not p.is_absolute():
        p = _recording_file(manager, body.path) if not p.exists() else p
    if not p.is_file():
        raise DataError(f"Replay path {body.path!r} is not a file")
    speed: float | str = body.speed
    if isinstance(speed, str) and speed != "max":
        try:
            speed = float(speed)
        except ValueError:
            raise DataError(f"speed must be a number or 'max', got {body.speed!r}") from None
    rep = Replay(p, name=body.name, speed=speed, loop=body.loop)
    if rep.name in manager.hosted:
        rep.close()
        raise SessionStateError(f"A stream named {rep.name!r} is already hosted here")
    rep.start()
    manager.hosted[rep.name] = rep
    return _replay_out(rep.name, rep)


@router.get("/replays")
def list_replays(manager: ManagerDep) -> list[dict[str, Any]]:
    from bci.streams.replay import Replay

    return [_replay_out(n, r) for n, r in manager.hosted.items() if isinstance(r, Replay)]


@router.delete("/replays/{name}")
def stop_replay(name: str, manager: ManagerDep) -> dict[str, Any]:
    from bci.streams.replay import Replay

    rep = manager.hosted.get(name)
    if not isinstance(rep, Replay):
        raise NotFoundError(f"No replay named {name!r} runs here")
    out = _replay_out(name, rep)
    rep.close()
    del manager.hosted[name]
    return out
