"""Pseudo-online evaluation: a recording runs straight through the online engine.

For each cross-validation fold the pipeline is fitted on the training trials (offline epochs,
cut from the causally filtered recording), then the whole recording is fed chunk by chunk
through a :class:`DecodingSession` with that model, exactly as a live stream would be. Each
test trial is scored with the decision whose window ends closest to ``cue + tmax``. The
offline score of the same pipeline on the same folds and windows is computed beside it; the
two must agree, which is what makes an offline number a promise about the online one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bci.decoders.model import Model
from bci.errors import DataError
from bci.online.messages import Message, Prediction
from bci.online.session import DecodingSession, SessionConfig
from bci.online.sources import ArraySource

__all__ = ["PseudoOnlineResult", "pseudo_online", "replay_predictions"]

logger = logging.getLogger(__name__)


@dataclass
class PseudoOnlineResult:
    pipeline: str
    metric: str
    online: list[float] = field(default_factory=list)
    offline: list[float] = field(default_factory=list)
    n_decisions: int = 0
    max_offset_samples: int = 0

    @property
    def online_mean(self) -> float:
        return float(np.mean(self.online))

    @property
    def offline_mean(self) -> float:
        return float(np.mean(self.offline))

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "metric": self.metric,
            "online_mean": self.online_mean,
            "online_std": float(np.std(self.online)),
            "offline_mean": self.offline_mean,
            "offline_std": float(np.std(self.offline)),
            "online_folds": self.online,
            "offline_folds": self.offline,
            "difference_points": 100 * (self.online_mean - self.offline_mean),
            "n_decisions": self.n_decisions,
            "max_window_offset_samples": self.max_offset_samples,
        }


def _score(metric: str, y_true: np.ndarray, proba: np.ndarray, classes: list[str]) -> float:
    from sklearn.metrics import accuracy_score, roc_auc_score

    if metric == "roc_auc":
        return float(roc_auc_score(y_true == classes[1], proba[:, 1]))
    return float(accuracy_score(y_true, np.asarray(classes)[proba.argmax(axis=1)]))


def replay_predictions(
    session: DecodingSession,
    source: ArraySource,
    classes: list[str],
    before_step: Callable[[], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Step ``session`` until ``source`` is exhausted; every decision's time and probabilities.

    ``before_step`` is called before each step (e.g. to send the markers that are due).

    Returns
    -------
    t : ndarray, shape (n_decisions,)
        LSL time of each decision's last window sample.
    proba : ndarray, shape (n_decisions, n_classes)
        Probabilities in the order of ``classes``.
    """
    t_end: list[float] = []
    probs: list[list[float]] = []

    def collect(msg: Message) -> None:
        if isinstance(msg, Prediction):
            t_end.append(msg.t)
            probs.append([msg.probabilities[c] for c in classes])

    unsubscribe = session.subscribe(collect)
    while not source.done:
        if before_step is not None:
            before_step()
        session.step()
    unsubscribe()
    return np.asarray(t_end), np.asarray(probs).reshape(len(t_end), len(classes))


def pseudo_online(
    data: np.ndarray,
    sfreq: float,
    ch_names: list[str],
    events: list[tuple[int, str]],
    *,
    pipeline: str = "ts-lr",
    tmin: float = 0.5,
    tmax: float = 2.5,
    folds: int = 5,
    seed: int = 42,
    step_s: float = 1 / 16,
    chunk_size: int = 16,
) -> PseudoOnlineResult:
    """Score ``pipeline`` online (through the engine) and offline on identical folds.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        The continuous recording (unfiltered, µV).
    events : list of (int, str)
        (sample index of the cue, class label).
    """
    from sklearn.model_selection import StratifiedKFold

    from bci.datasets import make_epochs
    from bci.decoders import get_pipeline, make_pipeline

    spec = get_pipeline(pipeline)
    band = spec.band
    X, y = make_epochs(data, sfreq, events, tmin, tmax, band)
    y = np.asarray(y)
    n_t = X.shape[2]
    kept = [
        (s, lab)
        for s, lab in events
        if s + round(tmin * sfreq) >= 0 and s + round(tmin * sfreq) + n_t <= data.shape[1]
    ]
    if len(kept) != len(y):
        raise DataError("events and epochs disagree; some trials fall outside the recording")
    # the decision for a trial is the window that ends where its epoch ends
    ends = np.array([s + round(tmin * sfreq) + n_t for s, _ in kept])
    classes = sorted(set(y.tolist()))
    metric = "roc_auc" if len(classes) == 2 else "accuracy"
    res = PseudoOnlineResult(pipeline=spec.name, metric=metric)
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in cv.split(X, y):
        est = make_pipeline(pipeline, sfreq=sfreq).fit(X[train], y[train])
        offline = est.predict_proba(X[test])
        res.offline.append(_score(metric, y[test], offline, list(est.classes_)))
        model = Model(
            pipeline=est,
            pipeline_name=spec.name,
            classes=[str(c) for c in est.classes_],
            ch_names=list(ch_names),
            sfreq=sfreq,
            band=band,
            window_s=n_t / sfreq,
        )
        src = ArraySource(data, sfreq, list(ch_names), chunk_size=chunk_size)
        session = DecodingSession(
            "pseudo-online",
            src,
            model,
            SessionConfig(
                window_s=n_t / sfreq, step_s=step_s, band=band, buffer_s=max(10.0, 3 * n_t / sfreq)
            ),
            clock=lambda: 0.0,
        )
        t_end, P = replay_predictions(session, src, model.classes)
        # the session stamps a decision with the time of the window's last sample
        dec_end = np.round(t_end * sfreq).astype(int) + 1
        idx = np.abs(dec_end[None, :] - ends[test][:, None]).argmin(axis=1)
        res.max_offset_samples = max(
            res.max_offset_samples, int(np.abs(dec_end[idx] - ends[test]).max())
        )
        res.online.append(_score(metric, y[test], P[idx], model.classes))
        res.n_decisions += len(t_end)
        logger.info("fold: offline %.3f online %.3f", res.offline[-1], res.online[-1])
    return res
