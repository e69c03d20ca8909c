"""The command inbox: changes from other threads run on the thread that steps the session."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import pyxdf

from bci.config import load_settings
from bci.errors import (
    CommandTimeoutError,
    NotFoundError,
    SessionStateError,
    SignalError,
)
from bci.online.demo import calibrate_synthetic
from bci.online.manager import SessionManager
from bci.online.messages import Prediction
from bci.online.neurofeedback import MuSuppressionFeed
from bci.online.recording import SessionRecording
from bci.online.session import DecodingSession
from bci.online.sources import ArraySource
from bci.streams.synthetic import simulate_run


@pytest.fixture(scope="module")
def run():
    return simulate_run("imagery-left-right", trials_per_class=6, seed=11)


@pytest.fixture(scope="module")
def model():
    return calibrate_synthetic("openbci-cyton", seed=12, trials_per_class=10)


def test_a_command_waits_for_the_next_step(run):
    src = ArraySource(run.data, run.sfreq, run.ch_names, chunk_size=25)
    s = DecodingSession("1", src, None, clock=lambda: 0.0)
    order = []
    f1 = s.submit(lambda s: order.append("a") or "first")
    f2 = s.submit(lambda s: order.append("b") or s.raw.n_written)
    assert not f1.done() and order == []
    s.step()
    assert (f1.result(0), f2.result(0)) == ("first", 0)  # applied before the pull
    assert order == ["a", "b"] and s.raw.n_written == 25
    bad = s.submit(lambda s: s.add_stage(MuSuppressionFeed(s.ctx, channels=["C3", "C9"])))
    s.step()
    with pytest.raises(SignalError, match="C9"):
        bad.result(0)
    assert s.stage(MuSuppressionFeed) is None and s.state == "running"


def test_manager_applies_commands_itself_when_no_engine_runs(run, tmp_path):
    manager = SessionManager(load_settings(data_dir=tmp_path, record=False), clock=lambda: 5.0)
    try:
        src = ArraySource(run.data, run.sfreq, run.ch_names, chunk_size=250)
        s = manager.create(src)
        assert not manager.engine.running
        m = manager.add_event(s.id, "video_onset")  # no engine: applied here, at once
        assert (m.t, m.value, m.source) == (5.0, "video_onset", "http")
        assert manager.events(s.id) == [m]
        st = manager.start_recording(s.id)
        assert st["recording"]["active"] and s.stage(SessionRecording) is not None
        with pytest.raises(SessionStateError, match="already recording"):
            manager.start_recording(s.id)
        assert manager.stop_recording(s.id)["recording"] is None
        with pytest.raises(SessionStateError, match=f"Session {s.id} is not recording"):
            manager.stop_recording(s.id)
        with pytest.raises(NotFoundError, match="Mu suppression is off for session 1"):
            manager.mu_suppression_status(s.id)
        manager.enable_mu_suppression(s.id, {"window_s": 1.0, "step_s": 0.25})
        with pytest.raises(SessionStateError, match=r"holds 0\.0 s of signal"):
            manager.set_mu_baseline(s.id, 2.0)
        for _ in range(4):
            manager.engine.step()
        assert manager.set_mu_baseline(s.id, 2.0)["has_baseline"]
        assert manager.disable_mu_suppression(s.id)["has_baseline"]
        assert s.stage(MuSuppressionFeed) is None
    finally:
        manager.close()


class _StuckSource(ArraySource):
    """Blocks in pull() while ``stuck`` is set: an engine that cannot reach the inbox."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stuck = threading.Event()

    def pull(self):
        while self.stuck.is_set():
            time.sleep(0.01)
        return super().pull()


