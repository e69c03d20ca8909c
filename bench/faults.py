"""Faults: what a live session does when its stream misbehaves, and how fast it comes back.

A real `bci serve` subprocess (loopback LSL, recording on) decodes one 8 ch x 250 Hz pylsl
outlet published from this process in chunks of 10 samples at real-time rate; a real
WebSocket client reads the predictions. One after another, with normal streaming between:

- pause 3 s: the headset stops sending (out of range) and resumes;
- outlet recreated: the headset app restarts (outlet destroyed, a new one with the same
  name and source_id 1 s later);
- NaN/Inf burst: 0.2 s of NaN and +Inf on three channels;
- flat 8 s: every channel stuck at a constant (a disconnected amplifier);
- wrong channel count: the app restarts with 6 channels for 3 s, then with 8 again;
- kill -9 mid-recording: the service is SIGKILLed; a new one starts on the same data folder.

Per fault: the time from the first chunk pushed after the stream returns (LSL clock) to the
client having the first prediction whose window ends after it, the samples the service kept
of those pushed during the episode, and predictions made while the fault lasted.

    .venv/bin/python bench/faults.py [--json OUT]              # ~1.5 min
    .venv/bin/python bench/faults.py --partial-evidence        # + the partial-window study
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _service import Service, model_bytes, synthetic_eeg

CHUNK = 10
SFREQ = 250.0


class Publisher(threading.Thread):
    """An outlet whose behaviour can be changed while it streams (the faults)."""

    def __init__(self, name: str, ch_names: list[str]) -> None:
        super().__init__(daemon=True)
        from bci.streams.lsl import get_pylsl, local_clock

        self.pylsl, self.clock = get_pylsl(), local_clock
        self.name, self.ch_names = name, ch_names
        self.data = synthetic_eeg(30.0, 5)
        self.mode = "run"  # run | pause | nan | flat | gone
        self.n_channels = len(ch_names)
        self.n_pushed = 0
        self.returned: tuple[float, float] | None = None  # (push clock, LSL t) after a fault
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.outlet: Any = None
        self.recreate(len(ch_names))

    def recreate(self, n_channels: int | None) -> None:
        """Destroy the outlet; make a new one (same name and source_id) unless None."""
        from bci.streams.lsl import make_eeg_info

        with self._lock:
            self.outlet = None  # liblsl closes it when the last reference goes
            if n_channels is not None:
                self.n_channels = n_channels
                chans = (self.ch_names + [f"X{i}" for i in range(n_channels)])[:n_channels]
                info = make_eeg_info(self.name, chans, SFREQ, f"faults-{self.name}")
                self.outlet = self.pylsl.StreamOutlet(info)

    def set_mode(self, mode: str) -> None:
        with self._lock:
            if self.mode != "run" and mode == "run":
                self.returned = None  # filled by the next chunk pushed
            self.mode = mode

    def run(self) -> None:
        t_first = self.clock() + 0.05
        c = 0
        while not self._stop.is_set():
            due = t_first + (c * CHUNK + CHUNK - 1) / SFREQ
            if (wait := due - self.clock()) > 0:
                time.sleep(wait)
            a = (c * CHUNK) % (self.data.shape[0] - CHUNK)
            with self._lock:
                x = self.data[a : a + CHUNK, : min(self.n_channels, 8)].copy()
                if self.n_channels > x.shape[1]:
                    x = np.hstack([x, x[:, : self.n_channels - x.shape[1]]])
                if self.mode == "nan":
                    x[:, 0], x[:, 1], x[:, 2] = np.nan, np.nan, np.inf
                elif self.mode == "flat":
                    x[:] = 25.0
                if self.outlet is not None and self.mode != "pause":
                    self.outlet.push_chunk(x, due)
                    self.n_pushed += CHUNK
                    if self.mode == "run" and self.returned is None:
                        self.returned = (self.clock(), due)
            c += 1

    def stop(self) -> None:
        self._stop.set()


class Client(threading.Thread):
    """A WebSocket client in its own event loop: (recv clock, message) for every message."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        from bci.streams.lsl import local_clock

        self.url, self.clock = url, local_clock
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self.closed = threading.Event()

    def run(self) -> None:
        import websockets

        async def main() -> None:
            async with websockets.connect(self.url, compression=None, proxy=None) as ws:
                async for text in ws:
                    self.messages.append((self.clock(), json.loads(text)))

        try:
            asyncio.run(main())
        except Exception:  # the service went away (kill -9): the caller reconnects
            pass
        self.closed.set()

    def predictions_after(self, t: float, since: int = 0) -> list[tuple[float, dict[str, Any]]]:
        return [
            (r, m) for r, m in self.messages[since:] if m["type"] == "prediction" and m["t"] >= t
        ]


