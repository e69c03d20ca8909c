"""Models from recordings (``bci train``, ``POST /models/train``): read, epoch, fit, card.

A recording in any format ``bci replay`` reads (XDF, FIF, EDF/BDF, GDF, BrainVision, OpenBCI
and muselsl CSV) is read in microvolts (each channel's declared unit converted), its labels
standardised (``C3..`` -> ``C3``, as the live inlet does), filtered causally with the online
filter, cut at its own markers, cross-validated and fitted. The stored ``.bcimodel`` card holds
the file's SHA-256, the events, channels, units, rate and CV score, so a live stream with the
same channels and rate (the same headset, or the same file replayed) can activate it.

Examples
--------
.. code-block:: bash

    bci train S001R04.edf --events T1=left,T2=right --pipeline ts-lr --tmin 0.5 --tmax 2.5
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path

from bci.decoders.model import Model, train_model
from bci.errors import DataError

__all__ = ["file_sha256", "train_from_recording"]

logger = logging.getLogger(__name__)


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def train_from_recording(
    path: str | Path,
    events: Mapping[str, str],
    *,
    pipeline: str = "ts-lr",
    tmin: float = 0.5,
    tmax: float = 2.5,
    band: tuple[float, float] | None = None,
    cv: int = 5,
    seed: int = 42,
) -> Model:
    """Train a decoder on the trials of one recording.

    Parameters
    ----------
    path : path
        The recording (any format :func:`~bci.recordings.read_recording` reads).
    events : mapping of str to str
        Marker value -> class label, e.g. ``{"T1": "left", "T2": "right"}``; at least two
        classes.
    pipeline : str
        Registered pipeline name.
    tmin, tmax : float
        Trial window relative to each marker, in seconds: ``[t + tmin, t + tmax)``. Its
        length is the live window of the model.
    band : (float, float) or None
        Causal band-pass in Hz; None takes the pipeline's own band.
    cv, seed : int
        Folds and seed of the stratified cross-validation reported in the card.

    Returns
    -------
    model : Model
        Fitted; its card's ``source`` names the file, its hash, the events and the units.

    Raises
    ------
    DataError
        Unreadable file, fewer than two classes, or no trial of a class in the file.
    """
    from bci.datasets.epochs import epochs_from_raw
    from bci.decoders import get_pipeline
    from bci.headsets import standardize_labels
    from bci.recordings import read_recording

    path = Path(path)
    if not path.is_file():
        raise DataError(f"recording: no file {path}")
    event_map = {str(k): str(v) for k, v in events.items()}
    if len(set(event_map.values())) < 2:
        raise DataError(
            f"events must map markers to at least 2 classes, got {event_map or 'nothing'}"
        )
    spec = get_pipeline(pipeline)
    use_band = tuple(band) if band is not None else tuple(spec.band)
    rec = read_recording(path)
    X, y, meta = epochs_from_raw(rec.to_raw(), event_map, tmin, tmax, use_band)
    missing = sorted(set(event_map.values()) - set(y.tolist()))
    if missing:
        raise DataError(
            f"{path.name}: no trial of class(es) {missing} (markers "
            f"{sorted(k for k, v in event_map.items() if v in missing)}) fits in the recording; "
            f"its markers are {sorted({v for _, v in rec.markers}) or 'none'}"
        )
    ch_names = standardize_labels(list(meta["ch_names"]))
    model = train_model(
        X,
        y,
        pipeline=spec.name,
        ch_names=ch_names,
        sfreq=float(meta["sfreq"]),
        band=(float(use_band[0]), float(use_band[1])),
        paradigm="-".join(sorted(set(event_map.values()))),
        cv=cv,
        seed=seed,
    )
    model.source = {
        "file": path.name,
        "sha256": file_sha256(path),
        "format": rec.format,
        "events": event_map,
        "tmin": float(tmin),
        "tmax": float(tmax),
        # The reader converted each channel's declared unit (XDF header, MNE's physical
        # units) to µV: the model, like every live session, works in microvolts.
        "units": "microvolts",
        "source_ch_names": list(meta["ch_names"]),
        "trials": {c: int((y == c).sum()) for c in sorted(set(y.tolist()))},
    }
    logger.info(
        "trained %s on %s: %d trials, CV %s %.3f",
        model.model_id,
        path.name,
        model.n_trials,
        model.cv_metric,
        model.cv_score if model.cv_score is not None else float("nan"),
    )
    return model
