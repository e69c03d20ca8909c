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

ENGINE_CONDITIONS = ("unaligned", "static", *(f"recenter-{g}" for g in GUARDS), "oracle")


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
) -> np.ndarray:
    """Replay the subject's runs through :class:`~bci.online.session.DecodingSession`.

    The runs are fed in time order from their first sample (an :class:`ArraySource`, a 5 s
    timestamp gap between runs restarts the filter and the windows as a new run would);
    the model decides every ``step_s`` and, for the adaptive conditions, an
    :class:`~bci.decoders.adaptation.AdaptiveDecoder` updates its reference from one
    decided window every ``update_s``. Each trial gets the decision whose window ends
    closest to ``cue + tmax``.

    Returns
    -------
    proba : ndarray, shape (n_trials, n_classes)
        In the order of ``sub.y``.
    """
    from pyriemann.estimation import Covariances
    from sklearn.pipeline import Pipeline

    from bci.decoders.adaptation import AdaptiveDecoder
    from bci.decoders.model import Model
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
    if condition not in ("unaligned", "oracle"):
        guard = condition.removeprefix("recenter-") if condition != "static" else "none"
        decoder = AdaptiveDecoder(
            full,
            ReferenceTracker(guard, alpha=alpha, n_init=n_init, n_classes=len(clf.classes_)),
            update_every=max(1, round(update_s / step_s)),
            freeze_after_warmup=condition == "static",
        )
    sf = sub.sfreq
    data, stamps, trial_t = [], [], []
    t0 = 0.0
    for run, events in sub.raw_runs:
        t = t0 + np.arange(run.shape[1]) / sf
        data.append(run)
        stamps.append(t)
        trial_t += [t[s + round(tmax * sf) - 1] for s, _ in events]
        t0 = t[-1] + 5.0
    src = ArraySource(
        np.concatenate(data, axis=1),
        sf,
        list(MOTOR_CHANNELS),
        chunk_size=chunk_size,
        timestamps=np.concatenate(stamps),
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
    T, probs = replay_predictions(session, src, m.classes)
    idx = np.abs(T[None, :] - np.asarray(trial_t)[:, None]).argmin(axis=1)
    return probs[idx]
