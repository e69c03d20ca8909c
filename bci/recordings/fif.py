"""FIF (``.fif``, ``.fif.gz``), MNE's own format, read through MNE.

Annotations and stim channels become markers.
"""

from __future__ import annotations

from pathlib import Path

from bci.recordings._mne import read_with_mne
from bci.recordings.readers import RecordingReader, register_reader
from bci.recordings.recording import Recording

__all__ = ["read_fif"]


def read_fif(path: Path) -> Recording:
    """Read ``path`` with ``mne.io.read_raw_fif`` (raises DataError on a bad file)."""
    import mne

    return read_with_mne(path, "fif", mne.io.read_raw_fif)


register_reader(RecordingReader("fif", (".fif", ".fif.gz"), read_fif))
