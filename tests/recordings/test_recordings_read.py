"""read_recording: every format from fixtures generated here, and every kind of bad file."""

from __future__ import annotations

import logging
from pathlib import Path

import mne
import numpy as np
import pytest
import pyxdf

from bci.errors import DataError
from bci.recordings import SUPPORTED_EXTENSIONS, Recording, read_recording
from bci.streams.recorder import Recorder

SFREQ = 250.0
CH = ["C3", "Cz", "C4"]


@pytest.fixture
def signal(rng: np.random.Generator) -> np.ndarray:
    """(3 channels, 1000 samples) in microvolts."""
    return rng.standard_normal((3, 1000)) * 20.0


def _raw(signal: np.ndarray, first_samp: int = 0, stim: bool = False) -> mne.io.RawArray:
    names, types, data = list(CH), ["eeg"] * 3, signal * 1e-6
    if stim:
        trig = np.zeros((1, signal.shape[1]))
        trig[0, 300:305] = 3
        trig[0, 700:702] = 5
        names, types, data = [*names, "STI"], [*types, "stim"], np.vstack([data, trig])
    info = mne.create_info(names, SFREQ, types)
    raw = mne.io.RawArray(data, info, first_samp=first_samp, verbose="error")
    raw.set_annotations(mne.Annotations([1.0, 2.5], [0.0, 0.0], ["left", "right"]))
    return raw


# ---------------------------------------------------------------------------- MNE formats
def test_fif_with_annotations_and_stim_channel(tmp_path: Path, signal: np.ndarray) -> None:
    path = tmp_path / "rec_raw.fif"
    _raw(signal, first_samp=100, stim=True).save(path, fmt="double", verbose="error")
    rec = read_recording(path)
    assert rec.format == "fif"
    assert rec.ch_names == CH and rec.sfreq == SFREQ
    np.testing.assert_allclose(rec.data, signal, rtol=1e-12)
    np.testing.assert_array_equal(rec.timestamps, np.arange(1000) / SFREQ)
    # Onsets are relative to the first sample even though first_samp = 100.
    assert rec.markers == [(1.0, "left"), (1.2, "3"), (2.5, "right"), (2.8, "5")]


def test_edf_export_round_trip(tmp_path: Path, signal: np.ndarray) -> None:
    path = tmp_path / "rec.edf"
    mne.export.export_raw(path, _raw(signal), fmt="edf", verbose="error")
    rec = read_recording(path)
    assert rec.format == "edf" and rec.ch_names == CH and rec.sfreq == SFREQ
    # EDF stores 16-bit integers over the physical range: error below one step.
    step = (signal.max() - signal.min()) / 2**16
    np.testing.assert_allclose(rec.data, signal, atol=2 * step)
    assert [(round(t, 6), v) for t, v in rec.markers] == [(1.0, "left"), (2.5, "right")]


def _write_brainvision(folder: Path, signal: np.ndarray) -> Path:
    """A minimal BrainVision triplet (float32, multiplexed, microvolts) written by hand."""
    (folder / "rec.eeg").write_bytes(signal.T.astype("<f4").tobytes())
    chans = "\n".join(f"Ch{i + 1}={c},,1,µV" for i, c in enumerate(CH))
    (folder / "rec.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=rec.eeg\nMarkerFile=rec.vmrk\nDataFormat=BINARY\n"
        f"DataOrientation=MULTIPLEXED\nNumberOfChannels={len(CH)}\n"
        f"SamplingInterval={1e6 / SFREQ:g}\n\n[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n\n"
        f"[Channel Infos]\n{chans}\n",
        encoding="utf-8",
    )
    (folder / "rec.vmrk").write_text(
        "Brain Vision Data Exchange Marker File, Version 1.0\n\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=rec.eeg\n\n[Marker Infos]\nMk1=Stimulus,S  1,251,1,0\n"
        "Mk2=Stimulus,S  2,626,1,0\n",
        encoding="utf-8",
    )
    return folder / "rec.vhdr"


def test_brainvision(tmp_path: Path, signal: np.ndarray) -> None:
    rec = read_recording(_write_brainvision(tmp_path, signal))
    assert rec.format == "brainvision" and rec.ch_names == CH
    np.testing.assert_allclose(rec.data, signal.astype(np.float32), rtol=1e-6)
    # BrainVision positions are 1-based samples.
    assert rec.markers == [(1.0, "Stimulus/S  1"), (2.5, "Stimulus/S  2")]


