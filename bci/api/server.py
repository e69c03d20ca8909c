"""How the service is served: one place for the uvicorn options."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

__all__ = ["make_server"]


def make_server(app: FastAPI, host: str, port: int, log_level: str = "info") -> uvicorn.Server:
    """A uvicorn server for ``app``.

    Per-message compression is off: browsers ask for it, and at hundreds of clients it costs
    about 30% of the fan-out time for small JSON prediction frames (DESIGN.md). WebSockets
    are served by uvicorn's sans-I/O protocol with a frame writer in each connection's scope
    (:mod:`bci.api.frames`: the fan-out writes one pre-built frame to every client).
    """
    from bci.api.frames import FrameProtocol

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        ws_per_message_deflate=False,
        ws=FrameProtocol if FrameProtocol is not None else "auto",
    )
    return uvicorn.Server(config)
