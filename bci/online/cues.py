"""The cue outlet stage: calibration markers on an LSL marker stream, for any recorder."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from bci.online.messages import Message
from bci.online.stages import Stage, StageContext
from bci.types import Marker

__all__ = ["CueOutlet"]

logger = logging.getLogger(__name__)


class CueOutlet(Stage):
    """Pushes every marker stamped by a calibration (source ``calibration``) on LSL.

    The stream (type Markers, string) is made when the stage is made and kept for the
    session's life, so a recorder started once sees every run's cues.

    Parameters
    ----------
    ctx : StageContext
    source_id : str
        LSL source id of the stream (stable for a service instance).
    name : str or None
        Stream name; the manager gives ``bci-session-<id>-cues-<instance>`` (see
        :func:`~bci.streams.lsl.service_outlet_ids`); default ``bci-session-<id>-cues``.
    """

    order: ClassVar[int] = 70

    def __init__(self, ctx: StageContext, source_id: str, name: str | None = None) -> None:
        from bci.streams.lsl import get_pylsl, make_marker_info

        self.name = name or f"bci-session-{ctx.id}-cues"
        self.outlet: Any = get_pylsl().StreamOutlet(make_marker_info(self.name, source_id))
        self.n_pushed = 0

    def on_marker(self, ctx: StageContext, marker: Marker) -> list[Message]:
        if marker.source == "calibration" and self.outlet is not None:
            try:
                self.outlet.push_sample([marker.value], marker.t)
                self.n_pushed += 1
            except Exception as exc:  # an LSL problem must not stop the calibration
                ctx.warn(f"cue outlet {self.name}: {exc}")
        return []

    def close(self) -> None:
        self.outlet = None  # pylsl closes the stream when the outlet is released
