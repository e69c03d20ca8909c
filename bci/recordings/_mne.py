"""What the MNE-read formats (FIF, EDF, BDF, GDF, BrainVision) share: ``Raw`` -> Recording.

Annotations and stim channels become markers; channels measured in volts are kept, in µV.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bci.errors import DataError
from bci.recordings.recording import Recording

__all__ = ["read_with_mne", "recording_from_raw"]

logger = logging.getLogger(__name__)


def read_with_mne(path: Path, kind: str, reader: Callable[..., Any]) -> Recording:
    """Read ``path`` with the MNE reader ``reader`` (e.g. ``mne.io.read_raw_edf``).

    Parameters
    ----------
    path : Path
    kind : str
        Format name used in the Recording and in error messages (``"edf"``).
    reader : callable
        ``reader(path, preload=True, verbose=...) -> mne.io.Raw``.

    Raises
    ------
    DataError
        MNE cannot read the file (the message names the file, the format and MNE's error).
    """
    try:
        # MNE reads a file cut short (header promises more records than the file holds) up to
        # its end with a warning: keep that, as for XDF, and say it in our log with the name.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = reader(path, preload=True, verbose="warning")
    except Exception as exc:  # each MNE reader raises its own errors on bad files
        raise DataError(
            f"Cannot read {path} as {kind.upper()}: {type(exc).__name__}: {exc}"
        ) from exc
    for w in caught:
        logger.warning("%s: %s", path, w.message)
    return recording_from_raw(raw, source=path, fmt=kind)


def recording_from_raw(raw: Any, source: Path | None = None, fmt: str = "memory") -> Recording:
    """Turn an ``mne.io.Raw`` into a :class:`Recording`.

    Channels measured in volts (EEG, EOG, ECG, EMG...) are kept and converted to microvolts;
    stim channels become markers (``mne.find_events``, value = the event code), and so do
    annotations (value = description, onset from the first sample).
    """
    import mne
    from mne.io.constants import FIFF

    sfreq = float(raw.info["sfreq"])
    types = raw.get_channel_types()
    stim = [i for i, t in enumerate(types) if t == "stim"]
    keep = [
        i
        for i, (t, ch) in enumerate(zip(types, raw.info["chs"], strict=True))
        if t != "stim" and ch["unit"] == FIFF.FIFF_UNIT_V
    ]
    dropped = [raw.ch_names[i] for i in range(len(types)) if i not in keep and i not in stim]
    if dropped:
        logger.info("%s: channels not in volts are left out: %s", source, dropped)
    if not keep:
        raise DataError(f"Recording {source}: no EEG channel (channels: {raw.ch_names})")
    data = raw.get_data(picks=keep) * 1e6
    n_times = data.shape[1]
    if n_times == 0:
        raise DataError(f"Recording {source} has no samples")
    markers: list[tuple[float, str]] = []
    ann = raw.annotations
    for onset, desc in zip(ann.onset, ann.description, strict=True):
        # Rounded to the nanosecond: the subtraction leaves float noise (1.4 - 0.4 != 1.0).
        markers.append((round(float(onset - raw.first_time), 9), str(desc)))
    if stim:
        try:
            ev = mne.find_events(
                raw,
                stim_channel=[raw.ch_names[i] for i in stim],
                shortest_event=1,
                initial_event=True,
                consecutive=True,
                verbose="error",
            )
        except Exception as exc:  # a stim channel with odd content must not hide the EEG
            logger.warning("%s: stim channel unreadable (%s); no markers from it", source, exc)
        else:
            for sample, _, code in ev:
                markers.append(((int(sample) - raw.first_samp) / sfreq, str(int(code))))
    return Recording(
        data=data,
        sfreq=sfreq,
        ch_names=[raw.ch_names[i] for i in keep],
        timestamps=np.arange(n_times) / sfreq,
        markers=markers,
        source=source,
        format=fmt,
        ch_types=[types[i] for i in keep],
    )
