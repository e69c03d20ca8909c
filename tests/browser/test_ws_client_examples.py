"""The README's WebSocket client examples (docs/clients) run against the live service."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import TEST_TOKEN

pytestmark = pytest.mark.network

CLIENTS = Path(__file__).resolve().parents[2] / "docs" / "clients"
N = 12


def _check_output(out: str) -> None:
    lines = out.splitlines()
    assert re.fullmatch(r"session 1 decoding stream \S+", lines[0])
    preds = [ln for ln in lines if ln.startswith("t=")]
    assert len(preds) == N
    pattern = r"t=\d+\.\d{3} (left|right) left=0\.\d\d right=0\.\d\d x=-?\d\.\d\d "
    pattern += r"latency=\d+\.\d ms model=m-\w+"
    assert all(re.fullmatch(pattern, ln) for ln in preds), preds[:3]
    assert any(re.fullmatch(r"event trial_end stamped at LSL t=\d+\.\d{3}", ln) for ln in lines)


def _client_loc(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_python_client_example(demo_service):
    script = CLIENTS / "ws_client.py"
    assert _client_loc(script) < 50
    url = demo_service.url.replace("http://", "ws://") + "/ws/sessions/1"
    proc = subprocess.run(
        [sys.executable, str(script), url, str(N)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "BCI_TOKEN": TEST_TOKEN},  # sent as a subprotocol entry
    )
    assert proc.returncode == 0, proc.stderr
    _check_output(proc.stdout)
    values = [m.value for m in demo_service.manager.get("1").markers]
    assert "trial_end" in values


def test_javascript_client_example(demo_service):
    script = CLIENTS / "ws_client.js"
    assert _client_loc(script) < 50
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the JavaScript example runs in browsers and Node >= 22")
    major = int(
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout[1:].split(".")[0]
    )
    flags = ["--experimental-websocket"] if major < 22 else []
    if major < 20:
        pytest.skip(f"Node {major} has no WebSocket; the example needs Node >= 22 (20 with a flag)")
    url = demo_service.url.replace("http://", "ws://") + f"/ws/sessions/1?token={TEST_TOKEN}"
    proc = subprocess.run(
        [node, *flags, str(script), url, str(N)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    _check_output(proc.stdout)
