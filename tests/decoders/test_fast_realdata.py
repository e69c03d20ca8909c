"""Fast path == sklearn pipeline on real EEG: PhysioNet eegmmidb subject 1, 64 ch x 480 samples."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from pyriemann.classification import MDM
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from bci.decoders.fast import FastPipeline, compile_pipeline, fast_or_slow

pytestmark = pytest.mark.realdata

ATOL = 1e-9


def _subject1_folder() -> Path | None:
    root = os.environ.get("BCI_DATA_PATH")
    if not root:
        return None
    s001 = Path(root) / "MNE-eegbci-data" / "files" / "eegmmidb" / "1.0.0" / "S001"
    return Path(root) if s001.is_dir() else None


@pytest.fixture(scope="module")
def real_windows() -> tuple[np.ndarray, np.ndarray]:
    """Imagined left/right fist (runs 4, 8, 12), 8-32 Hz causal band-pass, 0-3 s after T1/T2."""
    folder = _subject1_folder()
    if folder is None:
        pytest.skip(
            "PhysioNet eegmmidb subject 1 not found: set BCI_DATA_PATH to a folder with "
            "MNE-eegbci-data/files/eegmmidb/1.0.0/S001"
        )
    from bci.datasets.eegbci import load_raw
    from bci.signal.filters import filter_continuous

    raw = load_raw(1, [4, 8, 12], path=folder)
    sfreq = float(raw.info["sfreq"])
    data = filter_continuous(raw.get_data(), sfreq, 8.0, 32.0)
    n_times = round(3.0 * sfreq)
    X, y = [], []
    for annot in raw.annotations:
        if annot["description"] in ("T1", "T2"):
            start = round(annot["onset"] * sfreq)
            if start + n_times <= data.shape[1]:
                X.append(data[:, start : start + n_times])
                y.append("left" if annot["description"] == "T1" else "right")
    return np.asarray(X), np.asarray(y)


def test_real_windows_shape(real_windows):
    X, y = real_windows
    assert X.shape[1:] == (64, 480)
    assert X.shape[0] >= 40
    assert set(y) == {"left", "right"}


def _registry(name: str, **params: object) -> object:
    from bci.decoders import make_pipeline as make_named

    return make_named(name, **params)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(
            lambda: make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()),
            id="ts-lr",
        ),
        pytest.param(lambda: make_pipeline(Covariances("scm"), MDM()), id="mdm-scm"),
        pytest.param(lambda: _registry("ts-lr", recentering=True), id="registry-ts-lr-recentering"),
        pytest.param(lambda: _registry("csp-lda"), id="registry-csp-lda"),
    ],
)
def test_fast_matches_sklearn_on_real_windows(real_windows, build):
    X, y = real_windows
    train, test = slice(0, None, 2), slice(1, None, 2)
    pipeline = build().fit(X[train], y[train])
    fast = compile_pipeline(pipeline)
    expected = pipeline.predict_proba(X)
    got = fast.predict_proba(X)
    assert np.max(np.abs(got - expected)) <= ATOL
    for window, row in zip(X[test][:5], expected[test][:5], strict=True):
        assert np.max(np.abs(fast.predict_proba_one(window) - row)) <= ATOL
    # the data are in volts (covariances ~1e-10): fast_or_slow's self-check must still pass
    assert isinstance(fast_or_slow(pipeline), FastPipeline)
