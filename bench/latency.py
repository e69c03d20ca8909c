"""End-to-end latency: LSL push of a window's last sample -> its prediction on a WebSocket.

Starts `bci demo` in a subprocess (synthetic headset, calibrated model, service), publishes a
second 8-channel 250 Hz stream from this process one sample at a time at its due time, binds a
session to it with the demo's model, and reads predictions on a real WebSocket. The latency of
a prediction is (LSL clock when the client received it) - (LSL clock when the sample at the
window's end was pushed). Same machine, so both sides read the same clock.

    .venv/bin/python bench/latency.py [--n 1000] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx2 as httpx
import numpy as np
import websockets

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("LSLAPICFG", str(ROOT / "configs" / "lsl" / "loopback.cfg"))

from bci.headsets import get_headset  # noqa: E402
from bci.streams.lsl import get_pylsl, local_clock, make_eeg_info  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SamplePusher(threading.Thread):
    """Pushes one sample at a time when it is due; remembers when each was pushed."""

    def __init__(self, name: str, ch_names: list[str], sfreq: float, seconds: float) -> None:
        super().__init__(daemon=True)
        self.sfreq = sfreq
        self.n_total = int(seconds * sfreq)
        self.outlet = get_pylsl().StreamOutlet(make_eeg_info(name, ch_names, sfreq, name))
        self.push_clock = np.full(self.n_total, np.nan)
        self.rng = np.random.default_rng(0)
        self.n_ch = len(ch_names)
        self.t0 = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        self.t0 = local_clock() + 0.05
        data = (self.rng.standard_normal((self.n_total, self.n_ch)) * 10).astype(np.float32)
        for i in range(self.n_total):
            if self.stop.is_set():
                return
            due = self.t0 + i / self.sfreq
            while (d := due - local_clock()) > 0:
                time.sleep(min(d, 0.001))
            self.outlet.push_sample(data[i], due)
            self.push_clock[i] = local_clock()


async def collect(url: str, n: int) -> list[tuple[dict, float]]:
    out = []
    async with websockets.connect(url) as ws:
        while len(out) < n:
            msg = json.loads(await ws.recv())
            if msg["type"] == "prediction":
                out.append((msg, local_clock()))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="predictions to measure")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    port = free_port()
    tag = uuid.uuid4().hex[:8]
    token = f"bench-token-{uuid.uuid4().hex}"  # the demo's API token (BCI_TOKEN)
    auth = {"Authorization": f"Bearer {token}"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "bci.cli", "demo", "--port", str(port), "--name", f"demo-{tag}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "BCI_TOKEN": token},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        model_id = None
        while model_id is None:
            if demo.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bci demo did not start:\n{demo.stdout.read()}")  # type: ignore[union-attr]
            try:
                sessions = httpx.get(f"{base}/sessions", timeout=1).json()
                if sessions and sessions[0]["model"]:
                    model_id = sessions[0]["model"]["id"]
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        h = get_headset("openbci-cyton")
        seconds = args.n / 16 + 10
        pusher = SamplePusher(f"bench-{tag}", list(h.ch_names), h.sfreq, seconds)
        pusher.start()
        r = httpx.post(
            f"{base}/sessions",
            json={"name": f"bench-{tag}", "model_id": model_id},
            headers=auth,
            timeout=10,
        )
        r.raise_for_status()
        sid = r.json()["id"]
        url = f"ws://127.0.0.1:{port}/ws/sessions/{sid}?token={token}"
        preds = asyncio.run(collect(url, args.n))
        pusher.stop.set()
        lat, server_lat, compute = [], [], []
        for msg, recv in preds:
            i = round((msg["t"] - pusher.t0) * pusher.sfreq)
            pushed = pusher.push_clock[i]
            lat.append((recv - pushed) * 1e3)
            server_lat.append(msg["latency_ms"])
            compute.append(msg["compute_ms"])
        status = httpx.get(f"{base}/sessions/{sid}").json()
    finally:
        demo.terminate()
        demo.wait(10)

    def stats(v: list[float]) -> dict[str, float]:
        a = np.asarray(v)
        return {
            "p50": float(np.percentile(a, 50)),
            "p99": float(np.percentile(a, 99)),
            "max": float(a.max()),
            "mean": float(a.mean()),
        }

    res = {
        "n_predictions": len(lat),
        "push_to_websocket_ms": stats(lat),
        "sample_time_to_decision_ms": stats(server_lat),
        "decode_compute_ms_per_window": stats(compute),
        "dropped_samples": status["counts"]["dropped"],
        "model": status["model"]["pipeline"],
        "window": f"{len(h.ch_names)} ch x {int(status['window_s'] * h.sfreq)} samples",
        "cpu_count": os.cpu_count(),
    }
    print(
        f"{res['n_predictions']} predictions, {res['model']}, {res['window']}, "
        f"step {status['step_s']:.4f} s, dropped samples {res['dropped_samples']}"
    )
    print(f"{'measure':<34}{'p50':>9}{'p99':>9}{'max':>9}  (ms)")
    for key in (
        "push_to_websocket_ms",
        "sample_time_to_decision_ms",
        "decode_compute_ms_per_window",
    ):
        s = res[key]
        print(f"{key:<34}{s['p50']:>9.2f}{s['p99']:>9.2f}{s['max']:>9.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
