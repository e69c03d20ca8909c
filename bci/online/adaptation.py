"""Online adaptation of a session: the ``"adaptation"`` option of ``POST /sessions``.

``"recenter"``
    The active model (a pipeline with a :class:`~bci.decoders.recentering.Recentering`
    step: a population model, or any pipeline built with ``recentering=True``) is wrapped in
    an :class:`~bci.decoders.adaptation.AdaptiveDecoder`: every window is decided with the
    session's tracked reference, then the reference moves towards it (one update every
    ``update_s`` of stream time, forgetting with time constant ``horizon_s``, guarded against
    runs of one class by :data:`~bci.decoders.adaptation.DEFAULT_GUARD`). No label is used.
``"supervised"``
    The same, and each labelled trial (a class marker from a calibration cue or the app,
    e.g. ``left_hand``, or the class name itself) adds the covariance of the window that ends
    ``window_s`` after the marker. Every ``refit_every`` trials (once each class has
    ``min_per_class``) the tangent space + classifier are refitted on the session's
    re-centred trials in a background thread, the classes weighted equally; the refit is a
    new model version, stored in the registry when the session has one, and activated at
    the next step. Each ``prediction`` names the model id that decided it. Refits wait
    (``refit_paused`` in the status says why) while the labelled trials came in blocks of
    one class (:func:`~bci.decoders.adaptation.labels_in_blocks`): such refits learn what
    changed slowly in the recording as the class and invert decisions (measured on eegmmidb,
    README). Cued calibration (a random order) and apps that
    interleave their trials are refitted; a block design keeps only the unlabelled
    re-centring.

:class:`AdaptationStage` (order 15: right after the decoder, before a quality gate) wraps
each newly active model at the next tick, pairs every ``prediction`` with its window in the
decoder call (``on_message``), takes labelled trials from ``on_marker``, and activates a
finished refit at the next tick; its state is the ``adaptation`` entry of
``GET /sessions/{id}``. Everything runs on the engine thread except the refit itself.

Only windows whose decision was published move the reference or become labelled trials:
the adaptive decoder defers its updates (``defer_updates``) and the stage accepts a window
in ``on_published``, after the quality gate (order 20) has let its ``prediction`` through.
A flat, saturated, disconnected or mains-only window is decided with the reference as it
stands but never pulls it (a dead channel's covariance would drag it far from the session's).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from bci.decoders.adaptation import (
    DEFAULT_GUARD,
    AdaptiveDecoder,
    ReferenceTracker,
    alpha_for_horizon,
    inv_sqrt,
    labels_in_blocks,
    refit_with_trials,
)
from bci.decoders.model import Model, data_fingerprint, new_model_id
from bci.decoders.recentering import Recentering
from bci.errors import ConfigError, DecoderError
from bci.online.decoder import Decoder
from bci.online.messages import Message, Prediction
from bci.online.stages import Stage, StageContext
from bci.types import Marker

__all__ = ["MODES", "AdaptationStage"]

logger = logging.getLogger(__name__)

#: Values of the session option ``"adaptation"``.
MODES = ("none", "recenter", "supervised")


class AdaptationStage(Stage):
    """Unsupervised re-centring (and supervised refits) for one session.

    Parameters
    ----------
    decoder : Decoder
        The session's decoder stage (``session.decoder``): its active model is adapted.
    step_s : float
        The session's decision step (``session.config.step_s``).
    mode : {"recenter", "supervised"}
    guard : str
        Tracker guard (:data:`bci.decoders.adaptation.GUARDS`).
    horizon_s, update_s, init_s : float
        Forgetting time constant, update stride and warm-up (stream seconds).
    store : ModelStore or None
        Registry where each supervised refit is saved as a new model version.
    refit_every, min_per_class : int
        Supervised: refit after this many new labelled trials, once every class has
        ``min_per_class`` of them.
    """

    order: ClassVar[int] = 15
    status_key: ClassVar[str | None] = "adaptation"

    def __init__(
        self,
        decoder: Decoder,
        step_s: float,
        mode: str = "recenter",
        *,
        guard: str = DEFAULT_GUARD,
        horizon_s: float = 60.0,
        update_s: float = 0.5,
        init_s: float = 8.0,
        store: Any = None,
        refit_every: int = 5,
        min_per_class: int = 5,
    ) -> None:
        if mode not in MODES[1:]:
            raise ConfigError(
                f"adaptation must be one of {', '.join(repr(m) for m in MODES)}, got {mode!r}"
            )
        self._dec_stage = decoder
        self.step_s = float(step_s)
        self.mode = mode
        self.store = store
        self.refit_every = int(refit_every)
        self.min_per_class = int(min_per_class)
        self.update_every = max(1, round(update_s / step_s))
        self.tracker = ReferenceTracker(
            guard,
            alpha=alpha_for_horizon(horizon_s, self.update_every * step_s),
            n_init=max(1, round(init_s / (self.update_every * step_s))),
        )
        self.decoder: AdaptiveDecoder | None = None
        self.base_model_id: str | None = None
        self.error: str | None = None
        self._unadaptable: str | None = None  # the id of a model already tried
        self.versions: list[str] = []
        self.missed_trials = 0
        self._calls_seen: tuple[int, int] = (0, -1)
        self._k = 0
        self._by_model: dict[str, AdaptiveDecoder] = {}  # model id -> its adaptive decoder
        # the prediction on its way through the stages: (index, decoder, window in its call)
        self._in_flight: tuple[int, AdaptiveDecoder, int] | None = None
        self._pending: list[tuple[float, str]] = []  # (window end wanted, label)
        self._covs: list[np.ndarray] = []
        self._labels: list[str] = []
        self._since_refit = 0
        self.refit_paused: str | None = None  # why refits wait (labels in blocks), or None
        self._paused_said = False
        self._refit: threading.Thread | None = None
        self._ready: Model | None = None

    # ----------------------------------------------------------------- models
    def _adopt(self, ctx: StageContext, model: Model) -> None:
        """Wrap a newly activated plain model in an adaptive decoder sharing the tracker."""
        try:
            dec = AdaptiveDecoder(
                model.pipeline,
                self.tracker,
                self.update_every,
                keep_covs=self.mode == "supervised",
                defer_updates=True,
            )
        except DecoderError as exc:
            self._unadaptable = model.model_id  # said once, not at every tick
            self.decoder, self.error = None, f"model {model.model_id} not adapted: {exc}"
            ctx.warn(self.error)
            return
        self.decoder, self.error = dec, None
        self.base_model_id = model.model_id
        self._by_model[model.model_id] = dec
        ctx.set_model(replace(model, pipeline=dec, _fast=dec))  # it is its own fast path

    def tick(self, ctx: StageContext, now: float) -> list[Message]:
        """Adapt a newly active model; activate a finished refit."""
        new, self._ready = self._ready, None
        if new is not None:
            self.versions.append(new.model_id)
            self._adopt(ctx, new)
        active = self._dec_stage.model
        if (
            active is not None
            and not isinstance(active.pipeline, AdaptiveDecoder)
            and active.model_id != self._unadaptable
        ):
            self._adopt(ctx, active)
        return []

    def on_marker(self, ctx: StageContext, marker: Marker) -> list[Message]:
        if self.mode == "supervised":
            self._on_marker(marker.value, marker.t)
        return []

    def on_message(self, ctx: StageContext, message: Message) -> Message | None:
        """Before the gate: note which window of which decoder call ``message`` decided."""
        if isinstance(message, Prediction):
            dec = self._by_model.get(message.model_id)
            self._in_flight = None
            if dec is not None:
                call = (id(dec), dec.n_calls_)
                if call != self._calls_seen:  # a new predict_proba call: windows in order
                    self._calls_seen, self._k = call, 0
                self._in_flight = (message.index, dec, self._k)
                self._k += 1
        return message

    def on_published(self, ctx: StageContext, message: Message) -> None:
        """After the gate: a published decision's window moves the reference (and pairs)."""
        flight, self._in_flight = self._in_flight, None
        if not isinstance(message, Prediction) or flight is None or flight[0] != message.index:
            return  # withheld or dropped: the window is not used
        _, dec, k = flight
        dec.accept(k)
        if self.mode == "supervised":
            cov = dec.last_covs_[k] if k < len(dec.last_covs_) else None
            self._on_prediction(message.t, cov)
            if self.refit_paused is not None and not self._paused_said:
                self._paused_said = True  # once per session: the status keeps the reason
                ctx.warn(f"adaptation refits paused: {self.refit_paused}")

    def _class_of(self, value: str) -> str | None:
        model = self._dec_stage.model
        if model is None:
            return None
        if value in model.classes:
            return value
        if model.paradigm:
            from bci.paradigms import get_paradigm

            try:
                spec = get_paradigm(model.paradigm).by_marker().get(value)
            except Exception:  # an unknown paradigm name: only class names count
                return None
            if spec is not None and spec.label in model.classes:
                return str(spec.label)
        return None

    def _on_marker(self, value: str, t: float) -> None:
        label = self._class_of(value)
        model = self._dec_stage.model
        if label is not None and model is not None:
            self._pending.append((t + model.window_s, label))

    def _on_prediction(self, t: float, cov: np.ndarray | None) -> None:
        """A published decision on the window ending at ``t``: complete a labelled trial."""
        half = 0.5 * self.step_s
        for want, label in list(self._pending):
            if t >= want - half:
                self._pending.remove((want, label))
                if cov is not None and abs(t - want) <= half + 1e-9:
                    self._covs.append(cov)
                    self._labels.append(label)
                    self._since_refit += 1
                else:  # no decision at the trial's end (a gap, withheld, a swap): not guessed
                    self.missed_trials += 1
        self._maybe_refit()

    # ----------------------------------------------------------------- supervised refits
    def _maybe_refit(self) -> None:
        if self.mode != "supervised" or self._since_refit < self.refit_every:
            return
        if self._refit is not None and self._refit.is_alive():
            return
        counts = {c: self._labels.count(c) for c in set(self._labels)}
        model = self._dec_stage.model
        if model is None or len(counts) < len(model.classes):
            return
        if min(counts.values()) < self.min_per_class:
            return
        self.refit_paused = blocked = labels_in_blocks(self._labels)
        if blocked is not None:
            return  # _since_refit kept: the refit comes once the cues are interleaved
        assert self.decoder is not None and self.tracker.reference_ is not None
        self._since_refit = 0
        base, R = self.decoder.snapshot(), self.tracker.reference_.copy()
        covs, labels = np.stack(self._covs), np.asarray(self._labels)
        self._refit = threading.Thread(
            target=self._run_refit,
            args=(model, base, R, covs, labels),
            name="bci-adapt-refit",
            daemon=True,
        )
        self._refit.start()

    def _run_refit(
        self, model: Model, base: Any, R: np.ndarray, covs: np.ndarray, labels: np.ndarray
    ) -> None:
        try:
            steps = [n for n, _ in base.steps]
            at = next(i for i, (_, st) in enumerate(base.steps) if isinstance(st, Recentering))
            tail = base[at + 1 :]
            isqrt = inv_sqrt(R)
            tail = refit_with_trials(tail, isqrt @ covs @ isqrt, labels, balance=True)
            from sklearn.pipeline import Pipeline

            pipe = Pipeline([*base.steps[: at + 1], *tail.steps])
            version = len(self.versions) + 1
            new = replace(
                model,
                pipeline=pipe,
                model_id=new_model_id(),
                _fast=None,
                n_trials=len(labels),
                fingerprint=data_fingerprint(covs, labels),
                cv_score=None,
                cv_metric=None,
                params={
                    **model.params,
                    "adaptation": {
                        "parent": self.base_model_id,
                        "version": version,
                        "session_trials": len(labels),
                        "steps": steps,
                    },
                },
            )
            if self.store is not None:
                self.store.save(new)
            self._ready = new
        except Exception as exc:  # said in the status and the log, never swallowed
            logger.exception("adaptation refit failed")
            self.error = f"refit failed: {type(exc).__name__}: {exc}"

    # ----------------------------------------------------------------- status
    def wait_refit(self, timeout: float | None = None) -> None:
        """Block until a running refit thread ends (tests step sessions by hand)."""
        if self._refit is not None:
            self._refit.join(timeout)

    def status(self) -> dict[str, Any]:
        """JSON-ready state for ``GET /sessions/{id}``."""
        dec = self.decoder
        out: dict[str, Any] = {
            "mode": self.mode,
            "active": dec is not None,
            "error": self.error,
            "base_model_id": self.base_model_id,
            "update_every_windows": self.update_every,
            **self.tracker.state(),
        }
        if self.mode == "supervised":
            out["labelled_trials"] = len(self._labels)
            out["missed_trials"] = self.missed_trials
            out["versions"] = list(self.versions)
            out["refitting"] = self._refit is not None and self._refit.is_alive()
            out["refit_paused"] = self.refit_paused
        return out
