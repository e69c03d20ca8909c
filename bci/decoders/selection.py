"""Pipelines made of the registered cheap ones: nested selection (``auto``) and a soft vote.

Both answer "which pipeline for this person?" *before* the test data is seen, so a
within-session score of them is not picked after the fact:

``auto``
    On the training trials it is given, an inner stratified k-fold (``inner_folds``, seeded)
    scores every candidate by ROC-AUC (accuracy for more than two classes); the best mean
    wins (ties: the first in ``candidates``) and is refitted on all the training trials.
    Under an outer cross-validation this is nested selection: the outer test fold never
    reaches ``fit``.
``ensemble``
    Every candidate fitted on all training trials; probabilities averaged (soft vote).

Candidates default to :data:`CANDIDATES` (ts-lr, ts-svm, mdm, fgmdm, csp-lda): the registered
single-band pipelines, filter banks left out for their cost (18,720 features on 36 trials).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from bci.decoders.pipelines import PipelineSpec, get_pipeline, make_pipeline, register_pipeline

__all__ = ["CANDIDATES", "META_PIPELINES", "NestedSelection", "SoftVote", "score"]

CANDIDATES = ("ts-lr", "ts-svm", "mdm", "fgmdm", "csp-lda")
#: Pipelines built from the others at fit time: no fast compiled path.
META_PIPELINES = ("auto", "ensemble")


def _candidate(name: str, cov_estimator: str) -> Any:
    spec = get_pipeline(name)
    params = {"cov_estimator": cov_estimator} if "cov_estimator" in spec.parameters() else {}
    return make_pipeline(spec, **params)


def score(metric: str, y_true: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> float:
    """ROC-AUC of ``classes[1]`` (2 classes) or accuracy of the most probable class.

    The one scorer of bci: the inner selection here and every evaluation protocol
    (:mod:`bci.evaluation.protocol` re-exports it).

    Parameters
    ----------
    metric : {"roc_auc", "accuracy"}
    y_true : ndarray of str, shape (n_epochs,)
    proba : ndarray, shape (n_epochs, n_classes)
        Columns in the order of ``classes``.
    """
    cls = np.asarray(classes)
    if metric == "roc_auc":
        from sklearn.metrics import roc_auc_score

        positive = y_true == cls[1]
        if positive.all() or not positive.any():
            return float("nan")
        return float(roc_auc_score(positive, proba[:, 1]))
    if metric == "accuracy":
        return float(np.mean(cls[np.argmax(proba, axis=1)] == y_true))
    raise ValueError(f"metric must be 'roc_auc' or 'accuracy', got {metric!r}")


def _columns(est: Any, classes: np.ndarray) -> list[int]:
    return [list(est.classes_).index(c) for c in classes]


class NestedSelection(ClassifierMixin, BaseEstimator):
    """Pick one candidate pipeline by inner cross-validation on the training data, refit it.

    Parameters
    ----------
    candidates : tuple of str
        Registered pipeline names (single-band, no ``sfreq`` needed).
    inner_folds : int
        Stratified folds of the inner cross-validation.
    seed : int
        Shuffling seed of the inner folds.
    cov_estimator : str
        Covariance estimator given to every candidate that takes one.

    Attributes
    ----------
    classes_ : ndarray of str
    selected_ : str
        The winning candidate.
    inner_scores_ : dict of str to float
        Mean inner score per candidate.
    inner_folds_ : list of (ndarray, ndarray)
        The inner (train, test) indices, into the ``X`` given to ``fit``.
    estimator_ : sklearn.pipeline.Pipeline
        The winner refitted on all of ``X``.
    """

    def __init__(
        self,
        candidates: tuple[str, ...] = CANDIDATES,
        inner_folds: int = 3,
        seed: int = 0,
        cov_estimator: str = "oas",
    ) -> None:
        self.candidates = candidates
        self.inner_folds = inner_folds
        self.seed = seed
        self.cov_estimator = cov_estimator

    def fit(self, X: np.ndarray, y: np.ndarray) -> NestedSelection:
        """Score the candidates by inner CV on ``(X, y)``, refit the best on all of it.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
        y : ndarray, shape (n_epochs,)
        """
        from sklearn.model_selection import StratifiedKFold

        y = np.asarray(y)
        self.classes_ = np.unique(y)
        metric = "roc_auc" if len(self.classes_) == 2 else "accuracy"
        cv = StratifiedKFold(int(self.inner_folds), shuffle=True, random_state=int(self.seed))
        self.inner_folds_ = list(cv.split(np.zeros(len(y)), y))
        self.inner_scores_ = {}
        for name in self.candidates:
            proto = _candidate(name, self.cov_estimator)
            fold_scores = []
            for tr, te in self.inner_folds_:
                est = clone(proto).fit(X[tr], y[tr])
                proba = est.predict_proba(X[te])[:, _columns(est, self.classes_)]
                fold_scores.append(score(metric, y[te], proba, self.classes_))
            self.inner_scores_[name] = float(np.nanmean(fold_scores))
        self.selected_ = max(self.candidates, key=lambda n: self.inner_scores_[n])
        self.estimator_ = _candidate(self.selected_, self.cov_estimator).fit(X, y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of the selected pipeline, columns in the order of ``classes_``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)[:, _columns(self.estimator_, self.classes_)]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class SoftVote(ClassifierMixin, BaseEstimator):
    """Mean of the candidates' probabilities, each fitted on all the training trials.

    Parameters
    ----------
    candidates : tuple of str
    cov_estimator : str

    Attributes
    ----------
    classes_ : ndarray of str
    estimators_ : list of sklearn.pipeline.Pipeline
    """

    def __init__(
        self, candidates: tuple[str, ...] = CANDIDATES, cov_estimator: str = "oas"
    ) -> None:
        self.candidates = candidates
        self.cov_estimator = cov_estimator

    def fit(self, X: np.ndarray, y: np.ndarray) -> SoftVote:
        """Fit every candidate on ``(X, y)``."""
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        self.estimators_ = [_candidate(n, self.cov_estimator).fit(X, y) for n in self.candidates]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Mean probability over the candidates, columns in the order of ``classes_``."""
        check_is_fitted(self, "estimators_")
        return np.mean(
            [e.predict_proba(X)[:, _columns(e, self.classes_)] for e in self.estimators_], axis=0
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _auto(cov_estimator: str = "oas", inner_folds: int = 3, seed: int = 0) -> Pipeline:
    select = NestedSelection(inner_folds=inner_folds, seed=seed, cov_estimator=cov_estimator)
    return Pipeline([("select", select)])


def _ensemble(cov_estimator: str = "oas") -> Pipeline:
    return Pipeline([("vote", SoftVote(cov_estimator=cov_estimator))])


register_pipeline(
    PipelineSpec(
        "auto",
        "Nested selection among ts-lr, ts-svm, mdm, fgmdm, csp-lda by inner 3-fold ROC-AUC",
        _auto,
    )
)
register_pipeline(
    PipelineSpec(
        "ensemble", "Soft vote (mean probability) of ts-lr, ts-svm, mdm, fgmdm, csp-lda", _ensemble
    )
)
