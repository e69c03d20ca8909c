"""Offline evaluation: MOABB's within-session protocol, reference scores, tables and figures."""

from bci.evaluation.protocol import PipelineScore, cross_validate, evaluate, make_folds, score
from bci.evaluation.reference import load_moabb_table, moabb_reference, reference_path
from bci.evaluation.report import format_table, write_results

__all__ = [
    "PipelineScore",
    "cross_validate",
    "evaluate",
    "format_table",
    "load_moabb_table",
    "make_folds",
    "moabb_reference",
    "reference_path",
    "score",
    "write_results",
]
