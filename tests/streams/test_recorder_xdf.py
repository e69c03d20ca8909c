"""Recorder: our XDF files read back by pyxdf exactly, refusals, disk full, SIGKILL."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import pyxdf

from bci.errors import DataError, SignalError
from bci.streams import xdf_writer
from bci.streams.recorder import Recorder, StreamSpec
from bci.streams.xdf_writer import varlen_int

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path) -> dict[str, dict]:
    streams, _ = pyxdf.load_xdf(path, synchronize_clocks=False, dejitter_timestamps=False)
    return {s["info"]["name"][0]: s for s in streams}


def test_record_then_read_back_exactly(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "session.xdf"
    n, chans = 1003, ["C3", "Cz", "C4", "Pz"]
    x = (rng.standard_normal((n, 4)) * 50).astype(np.float32)
    ts = 1234.5 + np.arange(n) / 250.0 + rng.normal(0, 1e-5, n)  # jittered like real stamps
    d = rng.standard_normal((30, 2))
    i16 = rng.integers(-3000, 3000, (30, 1)).astype(np.int16)
    with Recorder(path) as rec:
        rec.add_stream("eeg", "bci-eeg", "EEG", ch_names=chans, sfreq=250.0, source_id="headset-1")
        rec.add_stream("mk", "bci-markers", "Markers", n_channels=1, fmt="string", units="")
        rec.add_stream("pred", "bci-predictions", "Predictions", n_channels=1, fmt="string")
        rec.add_stream("d", "dbl", "Misc", n_channels=2, sfreq=10.0, fmt="double64")
        rec.add_stream("i", "i16", "Misc", n_channels=1, sfreq=10.0, fmt="int16")
        for a in range(0, n, 17):  # chunks as they arrive from an inlet
            rec.push("eeg", x[a : a + 17], ts[a : a + 17])
        rec.push_marker("mk", "left", 1235.0)
        rec.push_marker("mk", "rest é <&>", 1236.25)
        rec.push_json("pred", {"label": "left", "p": [0.8, 0.2]}, 1236.5)
        rec.push("d", d, np.arange(30) / 10.0)
        rec.push("i", i16[:, 0], np.arange(30) / 10.0)
        assert rec.sample_count("eeg") == n
    s = _load(path)
    eeg = s["bci-eeg"]
    assert eeg["time_series"].dtype == np.float32
    np.testing.assert_array_equal(eeg["time_series"], x)
    np.testing.assert_array_equal(eeg["time_stamps"], ts)  # exact, bit for bit
    info = eeg["info"]
    assert info["type"] == ["EEG"] and info["channel_count"] == ["4"]
    assert info["nominal_srate"] == ["250.0"] and info["channel_format"] == ["float32"]
    assert info["source_id"] == ["headset-1"]
    chs = info["desc"][0]["channels"][0]["channel"]
    assert [c["label"][0] for c in chs] == chans
    assert {c["unit"][0] for c in chs} == {"microvolts"} and {c["type"][0] for c in chs} == {"EEG"}
    footer = eeg["footer"]["info"]
    assert footer["sample_count"] == [str(n)] and float(footer["first_timestamp"][0]) == ts[0]
    assert s["bci-markers"]["time_series"] == [["left"], ["rest é <&>"]]
    np.testing.assert_array_equal(s["bci-markers"]["time_stamps"], [1235.0, 1236.25])
    assert s["bci-predictions"]["time_series"] == [['{"label":"left","p":[0.8,0.2]}']]
    np.testing.assert_array_equal(s["dbl"]["time_series"], d)
    np.testing.assert_array_equal(s["i16"]["time_series"], i16)
    # pyxdf's defaults (clock sync, dejitter) run on our files without complaint.
    streams, header = pyxdf.load_xdf(path)
    assert len(streams) == 5 and header["info"]["version"] == ["1.0"]


def test_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "a.xdf"
    path.write_bytes(b"precious")
    with pytest.raises(DataError, match=r"a\.xdf already exists; refusing to overwrite"):
        Recorder(path)
    assert path.read_bytes() == b"precious"
    with Recorder(path, on_exists="rename") as rec:
        assert rec.path == tmp_path / "a_1.xdf"
    with Recorder(path, on_exists="rename") as rec:
        assert rec.path == tmp_path / "a_2.xdf"
    assert path.read_bytes() == b"precious"


def test_bad_pushes_are_refused(tmp_path: Path) -> None:
    spec = StreamSpec("eeg", "e", "EEG", ["C3", "C4"], sfreq=100.0)
    with Recorder(tmp_path / "b.xdf", [spec]) as rec:
        with pytest.raises(SignalError, match=r"shape \(n_samples, 2\), got \(5, 3\)"):
            rec.push("eeg", np.zeros((5, 3)), np.arange(5.0))
        with pytest.raises(SignalError, match=r"4 timestamps for 5 samples"):
            rec.push("eeg", np.zeros((5, 2)), np.arange(4.0))
        with pytest.raises(DataError, match=r"No stream 'x' .*Declared: eeg"):
            rec.push("x", np.zeros((5, 2)), np.arange(5.0))
        with pytest.raises(SignalError, match=r"fmt must be one of .*got 'float16'"):
            rec.add_stream("f", "f", n_channels=1, fmt="float16")
        with pytest.raises(DataError, match=r"'eeg' is already declared"):
            rec.add_stream("eeg", "again", n_channels=1)
        rec.add_stream("m", "m", "Markers", n_channels=1, fmt="string")
        with pytest.raises(SignalError, match=r"each sample must be 1 string"):
            rec.push("m", [[1]], [0.0])
    with pytest.raises(DataError, match=r"is closed"):
        rec.push("eeg", np.zeros((1, 2)), [0.0])


def test_varlen_int_widths() -> None:
    assert varlen_int(5) == b"\x01\x05"
    assert varlen_int(300) == b"\x04" + (300).to_bytes(4, "little")
    assert varlen_int(1 << 33) == b"\x08" + (1 << 33).to_bytes(8, "little")


def test_disk_full_stops_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "full.xdf"
    rec = Recorder(path)
    rec.add_stream("eeg", "e", "EEG", n_channels=2, sfreq=100.0)
    x = np.ones((10, 2), np.float32)
    rec.push("eeg", x, np.arange(10) / 100.0)
    real_write = os.write

    def full_disk(fd: int, data: bytes) -> int:  # half of the chunk fits, then ENOSPC
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xdf_writer.os, "write", full_disk)
    with pytest.raises(DataError, match=r"Recording to .*full\.xdf stopped: disk full"):
        rec.push("eeg", x, 0.1 + np.arange(10) / 100.0)
    monkeypatch.setattr(xdf_writer.os, "write", real_write)
    assert rec.error is not None and rec.closed
    with pytest.raises(DataError, match=r"stopped after an error: .*disk full"):
        rec.push("eeg", x, 0.2 + np.arange(10) / 100.0)
    rec.close()  # idempotent, no exception
    # The half-written chunk was cut off: the file ends at the last complete chunk.
    s = _load(path)
    np.testing.assert_array_equal(s["e"]["time_stamps"], np.arange(10) / 100.0)


_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from bci.streams.recorder import Recorder

    rec = Recorder(sys.argv[1])
    rec.add_stream("eeg", "eeg", "EEG", n_channels=8, sfreq=250.0)
    rec.add_stream("mk", "markers", "Markers", n_channels=1, fmt="string")
    i = 0
    while True:
        x = np.full((25, 8), i, np.float32)
        rec.push("eeg", x, (i * 25 + np.arange(25)) / 250.0)
        if i % 10 == 0:
            rec.push_marker("mk", f"m{i}", i / 10.0)
        print(i, flush=True)
        i += 1
    """
)


@pytest.mark.slow
def test_sigkill_leaves_a_loadable_file(tmp_path: Path) -> None:
    path = tmp_path / "killed.xdf"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, text=True, env=env
    ) as proc:
        try:
            assert proc.stdout is not None
            for line in proc.stdout:  # wait until 200 chunks are reported written
                if int(line) >= 199:
                    break
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    s = _load(path)
    eeg = s["eeg"]["time_series"]
    assert eeg.shape[0] >= 200 * 25 and eeg.shape[0] % 25 == 0
    n_chunks = eeg.shape[0] // 25
    np.testing.assert_array_equal(eeg[::25, 0], np.arange(n_chunks))
    np.testing.assert_array_equal(s["eeg"]["time_stamps"], np.arange(eeg.shape[0]) / 250.0)
    assert s["markers"]["time_series"][:20] == [[f"m{i}"] for i in range(0, 200, 10)]
    assert "footer" not in s["eeg"]  # killed: no footer, and pyxdf does not need one
