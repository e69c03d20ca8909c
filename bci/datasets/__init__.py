"""Recordings and public datasets -> continuous data and epochs (X, y, metadata)."""

from bci.datasets.epochs import (
    MOABB_BAND,
    cut_epochs,
    epochs_from_raw,
    find_events,
    load_eegbci_epochs,
    make_epochs,
)
from bci.datasets.paradigms import DatasetParadigm, eegbci_paradigm_names, get_eegbci_paradigm

__all__ = [
    "MOABB_BAND",
    "DatasetParadigm",
    "cut_epochs",
    "eegbci_paradigm_names",
    "epochs_from_raw",
    "find_events",
    "get_eegbci_paradigm",
    "load_eegbci_epochs",
    "make_epochs",
]
