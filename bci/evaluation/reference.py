"""Published MOABB within-session scores, to print beside ours.

The MOABB benchmark (Chevallier et al. 2024, arXiv:2404.15319) ships its results as CSV tables
``moabb_within_session_mi_<task>.csv``: one row per pipeline (``` `TS+LR`_ ```), one column per
dataset (``:class:`PhysionetMI```), cells ``mean±sd`` over subjects in percent (ROC-AUC for
two classes, accuracy for all classes). The folder is the ``reference_path`` setting
(``BCI_REFERENCE_PATH``, :class:`bci.config.Settings`).
"""

from __future__ import annotations

import csv
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["DATASET_NAMES", "load_moabb_table", "moabb_reference", "reference_path"]

logger = logging.getLogger(__name__)

#: Our dataset names -> MOABB dataset class names.
DATASET_NAMES = {"eegbci": "PhysionetMI"}

_CELL = re.compile(r"^\s*([0-9.]+)\s*±\s*([0-9.]+)\s*$")


def reference_path() -> Path | None:
    """The folder of MOABB result tables (setting ``reference_path``), or None if unset/absent."""
    from bci.config import get_settings

    p = get_settings().reference_path
    if p is None:
        return None
    if not p.is_dir():
        logger.warning("BCI_REFERENCE_PATH=%s is not a folder; no MOABB reference", p)
        return None
    return p


def _clean(name: str) -> str:
    """``` `TS+LR`_ ``` -> ``TS+LR``; ``:class:`PhysionetMI``` -> ``PhysionetMI``."""
    name = name.strip()
    name = re.sub(r"^:class:", "", name)
    return name.strip("`_ ")


@lru_cache(maxsize=16)
def load_moabb_table(path: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """Parse one MOABB results CSV.

    Returns
    -------
    table : dict
        ``table[pipeline][dataset] = (mean, sd)`` as fractions (0-1).
    """
    out: dict[str, dict[str, tuple[float, float]]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return out
    datasets = [_clean(c) for c in rows[0][1:]]
    for row in rows[1:]:
        if not row:
            continue
        cells: dict[str, tuple[float, float]] = {}
        for ds, cell in zip(datasets, row[1:], strict=False):
            m = _CELL.match(cell)
            if m:
                cells[ds] = (float(m.group(1)) / 100.0, float(m.group(2)) / 100.0)
        out[_clean(row[0])] = cells
    return out


def moabb_reference(
    pipeline: str, paradigm: str, dataset: str = "eegbci", path: str | Path | None = None
) -> dict[str, Any] | None:
    """MOABB's published score for the pipeline nearest to ours, or None.

    Parameters
    ----------
    pipeline : str
        Our pipeline name (its ``PipelineSpec.moabb_name`` picks the MOABB row).
    paradigm : str
        An eegbci paradigm name (its ``moabb`` table, e.g. ``left_vs_right_hand``).
    dataset : str
        Our dataset name (``eegbci`` -> ``PhysionetMI``).
    path : str or Path, optional
        Folder of the CSV tables (default :func:`reference_path`).

    Returns
    -------
    ref : dict or None
        ``pipeline`` (MOABB's name), ``dataset``, ``table``, ``metric``, ``mean``, ``std``
        (fractions, over MOABB's subjects), ``note``.
    """
    from bci.datasets.paradigms import get_eegbci_paradigm
    from bci.decoders import get_pipeline
    from bci.errors import UnknownNameError

    folder = Path(path) if path is not None else reference_path()
    moabb_ds = DATASET_NAMES.get(dataset)
    if folder is None or moabb_ds is None:
        return None
    try:
        par = get_eegbci_paradigm(paradigm)
        spec = get_pipeline(pipeline)
    except UnknownNameError:
        return None
    if par.moabb is None or spec.moabb_name is None:
        return None
    f = folder / f"moabb_within_session_mi_{par.moabb}.csv"
    if not f.is_file():
        logger.info("No MOABB table %s", f)
        return None
    cell = load_moabb_table(f).get(spec.moabb_name, {}).get(moabb_ds)
    if cell is None:
        return None
    notes = [par.moabb_note] if par.moabb_note else []
    if spec.name.startswith("fbts"):
        notes.append("MOABB's filter bank is FBCSP + SVM, ours a tangent space per band")
    return {
        "pipeline": spec.moabb_name,
        "dataset": moabb_ds,
        "table": f.name,
        "metric": "roc_auc" if par.moabb != "all_classes" else "accuracy",
        "mean": cell[0],
        "std": cell[1],
        "note": "; ".join(notes),
    }
