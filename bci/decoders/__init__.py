"""Decoders: named scikit-learn pipelines (pyRiemann inside), re-centring, input checks.

>>> from bci.decoders import make_pipeline
>>> clf = make_pipeline("ts-lr").fit(X, y)        # X: (n_epochs, n_channels, n_times)
>>> clf.predict_proba(X_new)                       # (n_epochs, n_classes)
"""

from bci.decoders.filterbank import FBCSP_BANDS, FilterBankTangentSpace
from bci.decoders.pipelines import (
    COVARIANCE_ESTIMATORS,
    DEFAULT_PIPELINE,
    PipelineSpec,
    get_pipeline,
    make_pipeline,
    pipeline_names,
    register_pipeline,
)
from bci.decoders.recentering import Recentering
from bci.decoders.selection import META_PIPELINES, NestedSelection, SoftVote
from bci.decoders.validation import check_trials_per_fold, validate_epochs, validate_labels

__all__ = [
    "COVARIANCE_ESTIMATORS",
    "DEFAULT_PIPELINE",
    "FBCSP_BANDS",
    "META_PIPELINES",
    "FilterBankTangentSpace",
    "NestedSelection",
    "PipelineSpec",
    "Recentering",
    "SoftVote",
    "check_trials_per_fold",
    "get_pipeline",
    "make_pipeline",
    "pipeline_names",
    "register_pipeline",
    "validate_epochs",
    "validate_labels",
]