def wait_first(client: Client, t: float, timeout: float = 20.0) -> float | None:
    """LSL clock when the client had the first prediction whose window ends at or after t."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = client.predictions_after(t)
        if got:
            return got[0][0]
        time.sleep(0.02)
    return None


def episode(
    name: str,
    svc: Service,
    sid: str,
    pub: Publisher,
    client: Client,
    fault: Any,
) -> dict[str, Any]:
    """Run ``fault()`` (which returns when the stream is back), then measure the recovery."""
    status = svc.http.get(f"/sessions/{sid}").json()
    before, before_warnings = status["counts"], status["warnings"]
    n0, k0, t_start = pub.n_pushed, len(client.messages), pub.clock()
    fault()
    while pub.returned is None:
        time.sleep(0.005)
    push_clock, t_back = pub.returned
    first = wait_first(client, t_back)
    time.sleep(1.0)
    after = svc.http.get(f"/sessions/{sid}").json()
    during = [
        m
        for _, m in client.messages[k0:]
        if m["type"] == "prediction" and t_start <= m["t"] < t_back
    ]
    states = [m["state"] for _, m in client.messages[k0:] if m["type"] == "status"]
    pushed = pub.n_pushed - n0
    kept = after["counts"]["samples"] - before["samples"]
    return {
        "fault": name,
        "first_prediction_s": None if first is None else round(first - push_clock, 3),
        "samples_pushed": pushed,
        "samples_kept": kept,
        "predictions_during_fault": len(during),
        "state": " -> ".join(["running", *states]) if states else after["state"],
        "warnings": [w for w in after["warnings"] if w not in before_warnings],
    }


def run_faults() -> list[dict[str, Any]]:
    from bci.headsets import get_headset
    from bci.streams.lsl import local_clock

    model, ch_names, _ = model_bytes()
    assert ch_names == list(get_headset("openbci-cyton").ch_names)
    name = f"faults-{os.urandom(3).hex()}"
    pub = Publisher(name, ch_names)
    pub.start()
    rows = []
    svc = Service()
    try:
        model_id = svc.upload_model(model)
        sid = str(svc.create_session(name, model_id, record=True)["id"])
        client = Client(svc.ws_url(sid))
        client.start()
        if wait_first(client, local_clock()) is None:
            raise SystemExit(f"no prediction from the service:\n{svc.log()}")
        time.sleep(1.0)

        def hold(mode: str, seconds: float) -> Any:
            def fault() -> None:
                pub.set_mode(mode)
                time.sleep(seconds)
                pub.set_mode("run")

            return fault

        def recreate(n_channels: int, seconds: float) -> Any:
            def fault() -> None:
                pub.set_mode("gone")
                pub.recreate(None)
                time.sleep(1.0)
                pub.recreate(n_channels)
                if n_channels != len(ch_names):
                    pub.set_mode("run")  # pushes, but not a return: the stream is wrong
                    time.sleep(seconds)
                    pub.set_mode("gone")
                    pub.recreate(len(ch_names))
                pub.set_mode("run")

            return fault

        plan = [
            ("pause 3 s", hold("pause", 3.0)),
            ("outlet recreated", recreate(len(ch_names), 0)),
            ("NaN/Inf burst 0.2 s", hold("nan", 0.2)),
            ("flat 8 s", hold("flat", 8.0)),
            ("wrong channel count (6) 3 s", recreate(6, 3.0)),
        ]
        for label, fault in plan:
            rows.append(episode(label, svc, sid, pub, client, fault))
            print(_row(rows[-1]), flush=True)
            time.sleep(2.0)
        rows.append(kill9(svc, sid, name, model_id, pub))
        print(_row(rows[-1]), flush=True)
    finally:
        pub.stop()
        svc.close()
    return rows


def kill9(svc: Service, sid: str, name: str, model_id: str, pub: Publisher) -> dict[str, Any]:
    """SIGKILL the service mid-recording; a new one on the same folder decodes again."""
    import pyxdf

    rec = svc.http.get(f"/sessions/{sid}").json()["recording"]
    n_seen = svc.http.get(f"/sessions/{sid}").json()["counts"]["samples"]
    svc.proc.kill()
    svc.proc.wait(10)
    t_kill = pub.clock()
    streams, _ = pyxdf.load_xdf(rec["path"], dejitter_timestamps=False)
    eeg = next(s for s in streams if s["info"]["type"][0] == "EEG")
    kept = len(eeg["time_stamps"])
    again = Service(data_dir=svc.data_dir, token=svc.token)
    try:
        t_up = pub.clock()
        new = again.create_session(name, model_id, record=True)
        t_bound = pub.clock()
        client = Client(again.ws_url(str(new["id"])))
        client.start()
        first = wait_first(client, t_kill)
    finally:
        again.close()
    steps = f"service up {t_up - t_kill:.2f} s, session bound +{t_bound - t_up:.2f} s"
    return {
        "fault": "kill -9 mid-recording",
        "first_prediction_s": None if first is None else round(first - t_kill, 3),
        "samples_pushed": n_seen,
        "samples_kept": kept,
        "predictions_during_fault": 0,
        "state": "restarted",
        "warnings": [f"XDF loads with pyxdf: {kept} of {n_seen} samples the service had", steps],
    }


def _row(r: dict[str, Any]) -> str:
    first = "never" if r["first_prediction_s"] is None else f"{r['first_prediction_s']:.2f} s"
    return (
        f"{r['fault']:<30} {first:>9} {r['samples_kept']:>7}/{r['samples_pushed']:<7} "
        f"{r['predictions_during_fault']:>6}  {r['state']}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=None)
    ap.add_argument("--partial-evidence", action="store_true")
    args = ap.parse_args(argv)
    print(f"{'fault':<30} {'1st pred':>9} {'kept/pushed':>15} {'during':>6}  state")
    rows = run_faults()
    out: dict[str, Any] = {"faults": rows}
    if args.partial_evidence:
        from partial_window import study

        out["partial_window"] = study()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
