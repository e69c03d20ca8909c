"""Models: list, inspect, download, upload, delete, and activate one in a session.

Model files (``.bcimodel``) are the registry's own safe format: an upload is checked (size
while it streams in, then the container and its declared and actual unpacked sizes) and never
executes code from the file. A few uploads at a time (503 beyond).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from starlette.concurrency import run_in_threadpool

from bci.api.deps import ServiceDep
from bci.api.errors import responses
from bci.api.schemas import ModelActivate, ModelCardOut, ModelTrainIn, SessionOut, session_out
from bci.errors import PayloadTooLargeError

__all__ = ["router"]

router = APIRouter(tags=["models"])

_FILE_SCHEMA = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


async def _model_upload(request: Request, service: ServiceDep) -> ModelCardOut:
    """Read the body (refused past the model file limit as it arrives), then check and store."""
    limit = service.max_model_bytes
    slot = service.upload_slot()
    try:
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(f"Model files are limited to {limit} bytes")
            chunks.append(chunk)
        card = await run_in_threadpool(service.import_model, b"".join(chunks))
    finally:
        slot.release()
    return ModelCardOut(**card)


@router.get("/models", response_model=list[ModelCardOut], operation_id="list_models")
def list_models(service: ServiceDep) -> list[ModelCardOut]:
    """Cards of every stored model, oldest first."""
    return [ModelCardOut(**c) for c in service.list_models()]


@router.post(
    "/models",
    response_model=ModelCardOut,
    status_code=status.HTTP_201_CREATED,
    operation_id="upload_model",
    openapi_extra={"requestBody": {"required": True, "content": _FILE_SCHEMA}},
    responses=responses(409, 413, 503),
)
async def upload_model(card: Annotated[ModelCardOut, Depends(_model_upload)]) -> ModelCardOut:
    """Upload a ``.bcimodel`` file (raw body, ``Content-Type: application/octet-stream``).

    The file is checked (container, card, SHA-256 of card and pipeline, trusted types only)
    and never executes code. Uploading the same file twice returns the stored model.
    """
    return card


@router.post(
    "/models/train",
    response_model=ModelCardOut,
    status_code=status.HTTP_201_CREATED,
    operation_id="train_model",
    responses=responses(404, 503),
)
def train_model(body: ModelTrainIn, service: ServiceDep) -> ModelCardOut:
    """Train and store a model on a recording of the recordings folder, cut at its markers.

    The card's ``source`` holds the file's SHA-256, the events and the trial window; the model
    activates on any live stream with the same channels and rate (``POST
    /sessions/{id}/model``). Runs in a worker thread (a few seconds of CPU), at most
    ``BCI_MAX_CONCURRENT_TRAININGS`` (2) at once: 503 with ``Retry-After`` beyond.
    """
    return ModelCardOut(
        **service.train_model(
            body.recording,
            body.events,
            pipeline=body.pipeline,
            tmin=body.tmin,
            tmax=body.tmax,
            band=body.band,
            folds=body.folds,
        )
    )


@router.get(
    "/models/{model_id}",
    response_model=ModelCardOut,
    operation_id="get_model",
    responses=responses(404),
)
def get_model(model_id: str, service: ServiceDep) -> ModelCardOut:
    return ModelCardOut(**service.model_card(model_id))


@router.get(
    "/models/{model_id}/file",
    response_class=Response,
    operation_id="download_model",
    responses={200: {"content": _FILE_SCHEMA, "description": "The model file"}, **responses(404)},
)
def download_model(model_id: str, service: ServiceDep) -> Response:
    """Download the model file; upload it elsewhere with ``POST /models``."""
    filename, data = service.export_model(model_id)
    return Response(
        content=data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.delete(
    "/models/{model_id}",
    response_model=ModelCardOut,
    operation_id="delete_model",
    responses=responses(404, 409),
)
def delete_model(model_id: str, service: ServiceDep) -> ModelCardOut:
    """Delete a stored model. Refused (409) while a running session decodes with it."""
    return ModelCardOut(**service.delete_model(model_id))


@router.post(
    "/sessions/{session_id}/model",
    response_model=SessionOut,
    tags=["sessions"],
    operation_id="activate_model",
    responses=responses(404, 409, 503),
)
def activate_model(session_id: str, body: ModelActivate, service: ServiceDep) -> SessionOut:
    """Decode session ``session_id`` with a stored model from now on.

    Refused (409) when the model's channels (names and order) or sampling rate differ from
    the session's stream, or, when the session has a paradigm, its classes differ.
    """
    return session_out(service.activate_model(session_id, body.model_id))
