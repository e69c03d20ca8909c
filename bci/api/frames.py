"""One WebSocket frame, built once, written to many clients' sockets.

Over ASGI every message to every client is its own ``await websocket.send_text()``: a queue
hand-over, a task switch, Starlette's and uvicorn's ``send``, and websockets' framing, once per
client per decision (16,000 times a second at 1000 clients of 16-decision/s sessions). A
server-to-client text frame is the same bytes for every client of a connection without
extensions (no mask, no per-message compression: `bci serve` turns compression off), so the
fan-out builds it once (:func:`text_frame`) and writes it to each client's transport.

The service's uvicorn runs :class:`FrameProtocol`, uvicorn's own sans-I/O WebSocket protocol
that also puts a :class:`FrameWriter` in the connection's ASGI scope
(``scope["extensions"][FRAME_WRITER]``) unless an extension (compression) was negotiated.
The writer refuses (returns False) whenever the frame could not be written as uvicorn itself
would write it: the connection is not open, a close was sent, or the transport asked uvicorn
to stop writing (a slow client: its write buffer is over the high-water mark). The caller
then queues the message on the ASGI path, where a slow client's oldest messages are dropped as
before. Under another ASGI server the extension is absent and every message takes the ASGI
path.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FRAME_WRITER", "FrameProtocol", "FrameWriter", "text_frame"]

#: The ASGI scope extension under which a connection's :class:`FrameWriter` is found.
FRAME_WRITER = "bci.frame_writer"


def text_frame(text: str) -> bytes:
    """The bytes of one unmasked, unfragmented text frame (what a server sends) holding ``text``."""
    from websockets.frames import Frame, Opcode

    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class FrameWriter:
    """Writes pre-built frames to one uvicorn WebSocket connection, when that is safe."""

    __slots__ = ("_proto", "n_written")

    def __init__(self, proto: Any) -> None:
        self._proto = proto
        self.n_written = 0

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` now (True), or refuse (False: send it over ASGI instead)."""
        p = self._proto
        conn = p.conn
        if (
            not p.handshake_complete
            or p.close_sent
            or p.disconnected
            or not p.writable.is_set()  # paused by the transport: a slow client
            or conn.state is not _OPEN
            or p.transport.is_closing()
        ):
            return False
        p.transport.write(frame)
        self.n_written += 1
        return True


try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    from websockets.protocol import State

    _OPEN: Any = State.OPEN
except ImportError:  # pragma: no cover - websockets is a declared dependency
    FrameProtocol: Any = None
    _OPEN = None
else:

    class FrameProtocol(WebSocketsSansIOProtocol):  # type: ignore[no-redef]
        """uvicorn's sans-I/O WebSocket protocol, with a :class:`FrameWriter` in the scope."""

        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)
            scope = getattr(self, "scope", None)
            # An extension (compression) makes each client's frame its own: no writer then.
            if scope is not None and self.response.status_code == 101 and not self.conn.extensions:
                scope.setdefault("extensions", {})[FRAME_WRITER] = FrameWriter(self)
