"""Offline analyses of recordings and public datasets (mu suppression / ERD reports)."""

from bci.analysis.erd import EEGBCI_RUN_TYPES, eegbci_report, read_raw_any, recording_report
from bci.analysis.report import ErdEntry, ErdOptions, ErdReport, ErdsMap, write_outputs

__all__ = [
    "EEGBCI_RUN_TYPES",
    "ErdEntry",
    "ErdOptions",
    "ErdReport",
    "ErdsMap",
    "eegbci_report",
    "read_raw_any",
    "recording_report",
    "write_outputs",
]
