"""Replay over LSL loopback (stepped by hand) and iter_chunks for the pseudo-online engine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bci.cli import main
from bci.errors import DataError
from bci.recordings import Recording, read_recording
from bci.streams.lsl import get_pylsl, resolve_stream
from bci.streams.recorder import Recorder
from bci.streams.replay import Replay, iter_chunks

SFREQ = 250.0
CH = ["C3", "Cz", "C4", "Pz"]


@pytest.fixture
def recording(rng: np.random.Generator) -> Recording:
    n = 750  # 3 s
    return Recording(
        rng.standard_normal((4, n)) * 30,
        SFREQ,
        CH,
        700.0 + np.arange(n) / SFREQ,
        markers=[(700.5, "left"), (701.25, "right"), (702.0, "rest")],
        format="memory",
    )


class _Reader:
    """Inlets on a replay's EEG and marker streams, timestamps untouched (no clock sync)."""

    def __init__(self, name: str) -> None:
        pylsl = get_pylsl()
        self.eeg = pylsl.StreamInlet(resolve_stream(name=name), max_buflen=60, processing_flags=0)
        self.mk = pylsl.StreamInlet(
            resolve_stream(name=f"{name}-markers"), max_buflen=60, processing_flags=0
        )
        self.eeg.open_stream(5.0)
        self.mk.open_stream(5.0)

    def pull(self, n_expected: int, n_markers: int) -> tuple[Any, Any, Any, Any]:
        xs, ts, ms, mts = [], [], [], []
        deadline = time.monotonic() + 5.0
        while (sum(len(t) for t in ts) < n_expected or len(ms) < n_markers) and (
            time.monotonic() < deadline
        ):
            x, t = self.eeg.pull_chunk(timeout=0.05, max_samples=10_000)
            if t:
                xs.append(np.asarray(x, np.float32))
                ts.append(np.asarray(t))
            m, mt = self.mk.pull_chunk(timeout=0.0)
            ms += [v[0] for v in m]
            mts += list(mt)
        data = np.concatenate(xs) if xs else np.empty((0, 4), np.float32)
        stamps = np.concatenate(ts) if ts else np.empty(0)
        return data, stamps, ms, np.asarray(mts)

    def close(self) -> None:
        self.eeg.close_stream()
        self.mk.close_stream()


@pytest.mark.network
def test_replay_reproduces_samples_and_marker_times(recording: Recording, stream_name: str) -> None:
    with Replay(recording, name=stream_name, speed=1.0) as replay:
        reader = _Reader(stream_name)
        info = reader.eeg.info(timeout=2.0)
        assert info.nominal_srate() == SFREQ and info.channel_count() == 4
        pushed = [replay.step(100.0 + k * 0.05) for k in range(70)]  # 3.5 s by hand
        assert replay.done and sum(pushed) == 750
        assert pushed[0] == 1 and pushed[1] == 12  # t=0 -> sample 0; t=0.05 -> up to 12
        data, ts, markers, mts = reader.pull(750, 3)
        reader.close()
    np.testing.assert_array_equal(data, recording.data.T.astype(np.float32))
    np.testing.assert_allclose(ts, 100.0 + np.arange(750) / SFREQ, rtol=0, atol=1e-9)
    assert markers == ["left", "right", "rest"]
    np.testing.assert_allclose(mts, [100.5, 101.25, 102.0], rtol=0, atol=1e-9)


@pytest.mark.network
def test_speed_compresses_time(recording: Recording, stream_name: str) -> None:
    with Replay(recording, name=stream_name, speed=4) as replay:
        reader = _Reader(stream_name)
        replay.step(10.0)
        assert replay.step(10.5) == 500  # 0.5 s of clock = 2 s of recording
        replay.step(10.75)
        assert replay.done
        data, ts, markers, mts = reader.pull(750, 3)
        reader.close()
    assert markers == ["left", "right", "rest"]
    np.testing.assert_allclose(ts, 10.0 + np.arange(750) / (4 * SFREQ), atol=1e-9)
    np.testing.assert_allclose(mts, [10.125, 10.3125, 10.5], atol=1e-9)
    assert data.shape == (750, 4)


@pytest.mark.network
def test_speed_max_pushes_chunks(recording: Recording, stream_name: str) -> None:
    with Replay(recording, name=stream_name, speed="max", chunk_size=100) as replay:
        assert replay.speed == "max"
        counts = []
        while not replay.done:
            counts.append(replay.step())
        assert counts == [100] * 7 + [50]


@pytest.mark.network
def test_loop_keeps_timestamps_increasing(recording: Recording, stream_name: str) -> None:
    with Replay(recording, name=stream_name, speed=1.0, loop=True) as replay:
        reader = _Reader(stream_name)
        replay.step(1000.0)  # (not 0.0: liblsl reads a 0.0 timestamp as "now")
        n = replay.step(1004.0)  # 3 s recording: one loop and 1 s more
        assert n == 750 - 1 + 251 and replay.n_loops == 1 and not replay.done
        _, ts, markers, mts = reader.pull(1001, 4)
        reader.close()
    np.testing.assert_allclose(np.diff(ts), 1 / SFREQ, atol=1e-9)
    assert markers == ["left", "right", "rest", "left"]
    np.testing.assert_allclose(mts, [1000.5, 1001.25, 1002.0, 1003.5], atol=1e-9)


