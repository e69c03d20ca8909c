"""Session recording: raw EEG, markers and predictions of a session in one XDF file."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bci.errors import DataError
from bci.streams.recorder import Recorder

if TYPE_CHECKING:
    from bci.online.session import DecodingSession

__all__ = ["SessionRecording"]

logger = logging.getLogger(__name__)


class SessionRecording:
    """Records one session; a write failure (disk full) stops the recording, not the session.

    Streams in the file: ``<stream name>`` (EEG, raw before any filter, µV, channel labels),
    ``<stream name>-markers`` (cues, app events, stream markers) and
    ``<stream name>-predictions`` (each prediction message as JSON).
    """

    def __init__(self, session: DecodingSession, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        d = session.description
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"session-{session.id}-{_safe(d.name)}-{stamp}.xdf"
        self.session = session
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

    def _guard(self, fn: Any, *args: Any) -> None:
        if not self.active:
            return
        try:
            fn(*args)
        except DataError as exc:
            self.error = str(exc)
            self.session._warn(f"recording stopped: {exc}")
            logger.error("session %s: recording stopped: %s", self.session.id, exc)

    def eeg(self, data: np.ndarray, timestamps: np.ndarray) -> None:
        self._guard(self.recorder.push, "eeg", data.astype(np.float32, copy=False), timestamps)

    def marker(self, value: str, t: float) -> None:
        self._guard(self.recorder.push_marker, "markers", value, t)

    def prediction(self, msg: dict[str, Any]) -> None:
        self._guard(self.recorder.push_json, "predictions", msg, msg["t"])

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
