"""The session WebSocket: predictions and status out, app events in.

A decision reaches each client as one frame built once for all (:mod:`bci.api.frames`); a
client that is slow, or has a message queued, gets it through its bounded queue instead, where
the oldest messages are dropped, so one slow client never holds back the engine or the others.
The token is required (``?token=`` or a ``bearer.<token>`` subprotocol entry); a foreign
``Origin`` is refused by the guard before this handler runs. Client frames are rate-limited per
connection; a malformed, binary, unknown or over-the-limit frame is answered with
``{"type": "error", ...}`` and the connection stays open. Frames are strict JSON: a non-finite
number is never sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from bci.api.frames import FRAME_WRITER, FrameWriter, text_frame
from bci.api.security import Guard
from bci.errors import BCIError
from bci.online.messages import ErrorMessage, EventAck, Hello, Message, Pong
from bci.online.service import BCIService

logger = logging.getLogger(__name__)

router = APIRouter(tags=["websocket"])

_encoded = threading.local()
#: Longest client frame read (an event is well under 1 KB).
MAX_FRAME_CHARS = 4096


def _encode(msg: Message) -> str:
    """JSON text of ``msg`` (strict JSON: NaN and infinities are ``null``), computed once
    however many clients receive it.

    A session hands the same message to every subscriber in turn, from one thread; the last
    encoding is remembered per thread, so N clients cost one encoding, not N.
    """
    last = getattr(_encoded, "last", None)
    if last is not None and last[0] is msg:
        text: str = last[1]
        return text
    text = msg.to_json()
    _encoded.last = (msg, text)
    return text


def _offer(queue: asyncio.Queue[str], msg: str) -> None:
    """Put ``msg``, dropping the oldest message when the queue is full (event-loop thread)."""
    if queue.full():
        try:
            queue.get_nowait()
        except asyncio.QueueEmpty:  # pragma: no cover - raced with the sender
            pass
    queue.put_nowait(msg)


class _Client:
    """One WebSocket client of a fan-out: its queue (the ASGI path) and its frame writer."""

    __slots__ = ("busy", "queue", "want_signal", "writer")

    def __init__(
        self, queue: asyncio.Queue[str], want_signal: bool, writer: FrameWriter | None
    ) -> None:
        self.queue = queue
        self.want_signal = want_signal
        self.writer = writer
        # True while the client's sender holds a message (or has not sent the hello yet):
        # a frame written straight to the socket now would overtake it.
        self.busy = True


class _Fanout:
    """Every WebSocket client of one session in one event loop, behind one subscription.

    The engine thread hands a message over once (one encoding, one thread hop); the event
    loop then delivers it to each client. With one subscription per client, 1000
    clients cost the engine thread 1000 ``call_soon_threadsafe`` per decision.
    A client whose connection has a :class:`~bci.api.frames.FrameWriter` and nothing queued
    gets the message as one frame built once for all (:mod:`bci.api.frames`); the others (a
    slow client, a message queued before it, another ASGI server) get it through their queue.
    ``wants_signal`` tells the session whether anyone draws traces, so the signal monitor
    (band power, quality: the costliest per-session work besides decoding) runs only then.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.clients: dict[asyncio.Queue[str], _Client] = {}
        self.wants_signal = False
        self.unsubscribe: Callable[[], None] = lambda: None
        self.n_direct = 0  # messages written as a shared frame
        self.n_queued = 0  # messages that took a client's queue

    def __call__(self, msg: Message) -> None:  # engine thread
        self.loop.call_soon_threadsafe(self._deliver, msg.type == "signal", _encode(msg))

    def _deliver(self, is_signal: bool, text: str) -> None:  # event-loop thread
        frame: bytes | None = None
        for c in self.clients.values():
            if is_signal and not c.want_signal:
                continue
            if c.writer is not None and not c.busy and c.queue.empty():
                if frame is None:
                    frame = text_frame(text)
                if c.writer.write(frame):
                    self.n_direct += 1
                    continue
            _offer(c.queue, text)
            self.n_queued += 1

    def add(self, client: _Client) -> None:
        self.clients[client.queue] = client
        self.wants_signal = any(c.want_signal for c in self.clients.values())

    def remove(self, queue: asyncio.Queue[str]) -> bool:
        """Forget a client; True when it was the last one."""
        self.clients.pop(queue, None)
        self.wants_signal = any(c.want_signal for c in self.clients.values())
        return not self.clients


def _join(
    websocket: WebSocket,
    service: BCIService,
    session_id: str,
    client: _Client,
) -> dict[str, Any]:
    """Add a client to the session's fan-out (subscribed on first use); the session status.

    Raises BCIError when the session does not exist.
    """
    state = websocket.app.state
    fanouts: dict[str, _Fanout] | None = getattr(state, "ws_fanouts", None)
    if fanouts is None:
        fanouts = state.ws_fanouts = {}
    fan = fanouts.get(session_id)
    if fan is None:
        fan = _Fanout(asyncio.get_running_loop())
        status, fan.unsubscribe = service.subscribe(session_id, fan)
        fanouts[session_id] = fan
    else:
        status = service.session_status(session_id)
    fan.add(client)
    return status


