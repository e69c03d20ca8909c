"""What the service benches share: a real `bci serve` subprocess, its token, a model, stats.

The benches talk to the service only through its public HTTP/WebSocket API and LSL, so they
measure what a user gets and keep working while the internals change.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LSL_CFG = ROOT / "configs" / "lsl" / "loopback.cfg"
# Before anything loads liblsl, in this process and every process it starts.
os.environ.setdefault("LSLAPICFG", str(LSL_CFG))

HEADSET = "openbci-cyton"  # 8 ch, 250 Hz


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stats(values: Any) -> dict[str, float]:
    """p50/p99/max/mean of ``values`` (NaN for an empty sample)."""
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return {"n": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    return {
        "n": int(a.size),
        "p50": float(np.percentile(a, 50)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }


def model_bytes(seed: int = 1007) -> tuple[bytes, list[str], float]:
    """A ts-lr decoder fitted on a simulated calibration run of the synthetic headset.

    Returns the ``.bcimodel`` file (for ``POST /models``), the channel names and the rate.
    """
    from bci.decoders.store import dump_model
    from bci.online.demo import calibrate_synthetic

    model = calibrate_synthetic(HEADSET, seed)
    return dump_model(model), list(model.ch_names), float(model.sfreq)


def synthetic_eeg(seconds: float, seed: int) -> np.ndarray:
    """Realistic synthetic EEG of the bench headset, shape (n_times, n_channels) float32 µV."""
    from bci.streams.synthetic import simulate_run

    run = simulate_run("imagery-left-right", trials_per_class=2, headset=HEADSET, seed=seed)
    n = int(seconds * run.sfreq)
    data = np.asarray(run.data, dtype=np.float32).T
    reps = int(np.ceil(n / data.shape[0]))
    return np.ascontiguousarray(np.tile(data, (reps, 1))[:n])


class Service:
    """A real ``bci serve`` subprocess on a free loopback port with its own data folder.

    A bearer token is always set: ``BCI_TOKEN`` from the environment, or a fresh one passed to
    the service; it is sent on every request (``Authorization``) and WebSocket (``?token=``).

    Parameters
    ----------
    env : dict
        Extra ``BCI_*`` settings for the service (e.g. ``{"BCI_RECORD": "false"}``).
    data_dir : path or None
        ``BCI_DATA_DIR`` (kept); a temporary folder (removed on close) when None.
    token : str or None
        The bearer token; ``BCI_TOKEN`` or a fresh one when None.
    code : path or None
        The source tree the service runs from (another checkout, to compare two versions
        in one run); this one when None. The LSL configuration is always this one's.
    """

    def __init__(
        self,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        token: str | None = None,
        code: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.token = token or os.environ.get("BCI_TOKEN") or secrets.token_urlsafe(24)
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="bci-bench-")
        self.data_dir = Path(data_dir or self._tmp.name)  # type: ignore[union-attr]
        self.log_path = self.data_dir / f"service-{self.port}.log"
        full_env = {
            **os.environ,
            "LSLAPICFG": os.environ["LSLAPICFG"],
            "BCI_DATA_DIR": str(self.data_dir),
            "BCI_TOKEN": self.token,
            "BCI_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(code or ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
            **(env or {}),
        }
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bci.cli", "serve", "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bci serve did not start:\n{self.log()}")
            try:
                if self.http.get("/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        return int(self.proc.pid)

    def ws_url(self, session_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/sessions/{session_id}?token={self.token}"

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def upload_model(self, data: bytes) -> str:
        r = self.http.post(
            "/models", content=data, headers={"content-type": "application/octet-stream"}
        )
        if r.status_code not in (200, 201):
            raise SystemExit(f"POST /models answered {r.status_code}: {r.text}")
        return str(r.json()["id"])

    def create_session(self, name: str, model_id: str | None, **extra: Any) -> dict[str, Any]:
        body = {"name": name, "model_id": model_id, "timeout": 5, **extra}
        r = self.http.post("/sessions", json=body)
        if r.status_code != 201:
            raise SystemExit(f"POST /sessions {name!r} answered {r.status_code}: {r.text}")
        out: dict[str, Any] = r.json()
        return out

    def sessions(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.http.get("/sessions").json()
        return out

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.http.close()
        self._log.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
