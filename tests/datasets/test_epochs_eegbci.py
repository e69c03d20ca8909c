"""PhysioNet eegmmidb subject 1 through the paradigms (needs BCI_DATA_PATH)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bci.datasets import load_eegbci_epochs

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize(
    ("paradigm", "counts"),
    [
        ("imagery-left-right", {"left": 23, "right": 22}),
        ("imagery-hands-feet", {"hands": 21, "feet": 24}),
        ("executed-left-right", None),
        ("imagery-4class", {"left": 23, "right": 22, "hands": 21, "feet": 24}),
        ("movement-rest", None),
    ],
)
def test_paradigm_epochs(eegbci_path: Path, paradigm: str, counts: dict | None) -> None:
    X, y, meta = load_eegbci_epochs(1, paradigm, path=eegbci_path)
    labels, n = np.unique(y, return_counts=True)
    if counts is not None:
        assert dict(zip(labels.tolist(), n.tolist(), strict=True)) == counts
    assert X.shape == (len(y), 64, 480)  # 0-3 s at 160 Hz, half-open
    assert meta["sfreq"] == 160.0 and meta["band"] == (8.0, 32.0)
    assert {"C3", "Cz", "C4"} <= set(meta["ch_names"])
    assert len(meta["run"]) == len(y) and set(meta["subject"]) == {1}
    # microvolts, like live streams: band-passed EEG has an RMS of a few to tens of µV
    rms = float(np.sqrt(np.mean(X**2)))
    assert 1.0 < rms < 100.0
    if paradigm == "movement-rest":
        assert set(labels) == {"move", "rest"} and min(n) >= 80
