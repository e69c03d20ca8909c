"""The offline ERD report and ``bci erd FILE`` on a synthetic recording with known conditions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from bci.analysis import ErdOptions, recording_report, write_outputs
from bci.cli.erd import parse_events, parse_subjects, register, run
from bci.errors import DataError, SignalError

mne = pytest.importorskip("mne")
synthetic = pytest.importorskip("bci.streams.synthetic", reason="synthetic headset not built")


def _raw_from_run(run: object) -> object:
    info = mne.create_info(list(run.ch_names), run.sfreq, "eeg")  # type: ignore[attr-defined]
    raw = mne.io.RawArray(run.data * 1e-6, info, verbose="error")  # type: ignore[attr-defined]
    onsets = [s / run.sfreq for s, _ in run.events]  # type: ignore[attr-defined]
    raw.set_annotations(mne.Annotations(onsets, [4.0] * len(onsets), run.labels))  # type: ignore[attr-defined]
    return raw


@pytest.fixture(scope="module")
def recording() -> tuple[object, object]:
    """A 19-channel synthetic run (right-hand imagery vs rest) and a 40 s resting baseline."""
    run = synthetic.simulate_run("imagery-left-right", 12, "standard-1020-19", seed=3)
    raw = _raw_from_run(run)
    gen = synthetic.SyntheticEEG("standard-1020-19", seed=11)
    base = gen.generate(int(40 * gen.sfreq)).T.astype(np.float64)
    info = mne.create_info(list(gen.ch_names), gen.sfreq, "eeg")
    return raw, mne.io.RawArray(base * 1e-6, info, verbose="error")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bci")
    register(p.add_subparsers(dest="command"))
    return p


def test_recording_report_numbers_and_files(recording: tuple, tmp_path: Path) -> None:
    raw, base = recording
    opts = ErdOptions(n_boot=200, seed=0)
    rep = recording_report(raw, baseline_raw=base, options=opts, source="synthetic")
    # 19 channels -> "auto" keeps the recorded reference
    assert rep.reference == "none"
    assert {(e.condition, e.reference) for e in rep.entries} == {
        (c, r) for c in ("left", "right") for r in ("baseline", "pre-cue")
    }
    right = rep.get("right", "pre-cue")
    left = rep.get("left", "pre-cue")
    assert right.value("C3") < -0.1 and left.value("C4") < -0.1
    assert right.value("C3") < right.value("C4")
    assert rep.get("right", "baseline").value("C3") < -0.1
    assert right.ci_high is not None and right.ci_high[0, 0] < 0
    assert right.occipital_channels == ("O1", "O2")
    top = next(e for e in rep.entries if e.condition == "right" and e.reference == "pre-cue")
    assert top.topomap.shape == (19,)
    assert top.topomap[rep.ch_names.index("C3")] == pytest.approx(right.value("C3"))

    table = rep.table()
    assert "right" in table and "pre-cue" in table and "C3" in table and "occ alpha" in table

    files = write_outputs(rep, tmp_path / "out")
    names = {p.name for p in files}
    assert {"erd.json", "erd_table.txt", "erds_maps.npz"} <= names
    assert {"erds_recording_left.png", "erds_recording_right.png"} <= names
    assert "topomap_mu_recording.png" in names
    data = json.loads((tmp_path / "out" / "erd.json").read_text())
    ent = next(
        e for e in data["entries"] if e["condition"] == "right" and e["reference"] == "pre-cue"
    )
    assert ent["channels"]["C3"]["mu"]["index"] == pytest.approx(right.value("C3"), abs=1e-6)
    assert set(ent["channels"]["C3"]["mu"]) == {"index", "d", "ci_low", "ci_high"}
    assert len(ent["topomap_mu"]) == 19
    maps = data["erds_maps"]
    assert {m["condition"] for m in maps} == {"left", "right"}
    # the map agrees with the table: mu power falls at C3 after a right-hand cue
    mr = next(m for m in maps if m["condition"] == "right")
    assert mr["mean_in_window"]["C3"]["mu"] < -10  # percent
    with np.load(tmp_path / "out" / "erds_maps.npz") as z:
        assert z["recording_right__data"].shape[0] == 3


def test_events_mapping_and_rest_reference(recording: tuple) -> None:
    raw, _ = recording
    opts = ErdOptions(n_boot=0, erds=False)
    rep = recording_report(raw, {"right": "imagine_right", "left": "rest"}, options=opts)
    assert {(e.condition, e.reference) for e in rep.entries} == {
        ("imagine_right", "rest"),
        ("imagine_right", "pre-cue"),
    }
    assert rep.get("imagine_right", "rest").value("C3") < -0.1
    with pytest.raises(DataError, match="No result for condition 'observe' against 'rest'"):
        rep.get("observe", "rest")


def test_report_errors(recording: tuple) -> None:
    raw, _ = recording
    opts = ErdOptions(n_boot=0, erds=False)
    with pytest.raises(DataError, match=r"None of the event names \['T1'\] is in the recording"):
        recording_report(raw, {"T1": "left"}, options=opts)
    with pytest.raises(DataError, match="needs a baseline recording"):
        recording_report(raw, references=["baseline"], options=opts)
    with pytest.raises(DataError, match=r"Every event of .* maps to 'rest'"):
        recording_report(raw, {"left": "rest"}, options=opts)
    with pytest.raises(SignalError, match="channel 'C5' not in the montage"):
        recording_report(raw, options=ErdOptions(n_boot=0, erds=False, channels=("C3", "C5")))
    with pytest.raises(SignalError, match=r"tmax \(0.5\) must be greater than tmin \(1.0\)"):
        ErdOptions(tmin=1.0, tmax=0.5)
    with pytest.raises(SignalError, match="Unknown reference 'car'"):
        ErdOptions(reference="car")


def test_cli_on_a_file(recording: tuple, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    raw, base = recording
    f = tmp_path / "rec_raw.fif"
    b = tmp_path / "base_raw.fif"
    raw.save(f, verbose="error")
    base.save(b, verbose="error")
    out = tmp_path / "erd"
    args = _parser().parse_args(
        ["erd", str(f), "--baseline-file", str(b), "--n-boot", "100", "--output", str(out)]
    )
    assert args.func is run
    assert run(args) == 0
    text = capsys.readouterr().out
    assert "baseline run" in text and "pre-cue" in text and f"wrote 6 files to {out}" in text
    data = json.loads((out / "erd.json").read_text())
    assert {e["reference"] for e in data["entries"]} == {"baseline", "pre-cue"}
    # --pre-cue alone, numbers only
    args = _parser().parse_args(
        ["erd", str(f), "--pre-cue", "--no-figures", "--n-boot", "0", "--output", str(out / "p")]
    )
    assert run(args) == 0
    data = json.loads((out / "p" / "erd.json").read_text())
    assert {e["reference"] for e in data["entries"]} == {"pre-cue"}
    assert not list((out / "p").glob("*.png"))


def test_cli_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="needs either a FILE or --dataset eegbci"):
        run(_parser().parse_args(["erd"]))
    with pytest.raises(DataError, match=r"Recording .*missing\.fif"):
        run(_parser().parse_args(["erd", str(tmp_path / "missing.fif")]))
    assert parse_events("T0=rest, T1=left") == {"T0": "rest", "T1": "left"}
    with pytest.raises(DataError, match=r"DESCRIPTION=LABEL \(e.g. T0=rest,T1=left\), got 'T1'"):
        parse_events("T0=rest,T1")
    assert parse_subjects("1,3-5") == [1, 3, 4, 5]
    with pytest.raises(DataError, match="--subjects: cannot read 'one'"):
        parse_subjects("one")