# ---------------------------------------------------------------------------- CSV exports
def _openbci_text(signal: np.ndarray, t0: float = 1_700_000_000.0, markers: bool = True) -> str:
    n = signal.shape[1]
    head = (
        "%OpenBCI Raw EXG Data\n%Number of channels = 3\n%Sample Rate = 250 Hz\n"
        "%Board = OpenBCI_GUI$BoardCytonSerial\n"
    )
    cols = ["Sample Index", *[f"EXG Channel {i}" for i in range(3)]]
    cols += ["Accel Channel 0", "Accel Channel 1", "Accel Channel 2", "Other", "Timestamp"]
    cols += ["Marker Channel"] if markers else []
    cols += ["Timestamp (Formatted)"]
    lines = [head + ", ".join(cols)]
    for i in range(n):
        exg = ", ".join(f"{v:.6f}" for v in signal[:, i])
        mark = [("2.0" if i == 500 else "0.0")] if markers else []
        row = [str(i % 256), exg, "0.0", "0.0", "0.0", "192.0", f"{t0 + i / SFREQ:.6f}", *mark]
        row.append("2023-11-14 22:13:20.000")
        lines.append(", ".join(row))
    return "\n".join(lines) + "\n"


def test_openbci_gui_export(tmp_path: Path, signal: np.ndarray) -> None:
    path = tmp_path / "OpenBCI_GUI-v5-2023-11-14_22-13-20.txt"
    path.write_text(_openbci_text(signal))
    rec = read_recording(path)
    assert rec.format == "openbci-csv" and rec.sfreq == 250.0
    assert rec.ch_names == ["EXG Channel 0", "EXG Channel 1", "EXG Channel 2"]
    np.testing.assert_allclose(rec.data, signal, atol=5e-7)
    np.testing.assert_allclose(rec.timestamps, 1_700_000_000.0 + np.arange(1000) / SFREQ)
    assert rec.markers == [(pytest.approx(1_700_000_002.0), "2")]


def test_muselsl_export(tmp_path: Path, rng: np.random.Generator) -> None:
    n, fs = 512, 256.0
    ts = 1_600_000_000.0 + np.arange(n) / fs + rng.uniform(0, 1e-4, n)
    x = rng.standard_normal((n, 5)) * 30
    lines = ["timestamps,TP9,AF7,AF8,TP10,Right AUX"]
    lines += [
        f"{float(t)!r}," + ",".join(f"{float(v)!r}" for v in row)
        for t, row in zip(ts, x, strict=True)
    ]
    path = tmp_path / "EEG_recording_2020-09-13-12.26.40.csv"
    path.write_text("\n".join(lines) + "\n")
    rec = read_recording(path)
    assert rec.format == "muselsl-csv" and rec.sfreq == 256.0
    assert rec.ch_names == ["TP9", "AF7", "AF8", "TP10", "Right AUX"]
    np.testing.assert_array_equal(rec.data, x.T)
    np.testing.assert_array_equal(rec.timestamps, ts)


def test_csv_errors_name_the_file_and_line(tmp_path: Path, signal: np.ndarray) -> None:
    path = tmp_path / "cut.csv"
    text = _openbci_text(signal[:, :20], markers=False)
    path.write_text(text[: text.rindex(",", 0, len(text) - 40)])  # last line cut mid-row
    with pytest.raises(DataError, match=r"cut\.csv: line 21 has .* fields.*truncated"):
        read_recording(path)
    path = tmp_path / "head.csv"
    path.write_text("timestamps,TP9,AF7\n")
    with pytest.raises(DataError, match=r"head\.csv has a header but no samples"):
        read_recording(path)
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DataError, match=r"Cannot tell the CSV layout of .*other\.csv.*'a,b,c'"):
        read_recording(path)
    path = tmp_path / "bad.csv"
    path.write_text("timestamps,TP9\n1.0,2.0\n1.1,oops\n")
    with pytest.raises(DataError, match=r"bad\.csv: line 3: could not convert"):
        read_recording(path)


