"""EDF (``.edf``) and BDF (``.bdf``, BioSemi's 24-bit EDF), read through MNE.

Annotations (EDF+) and stim channels become markers.
"""

from __future__ import annotations

from pathlib import Path

from bci.recordings._mne import read_with_mne
from bci.recordings.readers import RecordingReader, register_reader
from bci.recordings.recording import Recording

__all__ = ["read_bdf", "read_edf"]


def read_edf(path: Path) -> Recording:
    """Read ``path`` with ``mne.io.read_raw_edf`` (raises DataError on a bad file)."""
    import mne

    return read_with_mne(path, "edf", mne.io.read_raw_edf)


def read_bdf(path: Path) -> Recording:
    """Read ``path`` with ``mne.io.read_raw_bdf`` (raises DataError on a bad file)."""
    import mne

    return read_with_mne(path, "bdf", mne.io.read_raw_bdf)


register_reader(RecordingReader("edf", (".edf",), read_edf))
register_reader(RecordingReader("bdf", (".bdf",), read_bdf))
