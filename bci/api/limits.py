"""Request-body limits: refuse a large body from its ``Content-Length`` before reading it, and
stop reading a body without one as soon as it passes the limit.

JSON bodies are limited by ``Settings.max_body_bytes`` (1 MiB by default); model uploads
(``POST /models``) by the model file limit.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bci.api.errors import error_response

__all__ = ["BodyLimitMiddleware"]


class BodyLimitMiddleware:
    """413 for a body larger than its route's limit.

    Parameters
    ----------
    default : int
        Limit in bytes for every route without its own.
    per_route : dict of (method, path) to int
        Own limits, e.g. ``{("POST", "/models"): 64 MiB}``.
    """

    def __init__(self, app: ASGIApp, default: int, per_route: dict[tuple[str, str], int]) -> None:
        self.app = app
        self.default = default
        self.per_route = per_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_route.get((scope["method"], scope["path"].rstrip("/")), self.default)
        declared = None
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                declared = v.decode("latin-1")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            response = error_response(
                413,
                "PayloadTooLarge",
                f"Request body is limited to {limit} bytes here; Content-Length is {declared}",
                {"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(
                        413, f"Request body is limited to {limit} bytes here; got more"
                    )
            return message

        await self.app(scope, limited_receive, send)
