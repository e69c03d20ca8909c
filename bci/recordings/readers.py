"""The recording-reader registry, keyed by file extension, and :func:`read_recording`.

A format module (:mod:`~bci.recordings.xdf`, :mod:`~bci.recordings.fif`...) defines a
``read(path) -> Recording`` function and registers it with :func:`register_reader` for its
extensions; :mod:`bci.recordings` imports every format module once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bci.errors import DataError
from bci.recordings.recording import Recording
from bci.registry import Registry

__all__ = [
    "READERS",
    "SUPPORTED_EXTENSIONS",
    "RecordingReader",
    "read_recording",
    "register_reader",
]


@dataclass(frozen=True)
class RecordingReader:
    """How to read one file format.

    Parameters
    ----------
    kind : str
        Format name (``"xdf"``, ``"edf"``...).
    extensions : tuple of str
        File endings, lower case with the dot (``".xdf"``, ``".fif.gz"``).
    read : callable
        ``read(path) -> Recording``; raises :class:`~bci.errors.DataError` on a bad file. It
        is only called on an existing, non-empty file.
    """

    kind: str
    extensions: tuple[str, ...]
    read: Callable[[Path], Recording]


#: File extension -> reader.
READERS: Registry[RecordingReader] = Registry("recording format")


#: File endings :func:`read_recording` understands -> the format read for each, in the order
#: the readers were registered (filled by :func:`register_reader`, read-only otherwise).
SUPPORTED_EXTENSIONS: dict[str, str] = {}


def register_reader(reader: RecordingReader) -> RecordingReader:
    """Register ``reader`` for each of its extensions and return it."""
    for ext in reader.extensions:
        READERS.register(ext, reader)
        SUPPORTED_EXTENSIONS[ext] = reader.kind
    return reader


def _extension(path: Path) -> str:
    name = path.name.lower()
    for ext in sorted(READERS, key=len, reverse=True):
        if name.endswith(ext):
            return ext
    return path.suffix.lower()


def read_recording(path: str | Path) -> Recording:
    """Read any supported recording.

    Parameters
    ----------
    path : path
        A ``.xdf``/``.xdfz``, ``.fif``, ``.edf``, ``.bdf``, ``.gdf``, ``.vhdr``, or a CSV
        export (``.csv``/``.txt``) of OpenBCI GUI or muselsl (see ``SUPPORTED_EXTENSIONS``).

    Returns
    -------
    recording : Recording

    Raises
    ------
    DataError
        Unknown extension (the message lists the supported ones), missing, empty, truncated
        or corrupt file (the message names the file and what failed), or an XDF without an
        EEG stream.
    """
    p = Path(path)
    ext = _extension(p)
    if ext not in READERS:
        raise DataError(
            f"Unsupported recording format {ext or '(no extension)'!r} for {p}. Supported: "
            f"{', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if not p.is_file():
        raise DataError(f"Recording {p} does not exist or is not a file")
    if p.stat().st_size == 0:
        raise DataError(f"Recording {p} is empty (0 bytes)")
    return READERS.resolve(ext).read(p)
