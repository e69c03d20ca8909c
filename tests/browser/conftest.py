"""Browser fixtures: the real service with the synthetic headset, and Debian's headless chromium.

The service runs in this process (uvicorn in a thread, as ``bci demo`` serves it) on a free
port on 127.0.0.1; Playwright drives ``/usr/bin/chromium`` (``apt-get install chromium``),
never a browser downloaded by ``playwright install``.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bci.api import create_app
from bci.api.server import make_server
from bci.config import load_settings
from bci.online.engine import Engine
from bci.online.manager import SessionManager
from bci.online.monitor import SignalMonitor

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives a real headless chromium against a running service"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "Playwright for Python is not installed (pip install playwright)"
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


# ----------------------------------------------------------------------------- the service
class MonitoredEngine(Engine):
    """The engine plus a signal monitor per session, stepped in the engine thread.

    Used only while ``DecodingSession`` does not own a ``signal_monitor`` itself.
    """

    def __init__(self) -> None:
        super().__init__()
        self.monitors: dict[str, SignalMonitor] = {}

    def step(self) -> int:
        n = super().step()
        for s in self.sessions():
            if hasattr(s, "signal_monitor") or s.state != "running":
                continue
            mon = self.monitors.get(s.id)
            if mon is None or mon.session is not s:
                mon = self.monitors[s.id] = SignalMonitor(s)
            mon.maybe_emit(s.clock())
        return n


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving ``app`` from a thread on a free port of 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = _free_port()
        self.server = make_server(app, "127.0.0.1", self.port, "warning")
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start (see the log above)")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _pipelines_available() -> bool:
    try:
        from bci.datasets import make_epochs  # noqa: F401
        from bci.decoders import get_pipeline  # noqa: F401
    except ImportError:
        return False
    return True


def _fallback_demo(manager: SessionManager, stream_name: str, seed: int) -> Any:
    """``setup_demo`` without the named pipelines: same headset, a plain pyRiemann decoder."""
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from bci.decoders.model import Model
    from bci.paradigms import get_paradigm
    from bci.signal.filters import filter_continuous
    from bci.streams.synthetic import simulate_run
    from bci.streams.synthetic_outlet import SyntheticOutlet

    outlet = SyntheticOutlet(
        "openbci-cyton", name=stream_name, seed=seed, paradigm="imagery-left-right", auto_cues=True
    )
    outlet.start()
    manager.hosted[stream_name] = outlet
    par = get_paradigm("imagery-left-right")
    run = simulate_run(par, trials_per_class=20, seed=seed + 1000)
    band = (8.0, 30.0)
    filt = filter_continuous(run.data, run.sfreq, *band)
    a, b = round(par.timing.tmin * run.sfreq), round(par.timing.tmax * run.sfreq)
    X = np.stack([filt[:, s + a : s + b] for s, _ in run.events])
    y = np.array([label for _, label in run.events])
    pipe = make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression())
    model = Model(
        pipeline=pipe.fit(X, y),
        pipeline_name="ts-lr",
        classes=[str(c) for c in pipe.classes_],
        ch_names=list(run.ch_names),
        sfreq=run.sfreq,
        band=band,
        window_s=X.shape[2] / run.sfreq,
        paradigm=par.name,
    )
    manager.add_model(model)
    source = manager.open_lsl_source(name=stream_name)
    markers = manager.open_marker_source(f"{stream_name}-markers", timeout=2.0)
    return manager.create(source, model=model, pipeline="ts-lr", marker_sources=[markers])


class DemoService:
    """What the tests need to know about the running service."""

    def __init__(self, server: LiveServer, manager: SessionManager, stream_name: str) -> None:
        self.server = server
        self.manager = manager
        self.stream_name = stream_name
        self.url = server.url

    def has_route(self, method: str, path: str) -> bool:
        """Whether the app documents ``METHOD path`` (path parameters compared by position).

        Read from the OpenAPI document, as the dashboard itself does.
        """
        import re

        def norm(p: str) -> str:
            return re.sub(r"\{[^}]+\}", "{}", p)

        paths = self.server.app.openapi()["paths"]
        return any(norm(p) == norm(path) and method.lower() in ops for p, ops in paths.items())


@pytest.fixture(scope="module")
def demo_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoService]:
    """`bci demo` in-process: synthetic headset on LSL, a calibrated model, session 1."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("bci-browser"), log_level="WARNING")
    manager = SessionManager(settings, engine=MonitoredEngine())
    stream_name = f"bci-browser-{uuid.uuid4().hex[:8]}"

    def startup(mgr: SessionManager) -> None:
        if _pipelines_available():
            from bci.online.demo import setup_demo

            setup_demo(mgr, stream_name=stream_name, seed=7)
        else:
            _fallback_demo(mgr, stream_name, seed=7)

    app = create_app(settings, manager, on_startup=startup)
    server = LiveServer(app)
    try:
        yield DemoService(server, manager, stream_name)
    finally:
        server.stop()


# ----------------------------------------------------------------------------- the browser
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Console:
    """Console errors and uncaught exceptions of one page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            self.errors.append(f"console: {msg.text} ({msg.location.get('url', '')})")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def console(page: Any) -> Console:
    return Console(page)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
