"""Session recording: raw EEG, markers and predictions of a session in one XDF file.

:class:`SessionRecording` is a session stage (:mod:`bci.online.stages`), last in the order
so it records the predictions as published (after any quality gate).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from bci.errors import DataError
from bci.online.messages import Message, Prediction
from bci.online.stages import ChunkIn, Stage, StageContext
from bci.streams.recorder import Recorder
from bci.types import Marker

__all__ = ["SessionRecording"]

logger = logging.getLogger(__name__)


class SessionRecording(Stage):
    """Records one session; a write failure (disk full) stops the recording, not the session.

    Streams in the file: ``<stream name>`` (EEG, raw before any filter, µV, channel labels),
    ``<stream name>-markers`` (cues, app events, stream markers) and
    ``<stream name>-predictions`` (each prediction message as JSON).

    Parameters
    ----------
    ctx : StageContext
        The session's context (id, stream description, warnings).
    folder : Path
        Where the file is made (``session-<id>-<stream>-<time>.xdf``).
    """

    order: ClassVar[int] = 90
    status_key: ClassVar[str | None] = "recording"

    def __init__(self, ctx: StageContext, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        d = ctx.description
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"session-{ctx.id}-{_safe(d.name)}-{stamp}.xdf"
        self.session_id = ctx.id
        self._warn = ctx.warn
        self.recorder = Recorder(path, on_exists="rename")
        self.path = self.recorder.path
        self.recorder.add_stream(
            "eeg",
            d.name,
            "EEG",
            ch_names=d.ch_names,
            sfreq=d.sfreq,
            fmt="float32",
            units="microvolts",
            source_id=d.source_id,
        )
        self.recorder.add_stream(
            "markers", f"{d.name}-markers", "Markers", n_channels=1, fmt="string", units=""
        )
        self.recorder.add_stream(
            "predictions",
            f"{d.name}-predictions",
            "Predictions",
            n_channels=1,
            fmt="string",
            units="",
        )
        self.started = time.time()
        self.error: str | None = None

    @property
    def active(self) -> bool:
        return self.error is None and not self.recorder.closed

    def _guard(self, fn: Callable[..., Any], *args: Any) -> None:
        if not self.active:
            return
        try:
            fn(*args)
        except DataError as exc:
            self.error = str(exc)
            self._warn(f"recording stopped: {exc}")
            logger.error("session %s: recording stopped: %s", self.session_id, exc)

    def on_chunk(self, ctx: StageContext, chunk: ChunkIn) -> list[Message]:
        """Raw samples as received, before any filter or cleaning."""
        data = np.asarray(chunk.received).astype(np.float32, copy=False)
        self._guard(self.recorder.push, "eeg", data, chunk.timestamps)
        return []

    def on_marker(self, ctx: StageContext, marker: Marker) -> list[Message]:
        self._guard(self.recorder.push_marker, "markers", marker.value, marker.t)
        return []

    def on_message(self, ctx: StageContext, message: Message) -> Message | None:
        if isinstance(message, Prediction):
            self._guard(self.recorder.push_json, "predictions", message.to_dict(), message.t)
        return message

    def close(self) -> None:
        try:
            self.recorder.close()
        except DataError as exc:  # the file keeps what was flushed
            self.error = self.error or str(exc)

    def status(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "file": self.path.name,
            "active": self.active,
            "error": self.error,
            "samples": self.recorder.sample_count("eeg"),
            "markers": self.recorder.sample_count("markers"),
            "predictions": self.recorder.sample_count("predictions"),
        }


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40] or "stream"
