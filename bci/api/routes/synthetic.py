"""Live control of synthetic headsets hosted by this service (the demo)."""

from __future__ import annotations

from fastapi import APIRouter

from bci.api.deps import ServiceDep
from bci.api.errors import responses
from bci.api.schemas import ConditionIn, SyntheticOut

router = APIRouter(prefix="/synthetic", tags=["synthetic"])


@router.get("", response_model=list[SyntheticOut], operation_id="list_synthetic")
def list_synthetic(service: ServiceDep) -> list[SyntheticOut]:
    return [SyntheticOut(**d) for d in service.list_synthetic()]


@router.put(
    "/{name}/condition",
    response_model=SyntheticOut,
    operation_id="set_synthetic_condition",
    responses=responses(404),
)
def set_condition(name: str, body: ConditionIn, service: ServiceDep) -> SyntheticOut:
    """Make the synthetic brain imagine, observe or rest now ("imagine left" on command).

    The change lands on the next sample pushed (within one chunk, ~31 ms).
    """
    return SyntheticOut(**service.set_condition(name, body.condition, body.marker, body.auto_cues))
