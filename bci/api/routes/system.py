"""Health and stream discovery."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from bci import __version__
from bci.api.deps import ManagerDep
from bci.api.schemas import HealthOut, StreamOut
from bci.headsets import motor_coverage_warnings
from bci.online.messages import asyncapi_document

router = APIRouter(tags=["system"])


@router.get("/health", response_model=HealthOut)
def health(manager: ManagerDep) -> HealthOut:
    from bci.streams.lsl import liblsl_status

    return HealthOut(
        version=__version__,
        sessions=len(manager.list()),
        liblsl=bool(liblsl_status()["found"]),
    )


@router.get("/streams", response_model=list[StreamOut])
def list_streams(
    timeout: float = Query(1.0, gt=0, le=10, description="Seconds to listen for streams"),
) -> list[StreamOut]:
    """LSL streams visible now (EEG and markers), with channel count, rate, type, source_id."""
    from bci.streams.lsl import list_streams as _list

    out = []
    for d in _list(timeout):
        warn = motor_coverage_warnings(d.ch_names, d.name) if d.type.upper() == "EEG" else []
        out.append(StreamOut(**d.to_dict(), warnings=warn))
    return out


@router.get("/asyncapi.json")
def asyncapi() -> dict[str, Any]:
    """The WebSocket contract (AsyncAPI 3.0): every message type and its JSON schema."""
    return asyncapi_document(__version__)
