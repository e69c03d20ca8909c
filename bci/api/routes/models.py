"""Models: list, inspect, download, upload, delete, and activate one in a session.

Model files (``.bcimodel``) are the registry's own safe format (see ``bci.decoders.store``):
an upload is checked and never executes code from the file.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bci.api.deps import ManagerDep
from bci.api.routes.sessions import session_out
from bci.api.schemas import SessionOut
from bci.decoders.store import MAX_FILE_BYTES, SUFFIX, ModelExistsError
from bci.errors import SessionStateError
from bci.online.manager import SessionManager

__all__ = ["ModelActivate", "ModelCardOut", "router"]

router = APIRouter(tags=["models"])


class ModelCardOut(BaseModel):
    """The model card: what a model was trained on and how well it did."""

    id: str
    created: str = Field(description="ISO 8601 time of training (UTC)")
    pipeline: str = Field(description="Registered pipeline name, e.g. ts-lr")
    params: dict[str, Any] = Field(description="Pipeline parameters and extra CV results")
    classes: list[str] = Field(description="Labels, in the order of the probabilities")
    ch_names: list[str] = Field(description="Channels, in the order the model expects")
    sfreq: float = Field(description="Sampling rate in Hz")
    band: list[float] = Field(description="Causal band-pass [low, high] in Hz")
    window_s: float = Field(description="Window length in seconds")
    cv_score: float | None
    cv_metric: str | None = Field(description="roc_auc (two classes) or accuracy")
    n_trials: int
    fingerprint: str = Field(description="SHA-256 prefix of the training epochs and labels")
    paradigm: str | None
    versions: dict[str, str] = Field(description="Library versions at training time")
    pipeline_sha256: str = Field(description="SHA-256 of the stored pipeline")
    size_bytes: int = Field(description="Size of the model file")
    active_in: list[str] = Field([], description="Ids of the sessions using this model now")


class ModelActivate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_id: str = Field(min_length=1)


def _active_in(manager: SessionManager, model_id: str) -> list[str]:
    return [
        s.id
        for s in manager.list()
        if s.model is not None and s.model.model_id == model_id and s.state != "stopped"
    ]


def _out(manager: SessionManager, card: dict[str, Any]) -> ModelCardOut:
    return ModelCardOut(**card, active_in=_active_in(manager, card["id"]))


async def _model_file_body(request: Request) -> bytes:
    """The raw request body, refused past MAX_FILE_BYTES without reading it all (I/O only)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FILE_BYTES:
        raise HTTPException(
            413,
            f"Model files are limited to {MAX_FILE_BYTES} bytes; this one is {declared}",
        )
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise HTTPException(
                413,
                f"Model files are limited to {MAX_FILE_BYTES} bytes",
            )
        chunks.append(chunk)
    return b"".join(chunks)


ModelFileBody = Annotated[bytes, Depends(_model_file_body)]

_FILE_SCHEMA = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


@router.get("/models", response_model=list[ModelCardOut])
def list_models(manager: ManagerDep) -> list[ModelCardOut]:
    """Cards of every stored model, oldest first."""
    return [_out(manager, c) for c in manager.store.list()]


@router.post(
    "/models",
    response_model=ModelCardOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": {"required": True, "content": _FILE_SCHEMA}},
    responses={
        409: {"description": "A different model with the same id is stored"},
        413: {"description": "The file is larger than the limit"},
        422: {"description": "Not a model file, damaged, modified, or untrusted content"},
    },
)
def upload_model(data: ModelFileBody, manager: ManagerDep) -> Any:
    """Upload a ``.bcimodel`` file (raw body, ``Content-Type: application/octet-stream``).

    The file is checked (container, card, SHA-256 of card and pipeline, trusted types only)
    and never executes code. Uploading the same file twice returns the stored model.
    """
    try:
        model = manager.store.import_bytes(data)
    except ModelExistsError as exc:
        return JSONResponse(
            status_code=status.HTTP_409_CONFLICT,
            content={"error": type(exc).__name__, "detail": str(exc)},
        )
    return _out(manager, manager.store.card(model.model_id))


@router.get("/models/{model_id}", response_model=ModelCardOut)
def get_model(model_id: str, manager: ManagerDep) -> ModelCardOut:
    return _out(manager, manager.store.card(model_id))


@router.get(
    "/models/{model_id}/file",
    response_class=Response,
    responses={200: {"content": _FILE_SCHEMA, "description": "The model file"}},
)
def download_model(model_id: str, manager: ManagerDep) -> Response:
    """Download the model file; upload it elsewhere with ``POST /models``."""
    data = manager.store.export_bytes(model_id)
    return Response(
        content=data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{model_id}{SUFFIX}"'},
    )


@router.delete(
    "/models/{model_id}",
    response_model=ModelCardOut,
    responses={409: {"description": "The model is active in a session"}},
)
def delete_model(model_id: str, manager: ManagerDep) -> ModelCardOut:
    """Delete a stored model. Refused (409) while a running session decodes with it."""
    card = manager.store.card(model_id)  # 404 first
    active = _active_in(manager, model_id)
    if active:
        first = active[0]
        raise SessionStateError(
            f"Model {model_id} is active in session(s) {', '.join(active)}: activate another "
            f"model (POST /sessions/{first}/model) or delete the session "
            f"(DELETE /sessions/{first}) first"
        )
    manager.store.delete(model_id)
    return ModelCardOut(**card)


@router.post(
    "/sessions/{session_id}/model",
    response_model=SessionOut,
    tags=["sessions"],
    responses={409: {"description": "Channels, sampling rate or classes do not match"}},
)
def activate_model(session_id: str, body: ModelActivate, manager: ManagerDep) -> SessionOut:
    """Decode session ``session_id`` with a stored model from now on.

    Refused (409) when the model's channels (names and order) or sampling rate differ from
    the session's stream, or, when the session has a paradigm, its classes differ.
    """
    return session_out(manager.activate_model(session_id, body.model_id))
