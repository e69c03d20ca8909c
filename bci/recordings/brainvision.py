"""BrainVision (``.vhdr`` with its ``.eeg`` and ``.vmrk``), read through MNE.

Annotations and stim channels become markers.
"""

from __future__ import annotations

from pathlib import Path

from bci.recordings._mne import read_with_mne
from bci.recordings.readers import RecordingReader, register_reader
from bci.recordings.recording import Recording

__all__ = ["read_brainvision"]


def read_brainvision(path: Path) -> Recording:
    """Read ``path`` with ``mne.io.read_raw_brainvision`` (raises DataError on a bad file)."""
    import mne

    return read_with_mne(path, "brainvision", mne.io.read_raw_brainvision)


register_reader(RecordingReader("brainvision", (".vhdr",), read_brainvision))
