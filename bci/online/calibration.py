"""A calibration run inside a live session: cue, collect trials, fit, store, activate.

The run is a session stage (:mod:`bci.online.stages`): the session calls
:meth:`Calibration.on_chunk` with each chunk and :meth:`Calibration.tick` once per step, both
from the engine thread. Cues are scheduled on the LSL clock, announced on the session
WebSocket (``{"type": "cue", ...}``) and stamped as session markers (source
``calibration``), which the :class:`~bci.online.cues.CueOutlet` stage pushes on an LSL marker
stream and the recording keeps. Trials are cut from a signal filtered continuously and
causally in the pipeline's band, exactly as the online windows will be; the fit runs in its
own thread so decoding never waits for it, and the next ``tick`` activates its model.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from bci.decoders.model import Model, train_model
from bci.errors import ConfigError, SessionStateError
from bci.online.messages import CalibrationMessage, Cue, Message
from bci.online.stages import ChunkIn, Stage, StageContext
from bci.paradigms import Paradigm, get_paradigm
from bci.signal.filters import CausalFilter
from bci.streams.buffer import RingBuffer
from bci.types import Marker

__all__ = ["Calibration", "CalibrationSpec"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalibrationSpec:
    """What to run. Durations left as None come from the paradigm file."""

    paradigm: str = "imagery-left-right"
    trials_per_class: int | None = None
    pipeline: str = "ts-lr"
    fixation_s: float | None = None
    trial_s: float | None = None
    rest_s: float | None = None
    jitter_s: float | None = None
    tmin: float | None = None
    tmax: float | None = None
    start_s: float = 1.0
    seed: int | None = None
    folds: int = 5
    # "service": this service schedules and announces the cues; "app": the feedback app
    # (e.g. playing action videos) reports each trial's onset as an event whose value is a
    # class marker, and the optional offset as "<marker>_end".
    cues: str = "service"

    def resolve_paradigm(self) -> Paradigm:
        par = get_paradigm(self.paradigm)
        timing = {
            k: v
            for k, v in (
                ("fixation_s", self.fixation_s),
                ("trial_s", self.trial_s),
                ("rest_s", self.rest_s),
                ("jitter_s", self.jitter_s),
                ("tmin", self.tmin),
                ("tmax", self.tmax),
            )
            if v is not None
        }
        if timing:
            merged = {**par.timing.model_dump(), **timing}
            if merged["tmax"] > merged["trial_s"]:
                raise ConfigError(
                    f"trial_s ({merged['trial_s']}) must be at least the epoch end tmax "
                    f"({merged['tmax']}) of paradigm {par.name!r}"
                )
            try:
                new_timing = type(par.timing)(**merged)
            except ValueError as exc:
                raise ConfigError(f"Invalid calibration timing: {exc}") from None
            par = par.model_copy(update={"timing": new_timing})
        return par


@runtime_checkable
class Follower(Protocol):
    """A synthetic headset hosted in this process that imagines what each cue asks."""

    auto_cues: bool

    def set_condition(
        self, cond: str, marker: str | None = None, t: float | None = None
    ) -> Any: ...

    def set_auto_cues(self, enabled: bool) -> Any: ...


class Calibration(Stage):
    """One calibration run bound to a session (a session stage).

    Parameters
    ----------
    ctx : StageContext
        The session's context (id, rate, channel names).
    spec : CalibrationSpec
    on_model : callable
        Called with the fitted :class:`Model` (store it) before it is activated; runs in the
        fit thread.
    follower : Follower or None
        A synthetic headset hosted in this process; it is told to imagine what each cue asks,
        so a calibration runs end to end without hardware.
    """

    order: ClassVar[int] = 30

    def __init__(
        self,
        ctx: StageContext,
        spec: CalibrationSpec,
        on_model: Callable[[Model], Any],
        follower: Follower | None = None,
    ) -> None:
        from bci.decoders import get_pipeline
        from bci.streams.synthetic import make_schedule

        self.session_id = ctx.id
        self.sfreq = ctx.sfreq
        self.ch_names = list(ctx.ch_names)
        self.spec = spec
        self.paradigm = spec.resolve_paradigm()
        self.pipeline_spec = get_pipeline(spec.pipeline)
        self.on_model = on_model
        self.follower = follower
        if spec.cues not in ("service", "app"):
            raise ConfigError(f"cues must be 'service' or 'app', got {spec.cues!r}")
        self.app_mode = spec.cues == "app"
        self.trials = make_schedule(
            self.paradigm, spec.trials_per_class, seed=spec.seed, start_s=spec.start_s
        )
        self.tpc = len(self.trials) // len(self.paradigm.classes)
        self._markers = self.paradigm.by_marker()
        # (cue time, label) of trials waiting for their data; offsets seen per trial
        self._pending: list[tuple[float, str]] = []
        self._offsets: list[float] = []
        tm = self.paradigm.timing
        self.tmin, self.tmax = tm.tmin, tm.tmax
        sf = ctx.sfreq
        self.n_times = round((self.tmax - self.tmin) * sf)
        # The fit needs epochs of 2 samples or more (shrunk covariances, the default, are full
        # rank from there on): a shorter epoch failed in the fit, after every trial was done.
        if self.n_times < 2:
            raise ConfigError(
                f"the epoch tmin..tmax ({self.tmin:g}-{self.tmax:g} s after the cue) holds "
                f"{self.n_times} sample(s) at {sf:g} Hz; a calibration needs at least 2 "
                f"({2 / sf:.3f} s)"
            )
        lo, hi = self.pipeline_spec.band
        self._filter = CausalFilter(sf, lo, min(hi, 0.45 * sf))
        self._buffer = RingBuffer(int(30 * sf), len(self.ch_names))
        self.state = "running"
        self.error: str | None = None
        self.result: dict[str, Any] | None = None
        self.t_start: float | None = None
        self._next_event = 0  # index into the flattened cue/rest events
        self._events = self._flatten()
        self.X: list[np.ndarray] = []
        self.y: list[str] = []
        self.n_missed = 0
        self._auto_cues_before: bool | None = None
        self._fit_thread: threading.Thread | None = None
        self._fitted: Model | None = None  # handed from the fit thread to the next tick
        self._lock = threading.Lock()

    def _flatten(self) -> list[tuple[float, str, int]]:
        """(offset_s, phase, trial index) in time order: fixation, cue, rest per trial."""
        fix = self.paradigm.timing.fixation_s
        out = []
        for i, tr in enumerate(self.trials):
            out.append((tr.onset_s - fix, "fixation", i))
            out.append((tr.onset_s, "cue", i))
            out.append((tr.onset_s + tr.duration_s, "rest", i))
        return out

    # ------------------------------------------------------------ engine-thread hooks
    def on_chunk(self, ctx: StageContext, chunk: ChunkIn) -> list[Message]:
        """Filter each chunk continuously in the pipeline's band."""
        if self.state == "running":
            self._buffer.write(self._filter.process(chunk.data), chunk.timestamps)
        return []

    @property
    def clocked(self) -> bool:  # type: ignore[override]
        """Cues go out on the clock: stepped every engine round while running."""
        return self.state == "running"

    def tick(self, ctx: StageContext, now: float) -> list[Message]:
        """Emit the cues that are due, cut the trials whose data is complete; after the fit,
        activate the model."""
        if self.state == "fitting":
            return self._finish(ctx)
        if self.state != "running":
            return []
        try:
            return self._run(ctx, now)
        except Exception as exc:  # a calibration bug must not stop decoding
            logger.exception("session %s: calibration step failed", ctx.id)
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
            return [self._message("failed", error=self.error)]

    def _run(self, ctx: StageContext, now: float) -> list[Message]:
        out: list[Message] = []
        if self.t_start is None:
            out.append(self._begin(now))
        t_start = self.t_start
        assert t_start is not None  # set by _begin
        while (
            not self.app_mode
            and self._next_event < len(self._events)
            and t_start + self._events[self._next_event][0] <= now
        ):
            offset, phase, i = self._events[self._next_event]
            out.extend(self._emit(ctx, phase, i, t_start + offset))
            self._next_event += 1
        self._cut_ready()
        if self._complete():
            out.extend(self._start_fit())
        return out

    def _message(self, state: str, **fields: Any) -> CalibrationMessage:
        return CalibrationMessage(session_id=self.session_id, state=state, **fields)  # type: ignore[arg-type]

    def _complete(self) -> bool:
        if self.app_mode:
            counts = [self.y.count(c) for c in self.paradigm.labels]
            return min(counts) >= self.tpc
        return self._next_event == len(self._events) and not self._pending

    def on_marker(self, ctx: StageContext, marker: Marker) -> list[Message]:
        """App mode: a class marker starts a trial; ``<marker>_end`` ends it."""
        if not self.app_mode or self.state != "running":
            return []
        value, t = marker.label or marker.value, marker.t  # label: via the marker_map
        if value in self._markers:
            label = self._markers[value].label
            if self.y.count(label) + sum(1 for _, lab in self._pending if lab == label) < self.tpc:
                self._pending.append((t, label))
        elif value.endswith("_end") and value[:-4] in self._markers:
            self._offsets.append(t)
        return []

    def _begin(self, now: float) -> CalibrationMessage:
        self.t_start = now
        f = self.follower
        if self.app_mode:
            f = self.follower = None  # the app drives the trials; a synthetic brain idles
        if f is not None:
            self._auto_cues_before = bool(f.auto_cues)
            f.set_auto_cues(False)
            f.set_condition("rest")
        return self._message("running", progress=self.progress())

    def _emit(self, ctx: StageContext, phase: str, i: int, t: float) -> list[Message]:
        tr = self.trials[i]
        cls = next(c for c in self.paradigm.classes if c.label == tr.label)
        msg = Cue(
            session_id=self.session_id,
            phase=phase,  # type: ignore[arg-type]  # from _flatten
            t=t,
            trial=i + 1,
            n_trials=self.tpc * len(self.paradigm.classes),
            cues=self.spec.cues,  # type: ignore[arg-type]  # checked in __init__
            label=tr.label if phase == "cue" else None,
            cue=cls.cue if phase == "cue" else ("+" if phase == "fixation" else ""),
        )
        if phase == "cue":
            self._pending.append((t, tr.label))
            ctx.add_marker(tr.marker, t, source="calibration")
            if self.follower is not None:
                self.follower.set_condition(tr.condition, t=t)
        elif phase == "rest" and self.follower is not None:
            self.follower.set_condition("rest", t=t)
        return [msg]

    def _cut_ready(self) -> None:
        buf = self._buffer
        while self._pending and buf.n_written:
            cue_t, label = self._pending[0]
            _, last_t = buf.latest(1)
            if last_t[-1] < cue_t + self.tmax:
                return  # data for this trial not complete yet
            self._pending.pop(0)
            if any(cue_t < off < cue_t + self.tmax for off in self._offsets):
                self.n_missed += 1  # the app ended the trial before the epoch was over
                logger.warning(
                    "calibration %s: trial at %.3f ended before tmax", self.session_id, cue_t
                )
                continue
            win, ts = buf.latest(buf.n_available)
            start = int(np.searchsorted(ts, cue_t + self.tmin - 0.5 / self.sfreq))
            if 0 < start and start + self.n_times <= ts.size:
                self.X.append(win[:, start : start + self.n_times])
                self.y.append(label)
            else:  # a gap or a stream that started late: this trial cannot be cut
                self.n_missed += 1
                logger.warning(
                    "calibration %s: trial at %.3f has no complete data", self.session_id, cue_t
                )

    # ------------------------------------------------------------ fitting
    def _start_fit(self) -> list[Message]:
        with self._lock:
            if self.state != "running":
                return []
            self.state = "fitting"
        self._restore_follower()
        msg = self._message("fitting", progress=self.progress())
        self._fit_thread = threading.Thread(
            target=self._fit, name="bci-calibration-fit", daemon=True
        )
        self._fit_thread.start()
        return [msg]

    def _fit(self) -> None:
        """Fit thread: cross-validate, fit and store; the next tick activates the model."""
        try:
            X = np.stack(self.X) if self.X else np.empty((0, self._buffer.n_channels, 0))
            y = np.asarray(self.y)
            model = train_model(
                X,
                y,
                pipeline=self.spec.pipeline,
                ch_names=self.ch_names,
                sfreq=self.sfreq,
                band=self.pipeline_spec.band,
                paradigm=self.paradigm.name,
                cv=self.spec.folds,
                seed=0 if self.spec.seed is None else self.spec.seed,
            )
            self.on_model(model)
            self._fitted = model
        except Exception as exc:  # reported to the user, never swallowed
            logger.exception("calibration of session %s failed", self.session_id)
            self.error = f"{type(exc).__name__}: {exc}"

    def _finish(self, ctx: StageContext) -> list[Message]:
        """Engine thread, once the fit thread has ended: activate the model, report."""
        if self._fit_thread is not None and self._fit_thread.is_alive():
            return []
        model = self._fitted
        if model is not None and self.error is None:
            try:
                ctx.set_model(model)
                self.result = {
                    "model_id": model.model_id,
                    "cv_score": model.cv_score,
                    "cv_metric": model.cv_metric,
                    "cv_accuracy": model.params.get("cv_accuracy"),
                    "n_trials": model.n_trials,
                    "n_missed": self.n_missed,
                }
            except Exception as exc:  # e.g. a model the stream cannot take
                logger.exception("calibration of session %s failed", self.session_id)
                self.error = f"{type(exc).__name__}: {exc}"
        elif self.error is None:
            self.error = "the fit ended without a model"
        self.state = "done" if self.error is None else "failed"
        return [self._message(self.state, result=self.result, error=self.error)]

    def wait(self, timeout: float | None = None) -> None:
        """Block until the fit thread ends (tests, CLI); the next step reports the result."""
        if self._fit_thread is not None:
            self._fit_thread.join(timeout)

    def cancel(self) -> list[Message]:
        """Stop a running calibration (engine thread: call it through a session command)."""
        with self._lock:
            if self.state not in ("running",):
                raise SessionStateError(
                    f"Calibration of session {self.session_id} is {self.state}; only a "
                    "running calibration can be cancelled"
                )
            self.state = "cancelled"
        self._restore_follower()
        if self.follower is not None:
            self.follower.set_condition("rest")
        return [self._message("cancelled")]

    def close(self) -> None:
        """Removed from the session or the session stopped: hand the headset back."""
        if self.state == "running":
            self.state = "cancelled"
            self._restore_follower()

    def _restore_follower(self) -> None:
        f = self.follower
        if f is not None and self._auto_cues_before is not None:
            f.set_auto_cues(self._auto_cues_before)

    def progress(self) -> dict[str, Any]:
        done_cues = sum(1 for _, p, _ in self._events[: self._next_event] if p == "cue")
        if self.app_mode:
            done_cues = len(self.X) + len(self._pending) + self.n_missed
        current = None
        if self.state == "running" and self._next_event > 0:
            _, phase, i = self._events[self._next_event - 1]
            current = {
                "phase": phase,
                "trial": i + 1,
                "label": self.trials[i].label if phase == "cue" else None,
            }
        total_s = self.trials[-1].onset_s + self.trials[-1].duration_s if self.trials else 0.0
        return {
            "state": self.state,
            "paradigm": self.paradigm.name,
            "pipeline": self.spec.pipeline,
            "classes": self.paradigm.labels,
            "trial": done_cues,
            "n_trials": self.tpc * len(self.paradigm.classes),
            "cues": self.spec.cues,
            "trials_collected": len(self.X),
            "trials_missed": self.n_missed,
            "current": current,
            "duration_s": total_s,
            "result": self.result,
            "error": self.error,
        }
