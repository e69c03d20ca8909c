"""API fixtures: a real LSL outlet on loopback, a fitted model, a TestClient, a real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from _helpers import AUTH, TEST_TOKEN, LiveServer
from fastapi.testclient import TestClient
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from bci.api import create_app
from bci.config import load_settings
from bci.decoders.model import Model
from bci.online.manager import SessionManager
from bci.streams.lsl import get_pylsl, local_clock, make_eeg_info

CH = ["FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4", "Pz"]
SFREQ = 250.0


class NoiseOutlet:
    """Publishes 8 ch x 250 Hz noise on LSL with exact per-sample timestamps, from a thread.

    ``fmt`` and ``units`` choose the channel format and declared unit; ``scale`` is the value
    of one microvolt in those units (1e-6 for volts).
    """

    def __init__(
        self,
        name: str,
        chunk: int = 8,
        fmt: str = "float32",
        units: str = "microvolts",
        scale: float = 1.0,
        source_id: str | None = None,
    ) -> None:
        pylsl = get_pylsl()
        self.name = name
        sid = f"src-{name}" if source_id is None else source_id
        info = make_eeg_info(name, CH, SFREQ, sid, units=units, fmt=fmt)
        self.outlet = pylsl.StreamOutlet(info)
        self.dtype = np.dtype({"float32": "f4", "double64": "f8"}.get(fmt, fmt))
        self.scale = scale
        self.chunk = chunk
        self.rng = np.random.default_rng(0)
        self.paused = threading.Event()
        self._stop = threading.Event()
        self.n_pushed = 0
        self.push_times: dict[int, float] = {}
        self._t0 = local_clock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = local_clock()
            due = int((now - self._t0) * SFREQ)
            if self.paused.is_set():
                # keep the sample clock running so a pause looks like a vanished stream
                self.n_pushed = max(self.n_pushed, due)
            elif due - self.n_pushed >= self.chunk:
                n = due - self.n_pushed
                ts = self._t0 + (self.n_pushed + np.arange(n)) / SFREQ
                data = self.rng.standard_normal((n, len(CH))) * 10 * self.scale
                data = (np.round(data) if self.dtype.kind == "i" else data).astype(self.dtype)
                self.outlet.push_chunk(data, ts.tolist())
                self.n_pushed += n
            time.sleep(0.002)

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(2)
        del self.outlet


@pytest.fixture
def noise_outlet(stream_name: str) -> Iterator[NoiseOutlet]:
    o = NoiseOutlet(stream_name)
    yield o
    o.close()


@pytest.fixture
def make_outlet() -> Iterator[Callable[..., NoiseOutlet]]:
    """``make_outlet(name, fmt=..., units=..., scale=..., source_id=...)``: closed at the end."""
    made: list[NoiseOutlet] = []

    def make(name: str, **kwargs: Any) -> NoiseOutlet:
        made.append(NoiseOutlet(name, **kwargs))
        return made[-1]

    yield make
    for o in made:
        o.close()


@pytest.fixture
def fitted_model() -> Model:
    rng = np.random.default_rng(1)
    n_t = int(0.5 * SFREQ)
    X = rng.standard_normal((30, len(CH), n_t))
    X[15:, 2] *= 2
    y = np.array(["left"] * 15 + ["right"] * 15)
    pipe = make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()).fit(X, y)
    return Model(
        pipeline=pipe,
        pipeline_name="ts-lr",
        classes=list(pipe.classes_),
        ch_names=CH,
        sfreq=SFREQ,
        band=(8.0, 30.0),
        window_s=0.5,
    )


@pytest.fixture
def settings(tmp_path):
    return load_settings(
        data_dir=tmp_path, stall_timeout_s=0.3, resolve_timeout=1.0, token=TEST_TOKEN
    )


@pytest.fixture
def manager(settings, fitted_model) -> Iterator[SessionManager]:
    m = SessionManager(settings)
    m.add_model(fitted_model)
    yield m
    m.close()


@pytest.fixture
def client(settings, manager) -> Iterator[TestClient]:
    """A TestClient that sends the token (as every client of the service must)."""
    app = create_app(settings, manager)
    with TestClient(app, base_url="http://127.0.0.1", headers=AUTH) as c:
        yield c


@pytest.fixture
def anon_client(client) -> TestClient:
    """The same app, without the token."""
    return TestClient(client.app, base_url="http://127.0.0.1")


@pytest.fixture
def live_server(settings, manager) -> Iterator[LiveServer]:
    srv = LiveServer(create_app(settings, manager))
    yield srv
    srv.stop()
