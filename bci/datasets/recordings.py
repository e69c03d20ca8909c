"""Moved: the recording readers live in :mod:`bci.recordings` (one module per format).

This name stays importable for code written against it; new code imports
:mod:`bci.recordings`.
"""

from bci.recordings import (
    SUPPORTED_EXTENSIONS,
    Recording,
    XDFStream,
    read_recording,
    recording_from_raw,
)

__all__ = ["SUPPORTED_EXTENSIONS", "Recording", "XDFStream", "read_recording", "recording_from_raw"]