def _leave(websocket: WebSocket, session_id: str, queue: asyncio.Queue[str]) -> None:
    fanouts: dict[str, _Fanout] = websocket.app.state.ws_fanouts
    fan = fanouts.get(session_id)
    if fan is not None and fan.remove(queue):
        fan.unsubscribe()
        del fanouts[session_id]


class TokenBucket:
    """``rate`` frames per second on average, bursts of ``2 * rate``."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, 2 * rate)
        self.tokens = self.capacity
        self.t = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.t) * self.rate)
        self.t = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@router.websocket("/ws/sessions/{session_id}")
async def session_ws(websocket: WebSocket, session_id: str) -> None:
    service: BCIService = websocket.app.state.service
    guard: Guard = websocket.app.state.guard
    settings = service.settings
    token, subprotocol = guard.ws_token(websocket.scope, websocket.query_params.get("token"))
    if not guard.token_ok(token):
        # before accept: the client sees the handshake refused (HTTP 403)
        await websocket.close(code=4401, reason="missing or wrong token")
        return
    await websocket.accept(subprotocol=subprotocol)
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=settings.ws_queue_size)
    # Raw-signal frames (~10/s, ~1 KB) only for clients that draw traces: ?signal=1
    want_signal = websocket.query_params.get("signal", "0") in ("1", "true", "yes")

    extensions = websocket.scope.get("extensions") or {}
    writer = extensions.get(FRAME_WRITER) if settings.ws_direct else None
    client = _Client(queue, want_signal, writer)
    try:
        status = _join(websocket, service, session_id, client)
    except BCIError as exc:
        await websocket.send_text(ErrorMessage(detail=str(exc)).to_json())
        await websocket.close(code=4404)
        return
    bucket = TokenBucket(settings.ws_event_rate)

    async def sender() -> None:
        while True:
            client.busy = False  # nothing in hand: the fan-out may write to the socket itself
            text = await queue.get()
            client.busy = True
            await websocket.send_text(text)

    async def receiver() -> None:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(frame.get("code", 1000))
            reply: Message | tuple[str, float | None]
            if not bucket.take():
                reply = ErrorMessage(
                    detail=f"rate limit: at most {settings.ws_event_rate:g} messages per "
                    "second; this one was dropped"
                )
            elif frame.get("text") is None:
                reply = ErrorMessage(detail="binary frames are not accepted: send JSON text")
            else:
                reply = _parse_client_message(frame["text"])
            if isinstance(reply, tuple):  # an event: a session command, not on the event loop
                reply = await asyncio.to_thread(_add_event, service, session_id, *reply)
            _offer(queue, reply.to_json())

    try:
        await websocket.send_text(Hello(session=status).to_json())
        tasks = [asyncio.create_task(sender()), asyncio.create_task(receiver())]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        for t in done:
            err = t.exception()
            if err is not None and not isinstance(err, WebSocketDisconnect):
                logger.info("websocket for session %s closed: %r", session_id, err)
    finally:
        _leave(websocket, session_id, queue)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _parse_client_message(text: str) -> Message | tuple[str, float | None]:
    """Client -> server: ``{"type": "event", "value": "video_onset"}`` and ``{"type": "ping"}``.

    Returns the reply, or ``(value, t)`` of a valid event to stamp.
    """
    if len(text) > MAX_FRAME_CHARS:
        return ErrorMessage(
            detail=f"message is {len(text)} characters; the limit is {MAX_FRAME_CHARS}"
        )
    try:
        msg = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError, or NaN / Infinity
        return ErrorMessage(detail=f"message is not valid JSON: {exc}")
    if not isinstance(msg, dict) or "type" not in msg:
        return ErrorMessage(detail="message must be a JSON object with a 'type' field")
    kind = msg["type"]
    if kind == "ping":
        return Pong()
    if kind != "event":
        return ErrorMessage(detail=f"unknown message type {kind!r:.60}; expected 'event' or 'ping'")
    value = msg.get("value")
    if not isinstance(value, str) or not value or len(value) > 200:
        return ErrorMessage(
            detail=f"event 'value' must be a string of 1-200 chars, got {value!r:.60}"
        )
    t = msg.get("t")
    if t is not None and (
        isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t)
    ):
        return ErrorMessage(detail=f"event 't' must be a finite number, got {t!r:.60}")
    return value, None if t is None else float(t)


def _add_event(service: BCIService, session_id: str, value: str, t: float | None) -> Message:
    try:
        m = service.add_event(session_id, value, t, source="websocket")
    except BCIError as exc:
        return ErrorMessage(detail=str(exc))
    return EventAck(t=m.t, value=m.value)
