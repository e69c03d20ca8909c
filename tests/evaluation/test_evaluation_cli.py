"""`bci evaluate` end to end through register() and run(), on a recording file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import mne
import pytest

from bci.cli.evaluate import parse_events, parse_subjects, register
from bci.errors import DataError


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bci")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["evaluate", *argv])


@pytest.fixture(scope="module")
def sim_fif(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic-headset left/right run saved as FIF with its cues as annotations."""
    from bci.streams.synthetic import simulate_run

    run = simulate_run("imagery-left-right", trials_per_class=15, headset="openbci-cyton", seed=3)
    info = mne.create_info(list(run.ch_names), run.sfreq, "eeg")
    raw = mne.io.RawArray(run.data * 1e-6, info, verbose="error")
    onsets = [s / run.sfreq for s, _ in run.events]
    raw.set_annotations(
        mne.Annotations(onsets, [0.0] * len(onsets), [lab for _, lab in run.events])
    )
    path = tmp_path_factory.mktemp("rec") / "sim_raw.fif"
    raw.save(path, verbose="error")
    return path


def test_evaluate_a_file(sim_fif: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    args = _parse(
        [
            "--file", str(sim_fif), "--events", "left=left,right=right",
            "--tmin", "0.5", "--tmax", "2.5", "--pipelines", "ts-lr,mdm",
            "--folds", "3", "--permutations", "2", "--output", str(out), "--no-progress",
        ]
    )  # fmt: skip
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "sim_raw.fif" in printed and "left-right" in printed and "ts-lr" in printed
    rows = json.loads((out / "results.json").read_text())
    assert [r["pipeline"] for r in rows] == ["ts-lr", "mdm"]
    r = rows[0]
    assert r["dataset"] == "sim_raw.fif" and r["paradigm"] == "left-right"
    assert r["n_epochs"] == 30 and r["n_channels"] == 8 and len(r["folds"]) == 3
    assert r["tmin"] == 0.5 and r["tmax"] == 2.5 and r["moabb"] is None
    assert r["mean"] > r["chance_p95"]  # the synthetic brain carries real ERD
    assert (out / "results.csv").read_text().count("\n") == 3
    figs = sorted(p.name for p in (out / "figures").iterdir())
    assert "folds-sim_raw.fif-left-right.png" in figs and len(figs) == 4


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--online", "--dataset", "eegbci", "--paradigm", "imagery-4class"],
            "--online needs a paradigm read from one block of runs",
        ),
        (["--online", "--file", "x.edf"], "--file needs --events"),
        ([], "Give exactly one of --dataset eegbci or --file PATH"),
        (["--dataset", "eegbci", "--file", "x.edf"], "Give exactly one of --dataset"),
        (["--file", "x.edf"], "--file needs --events MARKER=CLASS,..."),
        (["--file", "nope.edf", "--events", "T1=left,T2=right"], "--file nope.edf does not exist"),
        (["--dataset", "eegbci", "--pipelines", "ts-lr,deep"], "Unknown pipeline 'deep'"),
        (["--dataset", "eegbci", "--paradigm", "tongue"], "Unknown eegbci paradigm 'tongue'"),
        (["--dataset", "eegbci", "--band", "30", "8"], "--band must be LOW HIGH"),
        (["--dataset", "eegbci", "--cov-estimator", "x"], "Unknown covariance estimator 'x'"),
    ],
)
def test_clear_errors(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = _parse([*argv, "--output", str(tmp_path), "--no-progress"])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_parse_helpers() -> None:
    assert parse_subjects("1") == [1]
    assert parse_subjects("3,1-2, 7") == [1, 2, 3, 7]
    with pytest.raises(DataError, match="--subjects: cannot read 'x'"):
        parse_subjects("1,x")
    assert parse_events("T1=left, T2=right") == {"T1": "left", "T2": "right"}
    with pytest.raises(DataError, match="--events: cannot read 'T1'; expected MARKER=CLASS"):
        parse_events("T1,T2=right")
    with pytest.raises(DataError, match="at least 2 classes"):
        parse_events("T1=left,T2=left")
