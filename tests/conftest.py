"""Test-wide setup: loopback-only LSL and the real-data folder, before anything loads liblsl."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]

# LSL discovery must never leave this machine in tests.
os.environ.setdefault("LSLAPICFG", str(ROOT / "configs" / "lsl" / "loopback.cfg"))
# Real EEG (PhysioNet eegmmidb in MNE's layout): ../shared/data beside the checkout, unless set.
_shared = ROOT.parent / "shared" / "data"
if "BCI_DATA_PATH" not in os.environ and _shared.is_dir():
    os.environ["BCI_DATA_PATH"] = str(_shared)
_ref = ROOT.parent / "shared" / "reference"
if "BCI_REFERENCE_PATH" not in os.environ and _ref.is_dir():
    os.environ["BCI_REFERENCE_PATH"] = str(_ref)
os.environ.setdefault("MPLBACKEND", "Agg")
# Small matrices on 2 shared cores: multithreaded BLAS is 20-50x slower under load.
threadpool_limits(1)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


@pytest.fixture
def stream_name() -> str:
    """A unique LSL stream name per test, so parallel or repeated tests never collide."""
    return f"bci-test-{uuid.uuid4().hex[:10]}"


def real_data_path() -> Path | None:
    p = os.environ.get("BCI_DATA_PATH")
    if not p:
        return None
    s1 = Path(p) / "MNE-eegbci-data" / "files" / "eegmmidb" / "1.0.0" / "S001"
    return Path(p) if s1.is_dir() else None


@pytest.fixture
def eegbci_path() -> Path:
    p = real_data_path()
    if p is None:
        pytest.skip(
            "PhysioNet eegmmidb subject 1 not found: set BCI_DATA_PATH to a folder with "
            "MNE-eegbci-data/files/eegmmidb/1.0.0/S001"
        )
    return p