def test_a_stuck_engine_gives_a_clear_timeout(run, tmp_path):
    manager = SessionManager(load_settings(data_dir=tmp_path, record=False), command_timeout=0.3)
    src = _StuckSource(run.data, run.sfreq, run.ch_names, chunk_size=5)
    s = manager.create(src)
    manager.engine.start()
    try:
        src.stuck.set()
        time.sleep(0.05)  # the engine is now inside the session's step
        with pytest.raises(CommandTimeoutError, match=r"Session 1 did not apply a command"):
            manager.add_event(s.id, "late")
        src.stuck.clear()
        assert manager.add_event(s.id, "on time").value == "on time"
        assert [m.value for m in manager.events(s.id)] == ["on time"]  # the late one dropped
    finally:
        src.stuck.clear()
        manager.close()


def _open_xdf_files() -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.endswith(".xdf"):
            out.append(target)
    return out


def test_racing_commands_lose_nothing(run, model, tmp_path):
    """Threads race recording start/stop, mu-suppression changes and events while the
    engine steps the session: no exception but the documented refusals, every window
    decoded once, no recording file left open, every file readable."""
    t = {"now": 0.0}
    manager = SessionManager(load_settings(data_dir=tmp_path, record=False), clock=lambda: t["now"])
    src = ArraySource(run.data, run.sfreq, run.ch_names, chunk_size=20)
    s = manager.create(src, model=model, step_s=0.125)
    preds: list[Prediction] = []
    s.subscribe(lambda m: preds.append(m) if isinstance(m, Prediction) else None)
    expected_refusals = (SessionStateError, NotFoundError)
    errors: list[BaseException] = []
    counts = {"refused": 0, "done": 0}
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        actions = [
            lambda: manager.start_recording(s.id),
            lambda: manager.stop_recording(s.id),
            lambda: manager.enable_mu_suppression(s.id, {"window_s": 1.0, "step_s": 0.25}),
            lambda: manager.set_mu_baseline(s.id, 1.0),
            lambda: manager.mu_suppression_status(s.id),
            lambda: manager.disable_mu_suppression(s.id),
            lambda: manager.add_event(s.id, f"ev{seed}"),
            lambda: manager.session_status(s.id),
        ]
        for _ in range(25):
            try:
                rnd.choice(actions)()
                key = "done"
            except expected_refusals:
                key = "refused"
            except BaseException as exc:  # anything else is a bug
                errors.append(exc)
                return
            with lock:
                counts[key] += 1

    manager.engine.start()
    try:
        deadline = time.monotonic() + 30
        while not preds and time.monotonic() < deadline:  # race while decisions flow
            time.sleep(0.005)
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert not errors, errors
        assert counts["done"] + counts["refused"] == 200 and counts["done"] > 50
        deadline = time.monotonic() + 60
        while not src.done and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        try:
            manager.stop_recording(s.id)
        except SessionStateError:
            pass
        assert src.done
    finally:
        manager.close()
    assert s.state == "stopped" and s.error is None and not s.warnings, s.warnings
    # every window decoded exactly once, in order
    n_times = run.data.shape[1]
    step = 0.125 * run.sfreq  # 31.25 samples: decisions are scheduled by sample count
    want = [model.n_times + round(k * step) for k in range(n_times)]
    want = [e for e in want if e <= n_times]
    n_expected = len(want)
    assert [p.index for p in preds] == list(range(1, n_expected + 1))
    ends = np.round(np.array([p.t for p in preds]) * run.sfreq).astype(int) + 1
    np.testing.assert_array_equal(ends, want)
    # no orphan recording: nothing open, every file complete and readable
    assert _open_xdf_files() == []
    files = sorted(Path(tmp_path, "recordings").glob("*.xdf"))
    assert files, "at least one recording started"
    recorded: list[int] = []
    for f in files:
        streams, _ = pyxdf.load_xdf(str(f))
        by_type = {st["info"]["type"][0]: st for st in streams}
        assert set(by_type) == {"EEG", "Markers", "Predictions"}
        recorded += [json.loads(x[0])["index"] for x in by_type["Predictions"]["time_series"]]
    # each recorded decision is a published one, recorded once
    assert len(set(recorded)) == len(recorded) and set(recorded) <= {p.index for p in preds}
