"""Integration over real LSL on loopback: the synthetic headset in another process -> inlet ->
engine -> decoder. No mock of pylsl."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from bci.config import load_settings
from bci.online.demo import calibrate_synthetic
from bci.online.manager import SessionManager

pytestmark = [pytest.mark.network, pytest.mark.slow]


@pytest.fixture
def synthetic_process(stream_name):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bci.cli",
            "stream",
            "synthetic",
            "--headset",
            "openbci-cyton",
            "--name",
            stream_name,
            "--seed",
            "3",
            "--paradigm",
            "imagery-left-right",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ.copy(),
    )
    yield proc
    proc.terminate()
    proc.wait(10)
    proc.stdout.close()


def test_other_process_stream_is_decoded_live(synthetic_process, stream_name, tmp_path):
    model = calibrate_synthetic("openbci-cyton", seed=5, trials_per_class=20)
    manager = SessionManager(load_settings(data_dir=tmp_path, resolve_timeout=10))
    try:
        src = manager.open_lsl_source(name=stream_name, timeout=10)
        markers = manager.open_marker_source(f"{stream_name}-markers", timeout=5)
        session = manager.create(src, model=model, marker_sources=[markers])
        preds = []
        session.subscribe(lambda m: preds.append(m) if m["type"] == "prediction" else None)
        manager.engine.start()
        deadline = time.monotonic() + 30
        while (len(preds) < 48 or not session.markers) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        manager.close()
    assert synthetic_process.poll() is None, synthetic_process.stdout.read()
    st = session.status()
    assert len(preds) >= 48, st
    assert st["counts"]["dropped"] == 0 and st["counts"]["gaps"] == 0
    ts = np.array([p["t"] for p in preds])
    # decisions every 1/16 s of stream time: 15 or 16 samples at 250 Hz
    assert np.all(np.abs(np.diff(ts) - 1 / 16) <= 1 / 250 + 1e-6)
    assert all(set(p["probabilities"]) == {"left", "right"} for p in preds)
    # the first auto cue (after 2 s of rest + fixation) arrived on the marker stream
    assert session.markers and session.markers[0].value in ("left", "right")
    assert session.markers[0].source == "lsl"
