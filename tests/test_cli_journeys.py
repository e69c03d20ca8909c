"""The command line as a user runs it: `bci --version`, `bci sys-info`, and `bci demo` reaching
live predictions on a real WebSocket from another process."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

import httpx2 as httpx
import numpy as np
import pytest
import pyxdf
import websockets
from _helpers import free_port

from bci import __version__
from bci.cli import main


def test_version_and_sys_info(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"bci {__version__}"
    assert main(["sys-info", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["liblsl"]["found"] is True and out["liblsl"]["config"].endswith("loopback.cfg")
    assert out["packages"]["pyriemann"] != "not installed"


def test_unknown_headset_is_a_clear_cli_error(capsys):
    assert main(["demo", "--headset", "nope", "--port", "1"]) == 1
    assert "Unknown headset 'nope'. Must be one of:" in capsys.readouterr().err


@pytest.mark.network
@pytest.mark.slow
def test_bci_demo_serves_live_predictions(tmp_path, stream_name):
    port = free_port()
    env = {**os.environ, "BCI_DATA_DIR": str(tmp_path)}
    env.pop("BCI_TOKEN", None)  # the demo generates its token into BCI_DATA_DIR
    proc = subprocess.Popen(
        [sys.executable, "-m", "bci.cli", "demo", "--port", str(port), "--name", stream_name],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        session = None
        while session is None:
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "bci demo did not start within 60 s"
            try:
                sessions = httpx.get(f"{base}/sessions", timeout=1).json()
                token = (tmp_path / "token").read_text().strip()
                session = sessions[0] if sessions and sessions[0]["model"] else None
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert session["id"] == "1" and session["stream"]["name"] == stream_name
        assert session["model"]["cv_score"] > 0.75

        assert oct((tmp_path / "token").stat().st_mode & 0o777) == "0o600"
        auth = {"Authorization": f"Bearer {token}"}

        async def listen():
            url = f"ws://127.0.0.1:{port}/ws/sessions/1?token={token}"
            async with websockets.connect(url) as ws:
                preds = []
                while len(preds) < 16:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if msg["type"] == "prediction":
                        preds.append(msg)
                return preds

        preds = asyncio.run(listen())
        assert {p["label"] for p in preds} <= {"left", "right"}
        assert preds[-1]["model_id"] == session["model"]["id"]
        r = httpx.put(
            f"{base}/synthetic/{stream_name}/condition",
            json={"condition": "imagine_left"},
            headers=auth,
        )
        assert r.json() == {"name": stream_name, "condition": "imagine_left", "auto_cues": False}
        time.sleep(0.2)
        listing = httpx.get(f"{base}/synthetic").json()
        assert listing == [{"name": stream_name, "condition": "imagine_left", "auto_cues": False}]
        r = httpx.put(
            f"{base}/synthetic/{stream_name}/condition", json={"condition": "fly"}, headers=auth
        )
        assert r.status_code == 422 and "Unknown condition 'fly'" in r.json()["detail"]
        assert httpx.get(f"{base}/").status_code == 200  # the dashboard
        n_pushed = httpx.get(f"{base}/sessions/1").json()["counts"]["samples"]
    finally:
        proc.kill()  # SIGKILL mid-recording: no chance to close the file
        out, _ = proc.communicate(timeout=15)
    assert f"ws://127.0.0.1:{port}/ws/sessions/1?token={token}" in out
    assert f"/?session=1#token={token}" in out
    assert proc.returncode == -9
    # the session's recording (on by default) loads up to what was flushed
    (rec,) = (tmp_path / "recordings").glob("session-1-*.xdf")
    streams, _ = pyxdf.load_xdf(str(rec), dejitter_timestamps=False)
    eeg = next(st for st in streams if st["info"]["type"][0] == "EEG")
    assert len(eeg["time_stamps"]) >= n_pushed - 250  # at most a second short
    assert np.all(np.diff(eeg["time_stamps"]) > 0)
    kinds = {st["info"]["type"][0] for st in streams}
    assert {"EEG", "Markers", "Predictions"} <= kinds
