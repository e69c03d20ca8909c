"""Population models: a re-centred TS+LR decoder trained on public data for a headset preset.

``bci models build-population --dataset eegbci --subjects 1-10 --headset openbci-cyton``
takes the preset's channels from each subject's recordings, resamples them to the preset's
rate, filters causally and cuts the live paradigm's window (as a session would), re-centres
every subject's covariances to the identity by its own Riemannian mean (Zanini et al. 2018),
and fits tangent space + logistic regression on all of them. The stored pipeline is

    Covariances(oas) -> Recentering -> TangentSpace -> LogisticRegression

whose ``Recentering.reference_`` starts at the geometric mean of the training subjects'
references: a new user gets decisions from the first full window. Online adaptation (issue 11
item 5, not here) moves that reference towards the user's own covariances without labels:
``pipeline.named_steps["recenter"].partial_fit(C, alpha=...)`` with ``C`` of shape
(n_windows, n_channels, n_channels) from ``pipeline.named_steps["cov"].transform(windows)``.
The card's ``params["population"]`` says what the model was trained on and its
leave-one-subject-out score (each held-out subject re-centred by its own unlabelled trials).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from bci.errors import DataError

__all__ = ["build_population"]

logger = logging.getLogger(__name__)

BAND = (8.0, 30.0)


def _subject_epochs(
    subject: int,
    paradigm: str,
    ch_names: list[str],
    sfreq: float,
    tmin: float,
    tmax: float,
    data_path: str | None,
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """One subject's epochs on ``ch_names`` at ``sfreq`` (each run filtered on its own)."""
    from bci.datasets import epochs_from_raw
    from bci.datasets.eegbci import load_raw
    from bci.datasets.paradigms import get_eegbci_paradigm

    par = get_eegbci_paradigm(paradigm)
    Xs, ys, runs = [], [], []
    for run_numbers, event_map in par.blocks:
        for run in run_numbers:
            raw = load_raw(subject, [run], path=data_path)
            missing = [c for c in ch_names if c not in raw.ch_names]
            if missing:
                raise DataError(
                    f"headset channels {missing} are not in eegbci subject {subject}'s "
                    f"recording (it has {raw.ch_names})"
                )
            raw.pick(ch_names)
            if abs(raw.info["sfreq"] - sfreq) > 1e-6:
                raw.resample(sfreq, verbose="error")
            X, y, _ = epochs_from_raw(raw, event_map, tmin, tmax, BAND, picks=ch_names)
            Xs.append(X)
            ys.append(y)
            runs.append(run)
    return np.concatenate(Xs), np.concatenate(ys), runs


def _fit(covs: list[np.ndarray], ys: list[np.ndarray]) -> tuple[Any, list[np.ndarray]]:
    """TS+LR on every subject's covariances re-centred by its own mean; the references."""
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from bci.decoders.recentering import Recentering

    refs, aligned = [], []
    for C in covs:
        rc = Recentering().fit(C)
        refs.append(rc.reference_)
        aligned.append(rc.transform(C))
    head = make_pipeline(TangentSpace(metric="riemann"), LogisticRegression(max_iter=1000))
    return head.fit(np.concatenate(aligned), np.concatenate(ys)), refs


def build_population(
    subjects: list[int],
    headset: str,
    *,
    paradigm: str = "imagery-left-right",
    data_path: str | None = None,
) -> Any:
    """Fit a re-centred population model for a headset preset.

    Parameters
    ----------
    subjects : list of int
        eegbci subjects (>= 2).
    headset : str
        Headset preset name (its channels and rate are used).
    paradigm : str
        eegbci paradigm and live paradigm of the same name (its ``tmin``/``tmax``).
    data_path : str, optional
        eegbci folder (default ``BCI_DATA_PATH``).

    Returns
    -------
    model : bci.decoders.model.Model
        ``params["population"]`` holds the provenance and the leave-one-subject-out scores.
    """
    from pyriemann.estimation import Covariances
    from pyriemann.geometry.mean import mean_riemann
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import Pipeline

    from bci.decoders.model import Model, data_fingerprint
    from bci.decoders.recentering import Recentering
    from bci.headsets import get_headset
    from bci.paradigms import get_paradigm

    if len(subjects) < 2:
        raise DataError(f"--subjects: a population model needs >= 2 subjects, got {subjects}")
    hs = get_headset(headset)
    live = get_paradigm(paradigm)
    tmin, tmax = float(live.timing.tmin), float(live.timing.tmax)
    ch = [c for c in hs.ch_names]
    cov = Covariances(estimator="oas")
    Xs, covs, ys, runs = [], [], [], []
    for s in subjects:
        X, y, r = _subject_epochs(s, paradigm, ch, hs.sfreq, tmin, tmax, data_path)
        Xs.append(X)
        covs.append(cov.transform(X))
        ys.append(y)
        runs.append(r)
    loso = {}
    for i, s in enumerate(subjects):
        head, _ = _fit(covs[:i] + covs[i + 1 :], ys[:i] + ys[i + 1 :])
        target = Recentering().fit(covs[i]).transform(covs[i])  # its own trials, no labels
        classes = list(head.classes_)
        loso[f"S{s:03d}"] = float(
            roc_auc_score(ys[i] == classes[1], head.predict_proba(target)[:, 1])
        )
    head, refs = _fit(covs, ys)
    rc = Recentering()
    rc.reference_ = np.asarray(mean_riemann(np.array(refs)))
    rc.n_channels_ = len(ch)
    pipeline = Pipeline([("cov", cov), ("recenter", rc), ("ts", head[0]), ("clf", head[1])])
    scores = np.array(list(loso.values()))
    X_all, y_all = np.concatenate(Xs), np.concatenate(ys)
    provenance = {
        "dataset": "eegbci (PhysioNet eegmmidb)",
        "subjects": [f"S{s:03d}" for s in subjects],
        "runs": {f"S{s:03d}": r for s, r in zip(subjects, runs, strict=True)},
        "headset": hs.name,
        "channels": ch,
        "sfreq": hs.sfreq,
        "resampled_from": 160.0,
        "band": list(BAND),
        "window": [tmin, tmax],
        "alignment": "re-centring per subject (Zanini 2018); initial reference = Riemannian "
        "mean of the subjects' references; update it with partial_fit on the user's windows",
        "cv": "leave one subject out, held-out subject re-centred by its own unlabelled trials",
        "cv_per_subject": loso,
        "cv_mean": float(scores.mean()),
        "cv_sd": float(scores.std(ddof=1)),
    }
    return Model(
        pipeline=pipeline,
        pipeline_name="ts-lr",
        classes=[str(c) for c in head.classes_],
        ch_names=ch,
        sfreq=float(hs.sfreq),
        band=BAND,
        window_s=X_all.shape[2] / float(hs.sfreq),
        params={"recentering": True, "population": provenance},
        cv_score=float(scores.mean()),
        cv_metric="roc_auc",
        n_trials=len(y_all),
        fingerprint=data_fingerprint(X_all, y_all),
        paradigm=paradigm,
    )
