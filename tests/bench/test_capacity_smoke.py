"""`bench/capacity.py --quick` at a tiny grid: real `bci serve`, LSL outlets, WebSocket clients."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.network, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_capacity_quick_smoke(tmp_path):
    """The bench's default picows clients (a second third-party parser of the service's
    frames beside the API tests' websockets) see every decision; with ``--services 2`` each
    session lives on its own service and its clients find it there."""
    out = tmp_path / "capacity.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [
        "--quick",
        "--n",
        "2",
        "--m",
        "4",
        "--publishers",
        "1",
        "--services",
        "2",
        "--json",
        str(out),
    ]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "capacity.py"), *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = json.loads(out.read_text())
    (point,) = res["points"]
    assert (point["n_sessions"], point["n_clients"], point["services"]) == (2, 4, 2)
    # 2 sessions x 16 decisions/s, counted by the service itself
    assert 28 <= point["decisions_per_s"] <= 34
    # 4 clients each see every decision of their session: 4 x 16/s over the measured seconds
    assert 56 <= point["messages_per_s"] <= 66
    assert point["ws_messages_dropped"] == 0 and point["client_errors"] == 0
    assert point["samples_lost"] == 0 and point["samples_pushed"] > 2 * 250 * 5
    lat = point["latency_ms"]
    assert lat["n"] > 100 and 0 < lat["p50"] <= lat["p99"] < 1000
    assert point["cpu_percent"]["service"] > 0
    assert "largest N holding" in proc.stdout
