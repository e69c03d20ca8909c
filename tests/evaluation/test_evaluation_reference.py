"""MOABB's published scores: CSV parsing and the pipeline/paradigm mapping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bci.evaluation.reference import load_moabb_table, moabb_reference

CSV = (
    "Pipeline,:class:`BNCI2014_001`,:class:`PhysionetMI`\n"
    "`TS+LR`_,89.12±10.00,67.28±19.19\n"
    "`FilterBank+SVM`_,80.00±1.00,58.45±13.93\n"
    "`MDM`_,80.00±1.00,\n"
)


@pytest.fixture
def ref_dir(tmp_path: Path) -> Path:
    (tmp_path / "moabb_within_session_mi_left_vs_right_hand.csv").write_text(CSV)
    (tmp_path / "moabb_within_session_mi_right_hand_vs_feet.csv").write_text(CSV)
    return tmp_path


def test_parse_table(ref_dir: Path) -> None:
    t = load_moabb_table(ref_dir / "moabb_within_session_mi_left_vs_right_hand.csv")
    assert t["TS+LR"]["PhysionetMI"] == pytest.approx((0.6728, 0.1919))
    assert t["TS+LR"]["BNCI2014_001"] == pytest.approx((0.8912, 0.10))
    assert "PhysionetMI" not in t["MDM"]


def test_mapping(ref_dir: Path) -> None:
    r = moabb_reference("ts-lr", "imagery-left-right", path=ref_dir)
    assert r is not None
    assert (r["pipeline"], r["dataset"], r["metric"]) == ("TS+LR", "PhysionetMI", "roc_auc")
    assert r["mean"] == pytest.approx(0.6728) and r["note"] == ""
    fb = moabb_reference("fbts-lr", "imagery-hands-feet", path=ref_dir)
    assert fb is not None and fb["pipeline"] == "FilterBank+SVM"
    assert "right hand vs feet" in fb["note"] and "FBCSP" in fb["note"]
    assert moabb_reference("mdm", "imagery-left-right", path=ref_dir) is None  # empty cell
    assert moabb_reference("ts-lr", "movement-rest", path=ref_dir) is None  # no MOABB table
    assert moabb_reference("ts-lr", "imagery-left-right", dataset="mine", path=ref_dir) is None
    assert moabb_reference("nope", "imagery-left-right", path=ref_dir) is None


def test_shared_reference_folder() -> None:
    folder = os.environ.get("BCI_REFERENCE_PATH")
    if not folder or not Path(folder).is_dir():
        pytest.skip("BCI_REFERENCE_PATH (MOABB result tables) not set or absent")
    expected = {
        ("ts-lr", "imagery-left-right"): (0.6728, 0.1919),
        ("fgmdm", "imagery-left-right"): (0.6846, 0.1906),
        ("ts-lr", "imagery-hands-feet"): None,
        ("csp-lda", "imagery-4class"): (0.4773, 0.1435),
    }
    for (pipe, par), want in expected.items():
        r = moabb_reference(pipe, par)
        assert r is not None
        if want is not None:
            assert (r["mean"], r["std"]) == pytest.approx(want)
    assert moabb_reference("ts-lr", "imagery-4class")["metric"] == "accuracy"
