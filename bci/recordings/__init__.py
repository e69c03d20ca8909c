"""Read a recording from disk into one :class:`Recording` (continuous EEG + markers).

One module per format, each registering its reader for its file extensions
(:data:`READERS`): :mod:`~bci.recordings.xdf` (every stream, through pyxdf),
:mod:`~bci.recordings.fif`, :mod:`~bci.recordings.edf` (EDF, BDF), :mod:`~bci.recordings.gdf`
and :mod:`~bci.recordings.brainvision` (through MNE: annotations and stim channels become
markers), and :mod:`~bci.recordings.csv_export` (the CSV exports of OpenBCI GUI and muselsl).
A new format is one module that calls :func:`register_reader`, plus its import below.

Every reader returns data in microvolts with a timestamp per sample and markers on the same
clock, so replay, the pseudo-online engine and offline evaluation see the same thing. This
package sits below :mod:`bci.streams` and :mod:`bci.datasets` (it imports neither).
"""

from bci.recordings import brainvision, csv_export, edf, fif, gdf, xdf  # noqa: F401 (register)
from bci.recordings._mne import recording_from_raw
from bci.recordings.readers import (
    READERS,
    SUPPORTED_EXTENSIONS,
    RecordingReader,
    read_recording,
    register_reader,
)
from bci.recordings.recording import Recording, XDFStream

__all__ = [
    "READERS",
    "SUPPORTED_EXTENSIONS",
    "Recording",
    "RecordingReader",
    "XDFStream",
    "read_recording",
    "recording_from_raw",
    "register_reader",
]
