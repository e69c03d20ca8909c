"""The reader registry: one module per format, keyed by extension."""

from __future__ import annotations

from pathlib import Path

import pytest

from bci.errors import DataError, UnknownNameError
from bci.recordings import READERS, SUPPORTED_EXTENSIONS, read_recording


def test_every_extension_has_the_reader_of_its_format_module() -> None:
    assert set(READERS) == set(SUPPORTED_EXTENSIONS)
    expected_module = {
        "xdf": "xdf",
        "fif": "fif",
        "edf": "edf",
        "bdf": "edf",
        "gdf": "gdf",
        "brainvision": "brainvision",
        "csv": "csv_export",
    }
    for ext, kind in SUPPORTED_EXTENSIONS.items():
        reader = READERS.resolve(ext)
        assert reader.kind == kind
        assert ext in reader.extensions
        assert reader.read.__module__ == f"bci.recordings.{expected_module[kind]}"


def test_unknown_extension_through_the_registry() -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown recording format '\.mat'. Must be"):
        READERS.resolve(".mat")


def test_longest_extension_wins(tmp_path: Path) -> None:
    # ".fif.gz" must reach the FIF reader (which then fails on garbage), not ".gz" nothing.
    path = tmp_path / "junk_raw.fif.gz"
    path.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(DataError, match=r"Cannot read .*junk_raw\.fif\.gz as FIF: "):
        read_recording(path)