@pytest.mark.network
def test_thread_runs_to_the_end(recording: Recording, stream_name: str) -> None:
    with Replay(recording, name=stream_name, speed=20.0) as replay:
        reader = _Reader(stream_name)
        replay.start()
        data, _, markers, _ = reader.pull(750, 3)
        reader.close()
        replay.stop()
        assert replay.error is None and replay.done
    np.testing.assert_array_equal(data, recording.data.T.astype(np.float32))
    assert markers == ["left", "right", "rest"]


@pytest.mark.network
def test_replay_xdf_file_with_all_streams(
    tmp_path: Path, recording: Recording, stream_name: str
) -> None:
    path = tmp_path / "rec.xdf"
    with Recorder(path) as rec:
        rec.add_stream("eeg", "amp", "EEG", ch_names=CH, sfreq=SFREQ)
        rec.add_stream("mk", "cues", "Markers", n_channels=1, fmt="string")
        rec.add_stream("pred", "preds", "Predictions", n_channels=1, fmt="string")
        rec.push("eeg", recording.data.T, recording.timestamps)
        for t, v in recording.markers:
            rec.push_marker("mk", v, t)
        rec.push_json("pred", {"label": "left"}, 701.0)
    pylsl = get_pylsl()
    with Replay(path, name=stream_name, speed="max") as replay:
        assert replay.extra_names == [f"{stream_name}-preds"]
        preds = pylsl.StreamInlet(resolve_stream(name=f"{stream_name}-preds"), processing_flags=0)
        preds.open_stream(5.0)
        reader = _Reader(stream_name)
        while not replay.done:
            replay.step()
        data, _, markers, _ = reader.pull(750, 3)
        sample, t = preds.pull_sample(timeout=5.0)
        reader.close()
        preds.close_stream()
    np.testing.assert_array_equal(data, recording.data.T.astype(np.float32))
    assert markers == ["left", "right", "rest"]
    assert sample == ['{"label":"left"}'] and t == pytest.approx(replay.t_start + 1.0)


def test_iter_chunks_covers_data_and_markers_once(recording: Recording) -> None:
    chunks = list(iter_chunks(recording, 64))
    assert [c.data.shape for c in chunks[:2]] == [(64, 4), (64, 4)]
    assert chunks[-1].data.shape == (750 - 11 * 64, 4) and len(chunks) == 12
    assert chunks[0].data.dtype == np.float32
    np.testing.assert_array_equal(
        np.concatenate([c.data for c in chunks]), recording.data.T.astype(np.float32)
    )
    np.testing.assert_array_equal(
        np.concatenate([c.timestamps for c in chunks]), recording.timestamps
    )
    where = {v: k for k, c in enumerate(chunks) for _, v in c.markers}
    # left at sample 125 -> chunk 1; right at 312.5 -> chunk 4 (samples 256..319); rest at 500
    assert where == {"left": 1, "right": 4, "rest": 7}
    early = Recording(recording.data, SFREQ, CH, recording.timestamps, [(0.0, "x"), (1e9, "y")])
    chunks = list(iter_chunks(early, 500))
    assert chunks[0].markers == [(0.0, "x")] and chunks[-1].markers == [(1e9, "y")]
    with pytest.raises(ValueError, match="chunk_size must be >= 1, got 0"):
        next(iter_chunks(recording, 0))


def test_replay_refuses_bad_speed(recording: Recording) -> None:
    for bad in (0, -1, "fast", float("nan")):
        with pytest.raises(DataError, match=r"speed must be a number > 0 or 'max'"):
            Replay(recording, speed=bad)


@pytest.mark.network
def test_main_runs_a_file_and_reports_errors(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], stream_name: str
) -> None:
    path = tmp_path / "short.csv"
    ts = 50.0 + np.arange(64) / 256.0
    rows = [
        f"{t!r},{v!r}" for t, v in zip(ts.tolist(), rng.standard_normal(64).tolist(), strict=True)
    ]
    path.write_text("timestamps,TP9\n" + "\n".join(rows) + "\n")
    assert read_recording(path).n_times == 64
    assert main(["replay", str(path), "--speed", "100", "--name", stream_name]) == 0
    out = capsys.readouterr().out
    assert f"Publishing '{stream_name}' (1 ch @ 256 Hz" in out and "Pushed 64 samples" in out
    assert main(["replay", str(tmp_path / "missing.edf")]) == 2
    assert "missing.edf does not exist" in capsys.readouterr().err
    assert main(["replay", str(path), "--speed", "zero"]) == 2
    assert "speed must be a number > 0 or 'max', got 'zero'" in capsys.readouterr().err
