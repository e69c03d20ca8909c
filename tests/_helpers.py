"""Helpers shared by test folders: a real uvicorn server in a thread, and polling."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from bci.api.server import make_server

T = TypeVar("T")

#: The API token of every test service (settings fixtures pass it as ``token``).
TEST_TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TEST_TOKEN}"}


def wait_until(pred: Callable[[], T], timeout: float = 8.0, every: float = 0.02) -> T:
    """Poll ``pred`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving ``app`` from a thread on a free port of 127.0.0.1 (as `bci serve`)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = free_port()
        self.server = make_server(app, "127.0.0.1", self.port, "warning")
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start (see the log above)")
            time.sleep(0.01)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    url = http

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def ws_url(self, path: str, token: str | None = TEST_TOKEN) -> str:
        """``ws://.../path`` with the token as a query parameter (as a feedback app may)."""
        sep = "&" if "?" in path else "?"
        return f"{self.ws}{path}" + (f"{sep}token={token}" if token else "")

    #: Headers that authenticate an HTTP request to the test service.
    headers = AUTH

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
