"""Browser fixtures: the real service with the synthetic headset, and Debian's headless chromium.

The service runs in this process (uvicorn in a thread, as ``bci demo`` serves it) on a free
port on 127.0.0.1; Playwright drives ``/usr/bin/chromium`` (``apt-get install chromium``),
never a browser downloaded by ``playwright install``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _helpers import TEST_TOKEN, LiveServer

from bci.api import create_app
from bci.config import load_settings
from bci.online.demo import setup_demo
from bci.online.manager import SessionManager

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
class DemoService:
    """What the tests need to know about the running service."""

    def __init__(self, server: LiveServer, manager: SessionManager, stream_name: str) -> None:
        self.server = server
        self.manager = manager
        self.stream_name = stream_name
        self.url = server.url

    def page(self, path: str, token: str | None = TEST_TOKEN) -> str:
        """URL of a dashboard page with the token in its fragment, as `bci demo` prints it."""
        return f"{self.url}{path}" + (f"#token={token}" if token else "")

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
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("bci-browser"), log_level="WARNING", token=TEST_TOKEN
    )
    manager = SessionManager(settings)
    stream_name = f"bci-browser-{uuid.uuid4().hex[:8]}"

    def startup(mgr: SessionManager) -> None:
        setup_demo(mgr, stream_name=stream_name, seed=7)

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
