"""The synthetic headset on LSL (loopback): samples, timestamps, labels, markers, threads, CLI."""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import pytest

from bci.cli import main
from bci.errors import ConfigError, UnknownNameError
from bci.streams.lsl import get_pylsl, local_clock
from bci.streams.synthetic import SyntheticEEG
from bci.streams.synthetic_outlet import SyntheticOutlet

pytestmark = pytest.mark.network


def _name() -> str:
    return f"test-synth-{uuid.uuid4().hex[:10]}"


def _inlet(name: str) -> Any:
    pylsl = get_pylsl()
    found = pylsl.resolve_byprop("name", name, 1, 5.0)
    assert found, f"stream {name} not found"
    inlet = pylsl.StreamInlet(found[0], max_buflen=60)
    inlet.open_stream(5.0)
    return inlet


def _pull(inlet: Any, n: int, timeout: float = 5.0) -> tuple[list[Any], list[float]]:
    data: list[Any] = []
    stamps: list[float] = []
    deadline = time.monotonic() + timeout
    while len(stamps) < n and time.monotonic() < deadline:
        d, ts = inlet.pull_chunk(timeout=0.2)
        data += d
        stamps += ts
    return data, stamps


def test_samples_timestamps_labels_and_cues() -> None:
    name = _name()
    cues: list[tuple[float, str, str]] = []
    with SyntheticOutlet(
        "openbci-cyton",
        name=name,
        seed=3,
        paradigm="imagery-left-right",
        auto_cues=True,
        cue_listener=lambda t, m, lab: cues.append((t, m, lab)),
    ) as out:
        assert out.source_id == f"bci-synthetic-{name}"
        eeg, markers = _inlet(name), _inlet(f"{name}-markers")
        try:
            info = eeg.info(5.0)
            assert info.type() == "EEG" and info.channel_count() == 8
            assert info.nominal_srate() == 250.0
            assert info.source_id() == out.source_id
            ch = info.desc().child("channels").child("channel")
            labels, units = [], []
            for _ in range(8):
                labels.append(ch.child_value("label"))
                units.append(ch.child_value("unit"))
                ch = ch.next_sibling()
            assert labels == ["FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4", "Pz"]
            assert set(units) == {"microvolts"}
            assert markers.info(5.0).type() == "Markers"
            assert out.wait_for_consumers(5.0)

            # Step by hand on the LSL clock: 20 s of stream time in a few calls.
            t0 = local_clock()
            assert out.step(t0) == 1
            assert out.step(t0) == 0
            assert out.step(t0 + 0.0999) == 24  # samples 1..24 are at or before t0 + 0.0999
            n = out.step(t0 + 20.0)
            assert out.n_pushed == 5001 == 25 + n
            data, stamps = _pull(eeg, 5001)
            ts = np.asarray(stamps)
            assert ts.size == 5001
            np.testing.assert_allclose(ts, t0 + np.arange(5001) / 250.0, rtol=0, atol=1e-9)
            assert np.all(np.diff(ts) > 0)
            x = np.asarray(data, dtype=np.float32)
            assert x.shape == (5001, 8) and np.isfinite(x).all()
            assert 3 < float(x.std()) < 100

            # The data are the generator's, switched at the cue samples.
            ref = SyntheticEEG("openbci-cyton", seed=3)
            cue_samples = [round((t - t0) * 250) for t, _, _ in cues]
            pieces, pos = [], 0
            for (_, _, lab), s in zip(cues, cue_samples, strict=True):
                pieces.append(ref.generate(s - pos))
                ref.set_condition(f"imagine_{lab}")
                pos = s
                end = s + 1000  # trial_s = 4 s
                if end <= 5001:
                    pieces.append(ref.generate(end - pos))
                    ref.set_condition("rest")
                    pos = end
            pieces.append(ref.generate(5001 - pos))
            np.testing.assert_allclose(x, np.concatenate(pieces), rtol=0, atol=1e-4)

            # Cues: first at 2 s rest + 1 s fixation, then every >= 7 s.
            mk, mts = _pull(markers, len(cues))
            assert len(cues) >= 2
            assert [m[0] for m in mk] == [m for _, m, _ in cues]
            assert {m for _, m, _ in cues} <= {"left", "right"}
            assert [lab for _, _, lab in cues] == [m for _, m, _ in cues]
            np.testing.assert_allclose(mts, [t for t, _, _ in cues], rtol=0, atol=1e-9)
            assert cues[0][0] == pytest.approx(t0 + 3.0, abs=1e-9)
            assert all((t - t0) * 250 == pytest.approx(round((t - t0) * 250)) for t, _, _ in cues)
        finally:
            eeg.close_stream()
            markers.close_stream()


