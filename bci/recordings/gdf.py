"""GDF (``.gdf``), the BioSig format of the BCI competition datasets, read through MNE.

Annotations and stim channels become markers.
"""

from __future__ import annotations

from pathlib import Path

from bci.recordings._mne import read_with_mne
from bci.recordings.readers import RecordingReader, register_reader
from bci.recordings.recording import Recording

__all__ = ["read_gdf"]


def read_gdf(path: Path) -> Recording:
    """Read ``path`` with ``mne.io.read_raw_gdf`` (raises DataError on a bad file)."""
    import mne

    return read_with_mne(path, "gdf", mne.io.read_raw_gdf)


register_reader(RecordingReader("gdf", (".gdf",), read_gdf))
