"""PhysioNet EEG Motor Movement/Imagery dataset (eegmmidb), through MNE's EEGBCI loader.

The data folder comes from ``BCI_DATA_PATH`` (settings ``data_path``) or MNE's own default
(``MNE_DATASETS_EEGBCI_PATH``). In a folder with MNE's layout the local files are used; on a
machine with internet the same call downloads any of the 109 subjects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bci.errors import DataError

__all__ = ["RUNS", "data_path", "load_raw"]

#: Run numbers per run type (Schalk et al. 2004). T0 = rest within runs; in imagery/execution
#: runs T1/T2 are left/right fist (lr runs) or both fists/both feet (hf runs).
RUNS: dict[str, list[int]] = {
    "baseline-eyes-open": [1],
    "baseline-eyes-closed": [2],
    "executed-left-right": [3, 7, 11],
    "imagined-left-right": [4, 8, 12],
    "executed-hands-feet": [5, 9, 13],
    "imagined-hands-feet": [6, 10, 14],
}


def data_path(path: str | Path | None = None) -> Path | None:
    """The eegbci data folder: argument, then the ``data_path`` setting, then MNE's (None).

    The setting is ``BCI_DATA_PATH`` (:class:`bci.config.Settings`).
    """
    if path is not None:
        return Path(path)
    from bci.config import get_settings

    return get_settings().data_path


def load_raw(subject: int, runs: list[int], path: str | Path | None = None) -> Any:
    """Load and concatenate runs of one subject as an ``mne.io.Raw``.

    Channel names are standardised to 10-05 labels (``C3``, ``Cz``...), the 10-05 montage is
    set, annotations keep ``T0``/``T1``/``T2``. Data are in volts (MNE's convention).

    Raises
    ------
    DataError
        The subject or a run is out of range, or the files cannot be found or read.
    """
    import mne

    from bci.headsets import standard_montage

    if not 1 <= int(subject) <= 109:
        raise DataError(f"eegbci subject must be in 1..109, got {subject}")
    bad = [r for r in runs if not 1 <= int(r) <= 14]
    if bad or not runs:
        raise DataError(f"eegbci runs must be a non-empty list of 1..14, got {runs}")
    folder = data_path(path)
    try:
        files = mne.datasets.eegbci.load_data(
            int(subject),
            [int(r) for r in runs],
            path=None if folder is None else str(folder),
            update_path=False,
            verbose="error",
        )
        raws = [mne.io.read_raw_edf(f, preload=True, verbose="error") for f in files]
    except Exception as exc:  # network or file errors from MNE/pooch
        where = folder if folder is not None else "MNE's default eegbci folder"
        raise DataError(
            f"Cannot load eegbci subject {subject} runs {runs} from {where}: {exc}. "
            "Set BCI_DATA_PATH to a folder with MNE's eegbci layout."
        ) from exc
    raw = mne.concatenate_raws(raws) if len(raws) > 1 else raws[0]
    mne.datasets.eegbci.standardize(raw)
    raw.set_montage(standard_montage(), on_missing="ignore")
    return raw
