"""Live control of synthetic headsets hosted by this service (the demo)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from bci.api.deps import ManagerDep
from bci.api.schemas import ConditionIn
from bci.errors import NotFoundError

router = APIRouter(prefix="/synthetic", tags=["synthetic"])


def _hosted(manager: ManagerDep, name: str) -> Any:
    src = manager.hosted.get(name)
    if src is None or not hasattr(src, "set_condition"):
        known = ", ".join(n for n, s in manager.hosted.items() if hasattr(s, "set_condition"))
        raise NotFoundError(
            f"No synthetic headset named {name!r} runs in this service. "
            f"Hosted: {known or 'none'} (start one with `bci demo`)"
        )
    return src


@router.get("")
def list_synthetic(manager: ManagerDep) -> list[dict[str, Any]]:
    return [
        {"name": n, "condition": s.condition, "auto_cues": s.auto_cues}
        for n, s in manager.hosted.items()
        if hasattr(s, "set_condition")
    ]


@router.put("/{name}/condition")
def set_condition(name: str, body: ConditionIn, manager: ManagerDep) -> dict[str, Any]:
    """Make the synthetic brain imagine, observe or rest now ("imagine left" on command)."""
    src = _hosted(manager, name)
    from bci.streams.synthetic import condition_effect

    condition_effect(body.condition)  # unknown -> 422 before anything changes
    if src.auto_cues != body.auto_cues and (src.paradigm is not None or not body.auto_cues):
        src.set_auto_cues(body.auto_cues)
    src.set_condition(body.condition, marker=body.marker)
    # the change lands on the next sample pushed (within one chunk, ~31 ms)
    return {"name": name, "condition": body.condition, "auto_cues": src.auto_cues}
