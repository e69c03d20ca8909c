"""A fitted decoder with its model card: what it was trained on and how well it did."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from bci.errors import ModelMismatchError

__all__ = ["Model", "data_fingerprint", "library_versions", "new_model_id", "train_model"]

logger = logging.getLogger(__name__)


def new_model_id() -> str:
    return "m-" + uuid.uuid4().hex[:12]


def data_fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the training epochs and labels (first 16 hex digits)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update("\x1f".join(map(str, y)).encode())
    return h.hexdigest()[:16]


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("bci", "numpy", "scipy", "scikit-learn", "pyriemann", "mne"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


@dataclass
class Model:
    """A fitted pipeline plus everything needed to use it safely online.

    Attributes
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted on epochs (n_epochs, n_channels, n_times) band-passed in ``band``.
    classes : list of str
        Class labels in the order of ``predict_proba`` columns.
    ch_names : list of str
        Channels in the order the pipeline expects.
    sfreq : float
        Sampling rate of the training data.
    band : (float, float)
        Causal band-pass applied before windowing.
    window_s : float
        Window length the pipeline was trained on.
    source : dict or None
        Where the training data came from when it was a recording (``bci train``): file
        name, ``sha256``, format, ``events`` (marker -> class), declared ``units``, ``tmin``,
        ``tmax``; None for a live calibration.
    """

    pipeline: Any
    pipeline_name: str
    classes: list[str]
    ch_names: list[str]
    sfreq: float
    band: tuple[float, float]
    window_s: float
    model_id: str = field(default_factory=new_model_id)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    params: dict[str, Any] = field(default_factory=dict)
    cv_score: float | None = None
    cv_metric: str | None = None
    n_trials: int = 0
    fingerprint: str = ""
    paradigm: str | None = None
    versions: dict[str, str] = field(default_factory=library_versions)
    source: dict[str, Any] | None = None
    _fast: Any = field(default=None, repr=False)

    @property
    def n_times(self) -> int:
        return round(self.window_s * self.sfreq)

    def _decoder(self) -> Any:
        if self._fast is None:
            try:
                from bci.decoders.fast import fast_or_slow

                self._fast = fast_or_slow(self.pipeline)
            except ImportError:
                self._fast = self.pipeline
        return self._fast

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : ndarray, shape (n_windows, n_channels, n_times)

        Returns
        -------
        proba : ndarray, shape (n_windows, n_classes)
        """
        return np.asarray(self._decoder().predict_proba(X))

    def check_compatible(
        self, ch_names: list[str], sfreq: float, classes: list[str] | None = None
    ) -> None:
        """Refuse a session whose stream does not match this model."""
        problems = []
        if list(ch_names) != list(self.ch_names):
            problems.append(f"channels {list(ch_names)} (model: {self.ch_names})")
        if abs(float(sfreq) - self.sfreq) > 1e-6:
            problems.append(f"sampling rate {sfreq:g} Hz (model: {self.sfreq:g} Hz)")
        if classes is not None and sorted(classes) != sorted(self.classes):
            problems.append(f"classes {sorted(classes)} (model: {sorted(self.classes)})")
        if problems:
            raise ModelMismatchError(
                f"Model {self.model_id} does not match the session: " + "; ".join(problems)
            )

    def card(self) -> dict[str, Any]:
        """The model card as JSON-ready data."""
        return {
            "id": self.model_id,
            "created": self.created,
            "pipeline": self.pipeline_name,
            "params": self.params,
            "classes": list(self.classes),
            "ch_names": list(self.ch_names),
            "sfreq": self.sfreq,
            "band": list(self.band),
            "window_s": self.window_s,
            "cv_score": self.cv_score,
            "cv_metric": self.cv_metric,
            "n_trials": self.n_trials,
            "fingerprint": self.fingerprint,
            "paradigm": self.paradigm,
            "versions": self.versions,
            "source": self.source,
        }


def train_model(
    X: np.ndarray,
    y: np.ndarray,
    *,
    pipeline: str = "ts-lr",
    ch_names: list[str],
    sfreq: float,
    band: tuple[float, float] | None = None,
    paradigm: str | None = None,
    cv: int = 5,
    seed: int = 42,
    params: dict[str, Any] | None = None,
) -> Model:
    """Cross-validate then fit a named pipeline on epochs and wrap it as a :class:`Model`.

    Parameters
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Epochs already band-passed (causally) in ``band``.
    y : ndarray, shape (n_epochs,)
        String labels.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from bci.decoders import get_pipeline, make_pipeline, validate_epochs

    spec = get_pipeline(pipeline)
    X, y = validate_epochs(X, y)
    params = dict(params or {})
    classes, counts = np.unique(y, return_counts=True)
    score = None
    metric = None
    n_folds = int(min(cv, counts.min()))
    if n_folds >= 2:
        metric = "roc_auc" if len(classes) == 2 else "accuracy"
        folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        scores = cross_val_score(
            make_pipeline(pipeline, sfreq=sfreq, **params), X, y, cv=folds, scoring=metric
        )
        score = float(np.mean(scores))
        # Accuracy is what a user reads most easily; report it beside AUC.
        if metric == "roc_auc":
            acc = cross_val_score(make_pipeline(pipeline, sfreq=sfreq, **params), X, y, cv=folds)
            params_card = {"cv_accuracy": float(np.mean(acc))}
        else:
            params_card = {"cv_accuracy": score}
    else:
        params_card = {}
    est = make_pipeline(pipeline, sfreq=sfreq, **params).fit(X, y)
    return Model(
        pipeline=est,
        pipeline_name=spec.name,
        classes=[str(c) for c in est.classes_],
        ch_names=list(ch_names),
        sfreq=float(sfreq),
        band=tuple(band if band is not None else spec.band),  # type: ignore[arg-type]
        window_s=X.shape[2] / float(sfreq),
        params={**params, **params_card},
        cv_score=score,
        cv_metric=metric,
        n_trials=int(X.shape[0]),
        fingerprint=data_fingerprint(X, y),
        paradigm=paradigm,
    )
