"""The adaptation replay through the online engine (``DecodingSession`` + ``ArraySource``).

Split from :mod:`bci.evaluation.adaptation` (the offline sequential simulation and the
report) to keep each module short; :func:`bci.evaluation.adaptation.run_adaptation` calls
:func:`replay_engine` for its ``engine`` rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bci.decoders.adaptation import GUARDS, ReferenceTracker
from bci.decoders.recentering import Recentering
from bci.evaluation.adaptation_data import MOTOR_CHANNELS, SubjectData

__all__ = ["ENGINE_CONDITIONS", "replay_engine"]

ENGINE_CONDITIONS = (
    "unaligned",
    "static",
    *(f"recenter-{g}" for g in GUARDS),
    "supervised-session",
    "oracle",
)


def replay_engine(
    sub: SubjectData,
    condition: str,
    model: Any,
    *,
    alpha: float,
    n_init: int,
    step_s: float = 1 / 16,
    update_s: float = 0.5,
    tmax: float = 3.0,
    chunk_size: int = 16,
    horizon_s: float = 60.0,
    init_s: float = 8.0,
    refit_every: int = 5,
    min_per_class: int = 5,
) -> np.ndarray:
    """Replay the subject's runs through :class:`~bci.online.session.DecodingSession`.

    The runs are fed in time order from their first sample (an :class:`ArraySource`, a 5 s
    timestamp gap between runs restarts the filter and the windows as a new run would);
    the model decides every ``step_s`` and, for the adaptive conditions, an
    :class:`~bci.decoders.adaptation.AdaptiveDecoder` updates its reference from one
    decided window every ``update_s``. Each trial gets the decision whose window ends
    closest to ``cue + tmax``.

    ``supervised-session`` is the ``"supervised"`` session option itself: the plain model in
    the session with an :class:`~bci.online.adaptation.AdaptationStage` (the default guard,
    refits every ``refit_every`` labelled trials once each class has ``min_per_class``), and
    each trial's class sent as a marker at its cue, as a cued calibration or an app would;
    every refit is waited for before the next step, so the replay is deterministic.

    Returns
    -------
    proba : ndarray, shape (n_trials, n_classes)
        In the order of ``sub.y``.
    """
    from pyriemann.estimation import Covariances
    from sklearn.pipeline import Pipeline

    from bci.decoders.adaptation import AdaptiveDecoder
    from bci.decoders.model import Model
    from bci.online.adaptation import AdaptationStage
    from bci.online.pseudo_online import replay_predictions
    from bci.online.session import DecodingSession, SessionConfig
    from bci.online.sources import ArraySource

    n_ch = len(MOTOR_CHANNELS)
    rec = Recentering()
    rec.reference_ = sub.reference if condition == "oracle" else np.eye(n_ch)
    rec.n_channels_ = n_ch
    clf = model.named_steps["clf"]
    full = Pipeline([("cov", Covariances(estimator="oas")), ("recenter", rec), *model.steps])
    decoder: Any = full
    if condition not in ("unaligned", "oracle", "supervised-session"):
        guard = condition.removeprefix("recenter-") if condition != "static" else "none"
        decoder = AdaptiveDecoder(
            full,
            ReferenceTracker(guard, alpha=alpha, n_init=n_init, n_classes=len(clf.classes_)),
            update_every=max(1, round(update_s / step_s)),
            freeze_after_warmup=condition == "static",
        )
    sf = sub.sfreq
    data, stamps, trial_t, cues = [], [], [], []
    t0 = 0.0
    for run, events in sub.raw_runs:
        t = t0 + np.arange(run.shape[1]) / sf
        data.append(run)
        stamps.append(t)
        trial_t += [t[s + round(tmax * sf) - 1] for s, _ in events]
        cues += [(float(t[s]), str(label)) for s, label in events]
        t0 = t[-1] + 5.0
    stamps_all = np.concatenate(stamps)
    src = ArraySource(
        np.concatenate(data, axis=1),
        sf,
        list(MOTOR_CHANNELS),
        chunk_size=chunk_size,
        timestamps=stamps_all,
    )
    m = Model(
        pipeline=decoder,
        _fast=decoder if isinstance(decoder, AdaptiveDecoder) else None,
        pipeline_name="ts-lr",
        classes=[str(c) for c in clf.classes_],
        ch_names=list(MOTOR_CHANNELS),
        sfreq=sf,
        band=(8.0, 32.0),
        window_s=round(tmax * sf) / sf,
    )
    session = DecodingSession(
        f"adapt-{sub.subject}", src, m, SessionConfig(step_s=step_s), clock=lambda: 0.0
    )
    if condition == "supervised-session":
        stage = AdaptationStage(
            session.decoder,
            step_s,
            "supervised",
            horizon_s=horizon_s,
            update_s=update_s,
            init_s=init_s,
            refit_every=refit_every,
            min_per_class=min_per_class,
        )
        T, probs = _replay_supervised(session, src, stamps_all, m.classes, cues, stage)
    else:
        T, probs = replay_predictions(session, src, m.classes)
    idx = np.abs(T[None, :] - np.asarray(trial_t)[:, None]).argmin(axis=1)
    return probs[idx]


def _replay_supervised(
    session: Any,
    src: Any,
    stamps: np.ndarray,
    classes: list[str],
    cues: list[tuple[float, str]],
    stage: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Step ``session`` with ``stage`` added, each cue's class sent as a marker at its time."""
    from bci.online.pseudo_online import replay_predictions

    session.add_stage(stage)
    due = iter(cues)
    nxt = next(due, None)

    def before_step() -> None:
        nonlocal nxt
        stage.wait_refit()  # the refit started by the last step, so the replay is deterministic
        now = stamps[min(src.pos, len(stamps) - 1)]
        while nxt is not None and nxt[0] <= now:
            session.add_marker(nxt[1], t=nxt[0], source="app")
            nxt = next(due, None)

    T, probs = replay_predictions(session, src, classes, before_step)
    if stage.error:
        raise RuntimeError(f"supervised replay of {session.id}: {stage.error}")
    return T, probs
