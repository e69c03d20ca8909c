"""Who may call the service: the bearer token, the trusted hosts, the allowed origins.

- **Token**: every mutating request needs ``Authorization: Bearer <token>``; reads need it too
  when the service is bound off loopback. The WebSocket takes it as ``?token=`` or as a
  ``Sec-WebSocket-Protocol`` entry ``bearer.<token>`` (browsers cannot set headers there).
  Compared in constant time.
- **Host** (DNS rebinding): served only for loopback names, IP literals, this machine's
  hostname and ``Settings.trusted_hosts``.
- **Origin** (other web pages): a browser request or WebSocket from another site is refused;
  same-origin, loopback origins and ``Settings.allowed_origins`` are allowed (also for CORS).

The dashboard pages and their static files, ``/openapi.json`` and ``/docs`` hold no data
and stay readable without a token, so a browser can load the page that then
sends the token it reads from the URL fragment.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from bci.api.errors import error_response
from bci.config import Settings, is_loopback

__all__ = ["LOOPBACK_ORIGIN_REGEX", "Authorized", "Guard", "GuardMiddleware", "require_token"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Browser origins on this machine (any port): a feedback app's dev server, the dashboard.
LOOPBACK_ORIGIN_REGEX = r"https?://(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?"
_LOOPBACK_ORIGIN = re.compile(LOOPBACK_ORIGIN_REGEX + r"\Z")
WS_SUBPROTOCOL = "bci"
_BEARER_PREFIX = "bearer."


def _host_name(host_header: str) -> str:
    """``host[:port]`` -> lower-case host (IPv6 brackets kept off)."""
    h = host_header.strip().lower()
    if h.startswith("["):
        return h[1 : h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass
class Guard:
    """The security decisions of one app, from its settings and token."""

    token: str
    reads_open: bool
    trusted_hosts: set[str] = field(default_factory=set)
    allowed_origins: set[str] = field(default_factory=set)
    any_host: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, token: str) -> Guard:
        hosts = {"localhost", settings.host.lower(), *(h.lower() for h in settings.trusted_hosts)}
        try:
            name = socket.gethostname().lower()
            hosts |= {name, f"{name}.local"}
        except OSError:  # pragma: no cover - no hostname
            pass
        return cls(
            token=token,
            reads_open=is_loopback(settings.host),
            trusted_hosts=hosts,
            allowed_origins={o.rstrip("/").lower() for o in settings.allowed_origins},
            any_host="*" in settings.trusted_hosts,
        )

    def token_ok(self, given: str | None) -> bool:
        """Constant-time comparison with the service token."""
        if not given:
            return False
        return hmac.compare_digest(given.encode("utf-8"), self.token.encode("utf-8"))

    def host_ok(self, host_header: str | None) -> bool:
        if self.any_host:
            return True
        if not host_header:
            return False
        name = _host_name(host_header)
        return _is_ip(name) or name in self.trusted_hosts

    def origin_ok(self, origin: str | None, host_header: str | None) -> bool:
        """No Origin (not a browser), the page's own origin, loopback or allow-listed."""
        if origin is None:
            return True
        o = origin.rstrip("/").lower()
        if o in self.allowed_origins or _LOOPBACK_ORIGIN.match(o):
            return True
        parts = urlsplit(o)
        return (
            bool(parts.netloc) and host_header is not None and parts.netloc == host_header.lower()
        )

    def ws_token(self, scope: Scope, query_token: str | None) -> tuple[str | None, str | None]:
        """(token, subprotocol to accept) from ``?token=`` or ``Sec-WebSocket-Protocol``."""
        offered = [p.strip() for p in (_header(scope, "sec-websocket-protocol") or "").split(",")]
        offered = [p for p in offered if p]
        bearer = next(
            (p[len(_BEARER_PREFIX) :] for p in offered if p.startswith(_BEARER_PREFIX)), None
        )
        chosen = WS_SUBPROTOCOL if WS_SUBPROTOCOL in offered else None
        if chosen is None and bearer is not None:
            chosen = _BEARER_PREFIX + bearer
        return (bearer if bearer is not None else query_token), chosen


def _header(scope: Scope, name: str, default: str | None = None) -> str | None:
    key = name.encode("latin-1")
    for k, v in scope.get("headers", []):
        if k == key:
            return str(v.decode("latin-1"))
    return default


class GuardMiddleware:
    """Refuses foreign ``Host`` and ``Origin`` headers (HTTP 403 / WebSocket close 4403)."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = _header(scope, "host")
        origin = _header(scope, "origin")
        problem = None
        if not self.guard.host_ok(host):
            problem = (
                f"Host {host!r} is not served here: add it to BCI_TRUSTED_HOSTS to reach this "
                "service by that name"
            )
        elif not self.guard.origin_ok(origin, host):
            problem = (
                f"Origin {origin!r} is not allowed: add it to BCI_ALLOWED_ORIGINS to let "
                "pages from that site call this service"
            )
        if problem is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4403, "reason": "forbidden"})
        else:
            await error_response(403, "Forbidden", problem)(scope, receive, send)


def require_token(request: Request) -> None:
    """Router dependency: the bearer token on mutating requests (and reads off loopback)."""
    guard: Guard = request.app.state.guard
    if request.method in SAFE_METHODS and guard.reads_open:
        return
    auth = request.headers.get("authorization", "")
    scheme, _, given = auth.partition(" ")
    if scheme.lower() != "bearer" or not guard.token_ok(given.strip()):
        raise HTTPException(
            401,
            "Missing or wrong bearer token: send 'Authorization: Bearer <token>' (the token "
            "`bci serve` prints, also in BCI_DATA_DIR/token)",
            headers={"WWW-Authenticate": "Bearer"},
        )


Authorized = Annotated[None, Depends(require_token)]