# ---------------------------------------------------------------------------- XDF
def _write_xdf(path: Path, signal: np.ndarray, t0: float = 5000.0, units: str = "microvolts"):
    ts = t0 + np.arange(signal.shape[1]) / SFREQ
    with Recorder(path) as rec:
        rec.add_stream("eeg", "amp", "EEG", ch_names=CH, sfreq=SFREQ, units=units)
        rec.add_stream("mk", "cues", "Markers", n_channels=1, fmt="string", units="")
        rec.add_stream("pred", "bci-predictions", "Predictions", n_channels=1, fmt="string")
        rec.add_stream("acc", "accel", "Accelerometer", n_channels=3, sfreq=25.0)
        for a in range(0, signal.shape[1], 64):
            rec.push("eeg", signal[:, a : a + 64].T, ts[a : a + 64])
        rec.push("acc", np.ones((40, 3)), t0 + np.arange(40) / 25.0)
        rec.push_marker("mk", "left", t0 + 1.0)
        rec.push_marker("mk", "right", t0 + 2.5)
        rec.push_json("pred", {"label": "left", "p": 0.9}, t0 + 3.0)
    return ts


def test_xdf_written_by_our_recorder(tmp_path: Path, signal: np.ndarray) -> None:
    path = tmp_path / "session.xdf"
    ts = _write_xdf(path, signal)
    rec = read_recording(path)
    assert rec.format == "xdf" and rec.ch_names == CH and rec.sfreq == SFREQ
    np.testing.assert_array_equal(rec.data, signal.astype(np.float32).astype(np.float64))
    np.testing.assert_array_equal(rec.timestamps, ts)
    assert rec.markers == [(5001.0, "left"), (5002.5, "right")]  # predictions are not markers
    extra = {s.name: s for s in rec.extra_streams}
    assert sorted(extra) == ["accel", "bci-predictions", "cues"]
    assert extra["cues"].is_marker and not extra["bci-predictions"].is_marker
    assert extra["bci-predictions"].data == [['{"label":"left","p":0.9}']]
    assert extra["accel"].data.shape == (40, 3) and extra["accel"].sfreq == 25.0


def test_xdf_units_in_volts_are_converted(tmp_path: Path, signal: np.ndarray) -> None:
    path = tmp_path / "volts.xdf"
    _write_xdf(path, signal * 1e-6, units="V")
    rec = read_recording(path)
    np.testing.assert_allclose(rec.data, signal, rtol=1e-6)


def test_xdf_without_eeg_stream(tmp_path: Path) -> None:
    path = tmp_path / "markers-only.xdf"
    with Recorder(path) as rec:
        rec.add_stream("mk", "cues", "Markers", n_channels=1, fmt="string")
        rec.push_marker("mk", "left", 1.0)
    with pytest.raises(DataError, match=r"No EEG stream in XDF file .*markers-only\.xdf.*'cues'"):
        read_recording(path)


