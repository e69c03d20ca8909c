"""Real data: mu suppression over C3/C4 on PhysioNet eegmmidb subject 1 (BCI_DATA_PATH).

Hand movements, imagined and executed (left fist, right fist, both fists), must suppress mu
over both hand areas against rest T0 of the same runs and against the eyes-open baseline run.
Feet are not asserted: feet movement desynchronises the mesial (Cz) area and tends to
*enhance* the hand-area mu ("focal ERD / surround ERS", Pfurtscheller & Lopes da Silva 1999),
which is what subject 1 shows.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bci.analysis import ErdOptions, ErdReport, eegbci_report

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

HAND_CONDITIONS = [
    ("imagined-left-right", "imagine_left"),
    ("imagined-left-right", "imagine_right"),
    ("imagined-hands-feet", "imagine_hands"),
    ("executed-left-right", "execute_left"),
    ("executed-left-right", "execute_right"),
    ("executed-hands-feet", "execute_hands"),
]


def _data_path() -> Path:
    env = os.environ.get("BCI_DATA_PATH")
    s1 = Path(env or "") / "MNE-eegbci-data" / "files" / "eegmmidb" / "1.0.0" / "S001"
    if not env or not s1.is_dir():
        pytest.skip(
            "PhysioNet eegmmidb subject 1 not found: set BCI_DATA_PATH to a folder with "
            "MNE-eegbci-data/files/eegmmidb/1.0.0/S001"
        )
    return Path(env)


@pytest.fixture(scope="module")
def report() -> ErdReport:
    # 64 channels: the default reference ("auto") is the common average.
    return eegbci_report(
        1,
        path=_data_path(),
        options=ErdOptions(n_boot=0, erds=False),
        references=("rest", "baseline", "pre-cue"),
    )


def test_report_covers_every_run_type(report: ErdReport) -> None:
    assert report.reference == "average"
    assert report.sfreq == 160.0 and len(report.ch_names) == 64
    conds = {(e.group, e.condition) for e in report.entries}
    assert len(conds) == 8
    for e in report.entries:
        n = e.result.n_condition
        assert 20 <= n <= 25, (e.condition, n)  # 21-24 trials per condition in subject 1
        if e.reference == "rest":
            assert e.result.n_baseline >= 40  # T0 of the same three runs
        elif e.reference == "baseline":
            assert e.result.n_baseline == 30  # run 1: 60 s in 2-s epochs
        else:
            assert e.result.n_baseline == n  # paired pre-cue


@pytest.mark.parametrize(("group", "condition"), HAND_CONDITIONS)
@pytest.mark.parametrize("reference", ["rest", "baseline"])
def test_hand_movements_suppress_mu_over_c3_and_c4(
    report: ErdReport, group: str, condition: str, reference: str
) -> None:
    res = report.get(condition, reference, group)
    c3, c4 = res.value("C3", "mu"), res.value("C4", "mu")
    assert c3 < 0 and c4 < 0, f"{condition} vs {reference}: C3 {c3:+.3f}, C4 {c4:+.3f}"
    # and on average over the two hand areas, a medium-to-large effect
    d = (res.effect_size[0, 0] + res.effect_size[2, 0]) / 2
    assert d < -0.3, f"{condition} vs {reference}: mean d {d:+.2f}"


def test_right_hand_imagery_is_lateralised(report: ErdReport) -> None:
    for ref in ("rest", "baseline"):
        res = report.get("imagine_right", ref)
        assert res.value("C3") < res.value("C4") - 0.05


def test_cli_on_eegbci(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import argparse
    import json

    from bci.cli.erd import register, run

    _data_path()
    parser = argparse.ArgumentParser(prog="bci")
    register(parser.add_subparsers(dest="command"))
    out = tmp_path / "erd"
    args = parser.parse_args(
        [
            "erd",
            "--dataset",
            "eegbci",
            "--subjects",
            "1",
            "--run-types",
            "imagined-left-right",
            "--n-boot",
            "200",
            "--output",
            str(out),
        ]
    )
    assert run(args) == 0
    text = capsys.readouterr().out
    assert "eegbci subject 1" in text and "imagine_right" in text
    names = {p.name for p in out.iterdir()}
    assert {"erd.json", "erd_table.txt", "topomap_mu_imagined-left-right.png"} <= names
    assert "erds_imagined-left-right_imagine_right.png" in names
    data = json.loads((out / "erd.json").read_text())
    assert len(data["entries"]) == 6  # 2 conditions x (rest, baseline run, pre-cue)
    right = next(
        e for e in data["entries"] if e["condition"] == "imagine_right" and e["reference"] == "rest"
    )
    c3 = right["channels"]["C3"]["mu"]
    assert c3["ci_low"] < c3["index"] < c3["ci_high"] < 0
