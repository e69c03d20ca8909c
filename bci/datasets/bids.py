"""Export a recording to EEG-BIDS with mne-bids: EEG, channels, events from markers, and our
predictions under ``derivatives/bci``."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from bci.errors import DataError
from bci.headsets import standardize_labels
from bci.recordings import read_recording

__all__ = ["export_bids"]

logger = logging.getLogger(__name__)

_LABEL = re.compile(r"^[A-Za-z0-9]+$")


def _check_label(name: str, value: str) -> str:
    if not _LABEL.match(value):
        raise DataError(f"BIDS {name} must be alphanumeric (no '-', '_' or spaces), got {value!r}")
    return value


def export_bids(
    path: str | Path,
    root: str | Path,
    subject: str = "01",
    session: str | None = None,
    task: str = "bci",
    run: int | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write one recording as EEG-BIDS under ``root``.

    The EEG goes to BrainVision (lossless float32), markers become ``events.tsv`` (trial_type
    = marker value), channel names, types and units go to ``channels.tsv``. Prediction
    streams of our own recordings are written to
    ``derivatives/bci/sub-<subject>/.../*_predictions.tsv`` (onset on the EEG's time axis).

    Returns
    -------
    info : dict
        The BIDS path of the EEG file and of the predictions file (or None).
    """
    import mne
    from mne_bids import BIDSPath, write_raw_bids

    _check_label("subject", subject)
    _check_label("task", task)
    if session is not None:
        _check_label("session", session)
    rec = read_recording(path)  # in µV whatever unit the file declares (see bci.units)
    raw = rec.to_raw()  # volts, as MNE and mne-bids expect; channels.tsv then says µV
    labels = standardize_labels(raw.ch_names)
    if labels != raw.ch_names:  # EDF-style "C3.." -> "C3"
        raw.rename_channels(dict(zip(raw.ch_names, labels, strict=True)))
    raw.info["line_freq"] = raw.info.get("line_freq") or 50.0
    bids_path = BIDSPath(
        subject=subject, session=session, task=task, run=run, root=Path(root), datatype="eeg"
    )
    try:
        with mne.utils.use_log_level("error"):
            write_raw_bids(
                raw,
                bids_path,
                format="BrainVision",
                allow_preload=True,
                overwrite=overwrite,
                verbose=False,
            )
    except FileExistsError as exc:
        raise DataError(f"{exc}; pass --overwrite to replace it") from None
    except (ValueError, RuntimeError) as exc:
        raise DataError(f"Cannot write BIDS for {path}: {exc}") from None
    out: dict[str, Any] = {"eeg": str(bids_path.fpath), "predictions": None}
    preds = [s for s in rec.extra_streams if s.type.lower() == "predictions"]
    if preds:
        stream = preds[0]
        deriv = Path(root) / "derivatives" / "bci" / f"sub-{subject}"
        if session is not None:
            deriv = deriv / f"ses-{session}"
        deriv = deriv / "eeg"
        deriv.mkdir(parents=True, exist_ok=True)
        stem = bids_path.copy().update(suffix=None, extension=None, datatype=None).basename
        target = deriv / f"{stem}_predictions.tsv"
        t0 = float(rec.timestamps[0])
        lines = ["onset\tlabel\tmodel_id\tprobabilities"]
        for t, row in zip(np.asarray(stream.timestamps), stream.data, strict=True):
            try:
                msg = json.loads(row[0])
            except (ValueError, TypeError):
                continue
            lines.append(
                f"{float(t) - t0:.6f}\t{msg.get('label', '')}\t{msg.get('model_id', '')}\t"
                f"{json.dumps(msg.get('probabilities', {}), sort_keys=True)}"
            )
        tmp = target.with_suffix(".tsv.tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(target)
        desc = Path(root) / "derivatives" / "bci" / "dataset_description.json"
        if not desc.exists():
            desc.write_text(
                json.dumps(
                    {
                        "Name": "bci decoder predictions",
                        "BIDSVersion": "1.9.0",
                        "DatasetType": "derivative",
                        "GeneratedBy": [{"Name": "bci", "Description": "online decoder decisions"}],
                    },
                    indent=2,
                )
            )
        out["predictions"] = str(target)
    logger.info("exported %s to %s", path, out["eeg"])
    return out