def test_truncated_xdf_keeps_complete_chunks(
    tmp_path: Path, signal: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "full.xdf"
    ts = _write_xdf(path, signal)
    blob = path.read_bytes()
    # Cut inside the 10th EEG chunk (samples 576..639): the 9 chunks before it survive.
    start = blob.index(np.float64(ts[576]).tobytes()) - 1
    cut = tmp_path / "cut.xdf"
    cut.write_bytes(blob[: start + 100])
    with caplog.at_level(logging.WARNING, logger="bci.recordings"):
        rec = read_recording(cut)
    assert "file ends inside a chunk" in caplog.text and "cut.xdf" in caplog.text
    assert rec.n_times == 576
    np.testing.assert_array_equal(rec.timestamps, ts[:576])
    # Cut inside the first stream header: nothing usable left.
    head = tmp_path / "head.xdf"
    head.write_bytes(blob[:60])
    with pytest.raises(DataError, match=r"head\.xdf has no streams"):
        read_recording(head)


def test_not_an_xdf(tmp_path: Path) -> None:
    path = tmp_path / "fake.xdf"
    path.write_bytes(b"PK\x03\x04 this is a zip")
    with pytest.raises(DataError, match=r"fake\.xdf is not an XDF file"):
        read_recording(path)


# ---------------------------------------------------------------------------- bad files
def test_unknown_extension_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "rec.mat"
    path.write_bytes(b"x")
    with pytest.raises(DataError) as err:
        read_recording(path)
    msg = str(err.value)
    assert "Unsupported recording format '.mat'" in msg and "rec.mat" in msg
    for ext in (".xdf", ".fif", ".edf", ".bdf", ".gdf", ".vhdr", ".csv"):
        assert ext in msg
    assert set(SUPPORTED_EXTENSIONS) >= {".xdf", ".edf", ".vhdr"}


@pytest.mark.parametrize("name", ["empty.edf", "empty.xdf", "empty.csv", "empty.fif"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(DataError, match=rf"Recording .*{name} is empty \(0 bytes\)"):
        read_recording(tmp_path / name)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nothere\.edf does not exist"):
        read_recording(tmp_path / "nothere.edf")


@pytest.mark.parametrize(
    ("name", "kind"),
    [("junk.edf", "EDF"), ("junk.bdf", "BDF"), ("junk.gdf", "GDF"), ("junk_raw.fif", "FIF")],
)
def test_corrupt_mne_files(tmp_path: Path, name: str, kind: str) -> None:
    (tmp_path / name).write_bytes(b"\x00garbage" * 50)
    with pytest.raises(DataError, match=rf"Cannot read .*{name} as {kind}: "):
        read_recording(tmp_path / name)


def test_truncated_edf(tmp_path: Path, signal: np.ndarray) -> None:
    path = tmp_path / "whole.edf"
    mne.export.export_raw(path, _raw(signal), fmt="edf", verbose="error")
    cut = tmp_path / "cut.edf"
    cut.write_bytes(path.read_bytes()[:600])  # header incomplete
    with pytest.raises(DataError, match=r"Cannot read .*cut\.edf as EDF: "):
        read_recording(cut)


# ---------------------------------------------------------------------------- Recording
def test_to_raw_and_events(signal: np.ndarray) -> None:
    rec = Recording(
        signal,
        SFREQ,
        CH,
        100.0 + np.arange(1000) / SFREQ,
        markers=[(102.5, "right"), (101.0, "left"), (200.0, "late")],
    )
    raw = rec.to_raw()
    np.testing.assert_allclose(raw.get_data(), signal * 1e-6)
    assert list(raw.annotations.onset) == [1.0, 2.5] and list(raw.annotations.description) == [
        "left",
        "right",
    ]
    events, event_id = rec.events({"left": 1, "right": 2})
    np.testing.assert_array_equal(events, [[250, 0, 1], [625, 0, 2]])
    assert event_id == {"left": 1, "right": 2}
    with pytest.raises(DataError, match=r"Markers \['late'\] .* not in event_id; known: "):
        rec.events({"left": 1, "right": 2}, on_unknown="raise")
    _, auto = rec.events()
    assert auto == {"late": 1, "left": 2, "right": 3}


def test_recording_validates_shapes() -> None:
    with pytest.raises(DataError, match=r"2 channel names for 3 channels"):
        Recording(np.zeros((3, 10)), 100.0, ["a", "b"], np.arange(10.0))
    with pytest.raises(DataError, match=r"timestamps must have shape \(10,\), got \(9,\)"):
        Recording(np.zeros((1, 10)), 100.0, ["a"], np.arange(9.0))


# ---------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_real_subject1_edf(eegbci_path: Path) -> None:
    path = eegbci_path / "MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf"
    rec = read_recording(path)
    assert rec.n_channels == 64 and rec.sfreq == 160.0 and rec.n_times == 20000
    values = [v for _, v in rec.markers]
    assert set(values) == {"T0", "T1", "T2"} and len(values) == 30
    assert rec.markers[:3] == [(0.0, "T0"), (4.2, "T2"), (8.3, "T0")]
    # Same events as MNE's own conversion of the annotations.
    raw = mne.io.read_raw_edf(path, verbose="error")
    ev_mne, id_mne = mne.events_from_annotations(raw, verbose="error")
    ev, _ = rec.events(id_mne)
    np.testing.assert_array_equal(ev, ev_mne)
    assert np.abs(rec.data).max() < 1000  # microvolts, not volts


def test_pyxdf_reads_the_fixture_too(tmp_path: Path, signal: np.ndarray) -> None:
    path = tmp_path / "s.xdf"
    _write_xdf(path, signal)
    streams, _ = pyxdf.load_xdf(path)  # default clock sync and dejitter: no error
    assert sorted(s["info"]["name"][0] for s in streams) == [
        "accel",
        "amp",
        "bci-predictions",
        "cues",
    ]


def test_edf_cut_in_the_data_keeps_what_is_there(
    tmp_path: Path, signal: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "whole.edf"
    raw = _raw(signal)
    mne.export.export_raw(path, raw, fmt="edf", verbose="error")
    blob = path.read_bytes()
    cut = tmp_path / "short.edf"
    cut.write_bytes(blob[: len(blob) - len(blob) // 3])
    with caplog.at_level(logging.WARNING, logger="bci.recordings"):
        rec = read_recording(cut)
    assert 0 < rec.n_times < 1000
    assert "short.edf" in caplog.text and "does not match the file size" in caplog.text
