"""The service facade: the one object the HTTP/WebSocket API calls.

Sessions, stream discovery, replays, hosted synthetic headsets, recordings and models go
through :class:`BCIService`, so ``bci.api`` never touches ``bci.streams``, the model store or a
session object; each method returns plain data or raises a :class:`~bci.errors.BCIError`.
Client paths are confined to the recordings folder and ``Settings.replay_roots``: anything
else is one uniform :class:`~bci.errors.NotFoundError` that never quotes a file.
"""

# Long module: the facade is the API's one door (every operation of the service as a plain
# call); splitting it would give the API several objects to reach into again.

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bci.config import Settings
from bci.decoders.store import MAX_FILE_BYTES as MAX_MODEL_BYTES
from bci.errors import (
    BCIError,
    DataError,
    NotFoundError,
    ServiceBusyError,
    SessionStateError,
    SignalError,
    StreamNotFoundError,
)
from bci.headsets import motor_coverage_warnings
from bci.online.manager import SessionManager
from bci.online.messages import Message
from bci.types import Marker

__all__ = ["MAX_BANDS", "MAX_MODEL_BYTES", "BCIService"]

logger = logging.getLogger(__name__)

#: Most frequency bands a mu-suppression value may average.
MAX_BANDS = 8


# --------------------------------------------------------------------------------------------
class BCIService:
    """Everything the API can do, as plain calls (blocking; call them from worker threads).

    Parameters
    ----------
    settings : Settings
    manager : SessionManager or None
        The session manager to serve (tests inject one); a new one is made otherwise.
    """

    def __init__(self, settings: Settings, manager: SessionManager | None = None) -> None:
        self.settings = settings
        self.manager = manager if manager is not None else SessionManager(settings)
        self._resolving = 0
        self._resolve_guard = threading.Lock()
        self._resolve_slots = threading.BoundedSemaphore(settings.max_concurrent_resolves)
        self._uploads = threading.BoundedSemaphore(settings.max_concurrent_uploads)
        self._trainings = threading.BoundedSemaphore(settings.max_concurrent_trainings)
        self._hosted_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the engine thread that steps every session."""
        self.manager.engine.start()

    def close(self) -> None:
        """Stop every session, hosted source and the engine."""
        self.manager.close()

    # ------------------------------------------------------------------ system
    def health(self) -> dict[str, Any]:
        """Version, number of sessions and whether liblsl loads. Cheap: no LSL call."""
        from bci import __version__
        from bci.streams.lsl import liblsl_status

        return {
            "status": "ok",
            "version": __version__,
            "sessions": len(self.manager.list()),
            "liblsl": bool(liblsl_status()["found"]),
        }

    def _resolve(self, fn: Callable[[], Any]) -> Any:
        """Run an LSL resolution with at most ``max_concurrent_resolves`` at once.

        At most ``max_pending_resolves`` more may wait; beyond that the call is refused at
        once (ServiceBusyError), so a flood of resolutions never queues without bound.
        """
        s = self.settings
        with self._resolve_guard:
            if self._resolving >= s.max_concurrent_resolves + s.max_pending_resolves:
                raise ServiceBusyError(
                    f"{self._resolving} stream resolutions are already in progress (limit "
                    f"{s.max_concurrent_resolves} running + {s.max_pending_resolves} waiting): "
                    "retry in a few seconds"
                )
            self._resolving += 1
        try:
            with self._resolve_slots:
                return fn()
        finally:
            with self._resolve_guard:
                self._resolving -= 1

    def list_streams(self, timeout: float = 1.0) -> list[dict[str, Any]]:
        """LSL streams visible now, each with motor-coverage warnings for EEG streams."""
        from bci.streams.lsl import list_streams

        out = []
        for d in self._resolve(lambda: list_streams(timeout)):
            warn = motor_coverage_warnings(d.ch_names, d.name) if d.type.upper() == "EEG" else []
            out.append({**d.to_dict(), "warnings": warn})
        return out

    # ------------------------------------------------------------------ sessions
    def create_session(
        self,
        *,
        name: str | None = None,
        type: str | None = None,
        source_id: str | None = None,
        timeout: float = 2.0,
        markers: str | None = None,
        model_id: str | None = None,
        pipeline: str | None = None,
        window_s: float | None = None,
        step_s: float | None = None,
        expected_channels: int | None = None,
        expected_sfreq: float | None = None,
        record: bool | None = None,
        dejitter: bool = False,
        marker_map: dict[str, str] | None = None,
        lsl_outlet: bool = False,
        adaptation: str = "none",
    ) -> dict[str, Any]:
        """Resolve a stream (waits up to ``timeout`` s) and start a session; its status.

        Without ``markers``, the stream's own marker stream is bound when there is one:
        ``<name>-markers`` (LabRecorder-era tools) or ``<name>-annotations`` (mne-lsl).
        """
        m = self.manager
        model = m.get_model(model_id) if model_id else None
        if pipeline is not None:
            from bci.decoders import get_pipeline

            get_pipeline(pipeline)  # unknown name -> error before any stream is opened

        def open_all() -> tuple[Any, list[Any]]:
            # Markers first, the EEG inlet last: an inlet opened early buffers samples that the
            # session would then decode late. One budget: a named marker stream and the stream
            # share ``timeout``.
            deadline = time.monotonic() + timeout
            marker_sources = []
            if markers:
                marker_sources.append(m.open_marker_source(markers, timeout))
            elif name:
                # "<name>-markers" (LabRecorder-era tools) or "<name>-annotations" (mne-lsl);
                # with a marker_map the markers are expected: keep looking within the budget.
                until = time.monotonic() + (timeout if marker_map else 0.0)
                while not marker_sources:
                    for suffix in ("-markers", "-annotations"):
                        try:
                            marker_sources.append(m.open_marker_source(f"{name}{suffix}", 0.3))
                            break
                        except StreamNotFoundError:
                            pass  # a stream without its own marker stream is normal
                    if time.monotonic() >= until:
                        break
            # a named marker stream shares the budget; a marker_map search does not (main's rule)
            left = max(0.5, deadline - time.monotonic()) if markers else timeout
            try:
                source = m.open_lsl_source(name, type, source_id, left, dejitter=dejitter)
            except BaseException:
                for ms in marker_sources:
                    ms.close()
                raise
            return source, marker_sources

        source, marker_sources = self._resolve(open_all)
        session = m.create(
            source,
            model=model,
            window_s=window_s,
            step_s=step_s,
            expected_channels=expected_channels,
            expected_sfreq=expected_sfreq,
            pipeline=pipeline,
            marker_sources=marker_sources,
            record=record,
            marker_map=marker_map,
            lsl_outlet=lsl_outlet,
            adaptation=adaptation,
        )
        if marker_map and not marker_sources:
            session.warnings.append(
                f"marker_map is set but no marker stream was found ('{name}-markers' or "
                f"'{name}-annotations'); name it with \"markers\""
            )
        return self.manager.session_status(session.id)

    def list_sessions(self) -> list[dict[str, Any]]:
        return [self.manager.session_status(s.id) for s in self.manager.list()]

    def session_status(self, session_id: str) -> dict[str, Any]:
        return self.manager.session_status(session_id)

    def delete_session(self, session_id: str) -> dict[str, Any]:
        return self.manager.delete(session_id).status()

    def add_event(
        self, session_id: str, value: str, t: float | None = None, source: str = "http"
    ) -> Marker:
        if t is not None and not math.isfinite(t):
            raise SignalError(f"event 't' must be a finite LSL time, got {t!r}")
        return self.manager.add_event(session_id, value, t, source=source)

    def events(self, session_id: str) -> list[Marker]:
        return self.manager.events(session_id)

    def subscribe(
        self, session_id: str, callback: Callable[[Message], None]
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        """Receive every message of a session (on the engine thread).

        Returns
        -------
        status : dict
            The session's status at subscription (the WebSocket's ``hello``).
        unsubscribe : callable
        """
        s = self.manager.get(session_id)
        return s.status(), s.subscribe(callback)

    # calibration, mu suppression, recording, model: commands on one session
    def start_calibration(self, session_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        return self.manager.start_calibration(session_id, spec)

    def calibration_progress(self, session_id: str) -> dict[str, Any]:
        return self.manager.calibration_progress(session_id)

    def cancel_calibration(self, session_id: str) -> dict[str, Any]:
        return self.manager.cancel_calibration(session_id)

    def enable_mu_suppression(self, session_id: str, config: dict[str, Any]) -> dict[str, Any]:
        """Turn on the mu-suppression value; channels and bands are checked against the stream.

        Raises
        ------
        SignalError
            More channels than the stream has, a channel it does not have, a repeated
            channel, more than :data:`MAX_BANDS` bands, or a band outside (0, Nyquist).
        """
        s = self.manager.get(session_id)
        channels = list(config.get("channels", ()))
        names = list(s.ch_names)
        if len(channels) > len(names):
            raise SignalError(
                f"channels: at most {len(names)} (the stream's channel count), got {len(channels)}"
            )
        unknown = [c for c in channels if c not in names]
        if unknown:
            raise SignalError(
                f"channels: {unknown[:5]!r} not in the stream's channels {names[:64]!r}"
            )
        if len(set(channels)) != len(channels):
            raise SignalError(f"channels: each channel at most once, got {channels!r}")
        bands = dict(config.get("bands", {}))
        if len(bands) > MAX_BANDS:
            raise SignalError(f"bands: at most {MAX_BANDS}, got {len(bands)}")
        nyquist = s.sfreq / 2
        for bname, (lo, hi) in bands.items():
            if not (0 < lo < hi < nyquist):
                raise SignalError(
                    f"bands.{bname}: expected 0 < low < high < {nyquist:g} Hz (Nyquist), "
                    f"got [{lo}, {hi}]"
                )
        return self.manager.enable_mu_suppression(session_id, config)

    def mu_suppression_status(self, session_id: str) -> dict[str, Any]:
        return self.manager.mu_suppression_status(session_id)

    def set_mu_baseline(self, session_id: str, seconds: float) -> dict[str, Any]:
        return self.manager.set_mu_baseline(session_id, seconds)

    def disable_mu_suppression(self, session_id: str) -> dict[str, Any]:
        return self.manager.disable_mu_suppression(session_id)

    def start_recording(self, session_id: str) -> dict[str, Any]:
        return self.manager.start_recording(session_id)

    def stop_recording(self, session_id: str) -> dict[str, Any]:
        return self.manager.stop_recording(session_id)

    def activate_model(self, session_id: str, model_id: str) -> dict[str, Any]:
        return self.manager.activate_model(session_id, model_id)

    # ------------------------------------------------------------------ files
    def _roots(self) -> list[Path]:
        return [
            self.manager.recordings_dir.resolve(),
            *(Path(r).resolve() for r in self.settings.replay_roots),
        ]

    def confined_file(self, given: str, roots: list[Path], what: str) -> Path:
        """``given`` as a regular file under one of ``roots``, else one uniform NotFoundError.

        A relative name is looked up in each root in turn; an absolute path must lie under
        a root once symlinks are resolved. Whether a refused file exists is never revealed.
        """
        try:
            p = Path(given)
            candidates = [p] if p.is_absolute() else [root / p for root in roots]
            for c in candidates:
                real = c.resolve()
                if any(real.is_relative_to(r) for r in roots) and real.is_file():
                    return real
        except (OSError, RuntimeError, ValueError):  # too long, NUL byte, symlink loop
            pass
        raise NotFoundError(f"No {what} {given!r} in the folders this service serves")

    def list_recordings(self) -> list[dict[str, Any]]:
        folder = self.manager.recordings_dir
        active = self.manager.active_recordings()
        out = []
        for p in sorted(folder.glob("*.xdf")) if folder.is_dir() else []:
            st = p.stat()
            out.append(
                {
                    "file": p.name,
                    "bytes": st.st_size,
                    "modified": st.st_mtime,
                    "recording_session": active.get(p.name),
                }
            )
        return out

    def recording_file(self, name: str) -> Path:
        """The path of a recording in the recordings folder (by file name only)."""
        if "/" in name or "\\" in name or not name.endswith(".xdf"):
            raise NotFoundError(f"No recording {name!r} in the folders this service serves")
        return self.confined_file(name, [self.manager.recordings_dir.resolve()], "recording")

    # ------------------------------------------------------------------ replays
    @staticmethod
    def _replay_out(name: str, rep: Any) -> dict[str, Any]:
        return {
            "name": name,
            "markers": rep.marker_name,
            "done": rep.done,
            "samples_pushed": rep.n_pushed,
            "error": None if rep.error is None else type(rep.error).__name__,
        }

    def start_replay(
        self, path: str, speed: float | str = 1.0, loop: bool = False, name: str | None = None
    ) -> dict[str, Any]:
        """Publish a recording under the replay roots as live LSL streams."""
        from bci.streams.replay import Replay

        p = self.confined_file(path, self._roots(), "replayable recording")
        if isinstance(speed, str) and speed != "max":
            try:
                speed = float(speed)
            except ValueError:
                raise DataError(f"speed must be a number or 'max', got {speed!r}") from None
        if isinstance(speed, float) and not (math.isfinite(speed) and speed > 0):
            raise DataError(f"speed must be a positive finite number or 'max', got {speed!r}")
        try:
            rep = Replay(p, name=name, speed=speed, loop=loop)
        except BCIError as exc:
            # The reader's message may quote the file (a header line): say only what failed.
            raise DataError(
                f"{path!r} could not be replayed: not a recording bci can read "
                f"({type(exc).__name__})"
            ) from None
        with self._hosted_lock:
            if rep.name in self.manager.hosted:
                rep.close()
                raise SessionStateError(f"A stream named {rep.name!r} is already hosted here")
            self.manager.hosted[rep.name] = rep
        rep.start()
        return self._replay_out(rep.name, rep)

    def list_replays(self) -> list[dict[str, Any]]:
        from bci.streams.replay import Replay

        return [
            self._replay_out(n, r)
            for n, r in list(self.manager.hosted.items())
            if isinstance(r, Replay)
        ]

    def stop_replay(self, name: str) -> dict[str, Any]:
        from bci.streams.replay import Replay

        with self._hosted_lock:
            rep = self.manager.hosted.get(name)
            if not isinstance(rep, Replay):
                raise NotFoundError(f"No replay named {name!r} runs here")
            del self.manager.hosted[name]
        out = self._replay_out(name, rep)
        rep.close()
        return out

    # ------------------------------------------------------------------ synthetic headsets
    def _synthetic(self) -> dict[str, Any]:
        return {n: s for n, s in list(self.manager.hosted.items()) if hasattr(s, "set_condition")}

    def list_synthetic(self) -> list[dict[str, Any]]:
        return [
            {"name": n, "condition": s.condition, "auto_cues": s.auto_cues}
            for n, s in self._synthetic().items()
        ]

    def set_condition(
        self, name: str, condition: str, marker: str | None = None, auto_cues: bool = False
    ) -> dict[str, Any]:
        """Make a hosted synthetic brain imagine, observe or rest from the next sample on."""
        from bci.streams.synthetic import condition_effect

        hosted = self._synthetic()
        src = hosted.get(name)
        if src is None:
            raise NotFoundError(
                f"No synthetic headset named {name!r} runs in this service. "
                f"Hosted: {', '.join(hosted) or 'none'} (start one with `bci demo`)"
            )
        condition_effect(condition)  # unknown -> error before anything changes
        if src.auto_cues != auto_cues and (src.paradigm is not None or not auto_cues):
            src.set_auto_cues(auto_cues)
        src.set_condition(condition, marker=marker)
        return {"name": name, "condition": condition, "auto_cues": src.auto_cues}

    # ------------------------------------------------------------------ models
    def _active_in(self, model_id: str) -> list[str]:
        return [
            s.id
            for s in self.manager.list()
            if s.model is not None and s.model.model_id == model_id and s.state != "stopped"
        ]

    def _card(self, card: dict[str, Any]) -> dict[str, Any]:
        return {**card, "active_in": self._active_in(card["id"])}

    def list_models(self) -> list[dict[str, Any]]:
        return [self._card(c) for c in self.manager.store.list()]

    def model_card(self, model_id: str) -> dict[str, Any]:
        return self._card(self.manager.store.card(model_id))

    @property
    def max_model_bytes(self) -> int:
        return MAX_MODEL_BYTES

    @staticmethod
    def _take(slots: threading.BoundedSemaphore, limit: int, what: str) -> None:
        """Take one of ``slots`` now, or refuse (ServiceBusyError, 503): no queue."""
        if not slots.acquire(blocking=False):
            raise ServiceBusyError(
                f"{limit} {what} are already in progress: retry when one has finished"
            )

    def upload_slot(self) -> threading.BoundedSemaphore:
        """Held while one upload is read and checked; refused when all are taken."""
        self._take(self._uploads, self.settings.max_concurrent_uploads, "model uploads")
        return self._uploads

    def training_slot(self) -> threading.BoundedSemaphore:
        """Held while one model trains (``POST /models/train``); refused when all are taken."""
        self._take(self._trainings, self.settings.max_concurrent_trainings, "model trainings")
        return self._trainings

    def import_model(self, data: bytes) -> dict[str, Any]:
        """Check and store an uploaded ``.bcimodel`` file (never executes code from it)."""
        model = self.manager.store.import_bytes(data)
        return self.model_card(model.model_id)

    def train_model(
        self,
        recording: str,
        events: dict[str, str],
        pipeline: str = "ts-lr",
        tmin: float = 0.5,
        tmax: float = 2.5,
        band: tuple[float, float] | None = None,
        folds: int = 5,
    ) -> dict[str, Any]:
        """Train and store a model on a recording of the recordings folder, cut at its markers.

        At most ``max_concurrent_trainings`` at once (ServiceBusyError beyond): each holds a
        worker thread and a core for seconds, so a burst of requests never queues without
        bound nor starves the decoding engine.
        """
        from bci.evaluation.train import train_from_recording

        path = self.recording_file(recording)
        slot = self.training_slot()
        try:
            model = train_from_recording(
                path, events, pipeline=pipeline, tmin=tmin, tmax=tmax, band=band, cv=folds
            )
        finally:
            slot.release()
        self.manager.add_model(model)
        return self.model_card(model.model_id)

    def export_model(self, model_id: str) -> tuple[str, bytes]:
        """The file name and bytes of a stored model."""
        from bci.decoders.store import SUFFIX

        return f"{model_id}{SUFFIX}", self.manager.store.export_bytes(model_id)

    def delete_model(self, model_id: str) -> dict[str, Any]:
        """Delete a stored model; refused while a running session decodes with it."""
        card = self.manager.store.card(model_id)  # not found first
        active = self._active_in(model_id)
        if active:
            first = active[0]
            raise SessionStateError(
                f"Model {model_id} is active in session(s) {', '.join(active)}: activate "
                f"another model (POST /sessions/{first}/model) or delete the session "
                f"(DELETE /sessions/{first}) first"
            )
        self.manager.store.delete(model_id)
        return {**card, "active_in": []}
