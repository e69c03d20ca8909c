"""Session recording: raw EEG, markers and predictions of a session in one XDF file.

:class:`SessionRecording` is a session stage (:mod:`bci.online.stages`), last in the order
so it records the predictions as published (after any quality gate).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from bci.errors import DataError
from bci.online.messages import Message, Prediction, Withheld
from bci.online.stages import ChunkIn, Stage, StageContext
from bci.streams.recorder import Recorder, spec_from_header
from bci.streams.xdf_writer import CHANNEL_FORMATS
from bci.types import Marker, StreamDescription
from bci.units import MICROVOLTS, unit_scales

__all__ = ["SessionRecording"]

logger = logging.getLogger(__name__)


class SessionRecording(Stage):
    """Records one session; a write failure (disk full) stops the recording, not the session.

    Streams in the file, as LabRecorder would write them:

    - ``<stream name>``: the EEG, raw before any filter. An LSL source keeps its own header
      verbatim (``desc``, uid, source_id, channel labels, locations and units) and its values
      in its own unit and channel format; a source without a header (arrays, replays through
      the engine) is written as float32 microvolts.
    - each marker stream of the session under its own name (a string stream with its own
      header; a numeric or one-hot stream as the strings it decoded to);
    - ``bci-session-<id>-events``: the session's own events (calibration cues, HTTP and
      WebSocket app events);
    - ``<stream name>-predictions``: each prediction message as JSON.

    Parameters
    ----------
    ctx : StageContext
        The session's context (id, stream description, warnings).
    folder : Path
        Where the file is made (``session-<id>-<stream>-<time>.xdf``).
    marker_streams : list of StreamDescription
        The session's LSL marker streams (each recorded under its own name).
    """

    order: ClassVar[int] = 90
    status_key: ClassVar[str | None] = "recording"

    def __init__(
        self,
        ctx: StageContext,
        folder: Path,
        marker_streams: Sequence[StreamDescription] = (),
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        d = ctx.description
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"session-{ctx.id}-{_safe(d.name)}-{stamp}.xdf"
        self.session_id = ctx.id
        self._warn = ctx.warn
        self.recorder = Recorder(path, on_exists="rename")
        self.path = self.recorder.path
        self._from_uv: np.ndarray | None = None  # per-channel factor µV -> source unit
        self._dtype: np.dtype[Any] = np.dtype(np.float32)
        if d.header_xml and CHANNEL_FORMATS.get(d.channel_format) is not None:
            spec = self.recorder.add_spec(spec_from_header("eeg", d.header_xml))
            scales, _ = unit_scales(d.units, d.n_channels)
            self._from_uv = 1.0 / np.asarray(scales)
            self._dtype = np.dtype(CHANNEL_FORMATS[spec.fmt])
        else:
            self.recorder.add_stream(
                "eeg",
                d.name,
                "EEG",
                ch_names=d.ch_names,
                sfreq=d.sfreq,
                fmt="float32",
                units=MICROVOLTS,
                source_id=d.source_id,
            )
        self._marker_keys: dict[str, str] = {}  # marker stream name -> key in the file
        for i, md in enumerate(marker_streams):
            key = f"markers-{i}"
            if md.header_xml and md.channel_format == "string":
                self.recorder.add_spec(spec_from_header(key, md.header_xml))
            else:
                self.recorder.add_stream(
                    key, md.name, md.type or "Markers", n_channels=1, fmt="string", units=""
                )
            self._marker_keys[md.name] = key
        self.recorder.add_stream(
            "markers",
            f"bci-session-{ctx.id}-events",
            "Markers",
            n_channels=1,
            fmt="string",
            units="",
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
        """Raw samples as received (before any filter or cleaning), in the source's unit."""
        data = np.asarray(chunk.received, dtype=np.float64)
        if self._from_uv is not None:
            data = data * self._from_uv
            if self._dtype.kind == "i":
                info = np.iinfo(self._dtype)
                data = np.clip(np.rint(np.nan_to_num(data)), info.min, info.max)
        self._guard(self.recorder.push, "eeg", data.astype(self._dtype), chunk.timestamps)
        return []

    def on_marker(self, ctx: StageContext, marker: Marker) -> list[Message]:
        """Each marker under the stream it came from, as its source sent it."""
        key = self._marker_keys.get(marker.stream, "markers")
        self._guard(self.recorder.push_marker, key, marker.value, marker.t)
        return []

    def on_message(self, ctx: StageContext, message: Message) -> Message | None:
        if isinstance(message, Prediction | Withheld):
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
