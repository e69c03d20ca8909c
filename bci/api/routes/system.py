"""Health, stream discovery and the WebSocket contract (AsyncAPI)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from bci import __version__
from bci.api.deps import ServiceDep
from bci.api.errors import responses
from bci.api.schemas import HealthOut, StreamOut
from bci.online.messages import asyncapi_document

router = APIRouter(tags=["system"])


@router.get("/health", response_model=HealthOut, operation_id="health")
async def health(service: ServiceDep) -> HealthOut:
    """Service version, session count, liblsl. Answered on the event loop: never waits on LSL."""
    return HealthOut(**service.health())


@router.get(
    "/streams",
    response_model=list[StreamOut],
    operation_id="list_streams",
    responses=responses(503),
)
async def list_streams(
    service: ServiceDep,
    timeout: float = Query(1.0, gt=0, le=3, description="Seconds to listen for streams"),
) -> list[StreamOut]:
    """LSL streams visible now (EEG and markers), with channel count, rate, type, source_id."""
    found = await run_in_threadpool(service.list_streams, timeout)
    return [StreamOut(**d) for d in found]


@router.get("/asyncapi.json", operation_id="asyncapi")
def asyncapi() -> dict[str, Any]:
    """The WebSocket contract (AsyncAPI 3.0): every message type and its JSON schema."""
    return asyncapi_document(__version__)