def test_live_set_condition_and_push_marker() -> None:
    name = _name()
    seen: list[tuple[float, str, str]] = []
    with SyntheticOutlet(
        "unicorn",
        name=name,
        seed=1,
        paradigm="observation-rest",
        cue_listener=lambda *a: seen.append(a),
    ) as out:
        markers = _inlet(f"{name}-markers")
        try:
            t0 = local_clock()
            out.step(t0)
            out.step(t0 + 1.0)
            out.set_condition("observe", marker="observe", t=t0 + 1.5)
            assert out.condition == "rest"  # not reached yet
            out.step(t0 + 1.49)
            assert out.condition == "rest"
            out.step(t0 + 2.0)
            assert out.condition == "observe"
            assert seen == [(pytest.approx(t0 + 1.5, abs=1e-9), "observe", "observe")]
            stamp = out.push_marker("app-event", t=t0 + 2.5)
            assert stamp == t0 + 2.5
            mk, mts = _pull(markers, 2)
            assert [m[0] for m in mk] == ["observe", "app-event"]
            np.testing.assert_allclose(mts, [t0 + 1.5, t0 + 2.5], atol=1e-9)
            with pytest.raises(UnknownNameError, match="Unknown condition 'dance'"):
                out.set_condition("dance")
        finally:
            markers.close_stream()


def test_auto_cues_can_be_paused() -> None:
    with SyntheticOutlet(
        name=_name(), seed=2, paradigm="imagery-left-right", auto_cues=True
    ) as out:
        t0 = local_clock()
        out.step(t0)
        out.step(t0 + 3.5)  # the first cue (3 s) has switched the brain
        assert out.condition in {"imagine_left", "imagine_right"}
        out.set_auto_cues(False)
        out.step(t0 + 30.0)
        assert out.condition == "rest"
        out.set_auto_cues(True)
        out.step(t0 + 33.5)  # 2 s rest + 1 s fixation after re-enabling
        assert out.condition in {"imagine_left", "imagine_right"}


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="auto_cues=True needs a paradigm"):
        SyntheticOutlet(name=_name(), auto_cues=True)
    with pytest.raises(
        ConfigError, match=r"chunk_s must be a number of seconds in \(0, 1\], got 0"
    ):
        SyntheticOutlet(name=_name(), chunk_s=0)
    with pytest.raises(UnknownNameError, match="Unknown headset 'nope'"):
        SyntheticOutlet("nope", name=_name())


def test_background_thread_streams_in_real_time() -> None:
    name = _name()
    out = SyntheticOutlet("muse", name=name, seed=0, chunk_s=0.02)
    eeg = _inlet(name)
    try:
        assert out.wait_for_consumers(5.0)
        out.start()
        assert out.running
        time.sleep(0.5)
        out.stop()
        assert not out.running and out.error is None
        n = out.n_pushed
        assert 0.3 * 256 < n < 1.5 * 256
        _, stamps = _pull(eeg, n)
        assert len(stamps) == n
        np.testing.assert_allclose(np.diff(stamps), 1 / 256, atol=1e-9)
    finally:
        eeg.close_stream()
        out.close()
    with pytest.raises(Exception, match="is closed"):
        out.step()


def test_cli_prints_streams_and_headset_warning(capsys: pytest.CaptureFixture[str]) -> None:
    name = _name()
    code = main(
        [
            "stream",
            "synthetic",
            "--headset",
            "muse",
            "--name",
            name,
            "--seed",
            "1",
            "--duration",
            "0.1",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert f"EEG stream '{name}': 4 ch @ 256 Hz" in text
    assert f"Marker stream '{name}-markers'" in text
    assert "warning: muse: no sensors over the sensorimotor cortex" in text


def test_cli_reports_bad_headset(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["stream", "synthetic", "--headset", "nope", "--name", _name(), "--duration", "0"])
        == 2
    )
    assert "error: Unknown headset 'nope'. Must be one of:" in capsys.readouterr().err
