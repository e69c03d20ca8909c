"""The session WebSocket: predictions and status out, app events in.

Each client has a bounded queue; when a client is slow the oldest messages are dropped,
so one slow client never holds back the engine or the other clients.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from bci.errors import BCIError
from bci.online.manager import SessionManager
from bci.online.messages import ErrorMessage, EventAck, Hello, Message, Pong
from bci.online.session import DecodingSession

logger = logging.getLogger(__name__)

router = APIRouter(tags=["websocket"])


_encoded = threading.local()


def _encode(msg: Message) -> str:
    """JSON text of ``msg``, computed once however many clients receive it.

    A session hands the same dict to every subscriber in turn, from one thread; the last
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


class _Fanout:
    """Every WebSocket client of one session in one event loop, behind one subscription.

    The engine thread hands a message over once (one encoding, one thread hop); the event
    loop then offers it to each client's queue. With one subscription per client, 1000
    clients cost the engine thread 1000 ``call_soon_threadsafe`` per decision.
    ``wants_signal`` tells the session whether anyone draws traces, so the signal monitor
    (band power, quality: the costliest per-session work besides decoding) runs only then.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.clients: dict[asyncio.Queue[str], bool] = {}  # queue -> wants signal frames
        self.wants_signal = False
        self.unsubscribe: Callable[[], None] = lambda: None

    def __call__(self, msg: Message) -> None:  # engine thread
        self.loop.call_soon_threadsafe(self._deliver, msg.type == "signal", _encode(msg))

    def _deliver(self, is_signal: bool, text: str) -> None:  # event-loop thread
        for queue, want_signal in self.clients.items():
            if want_signal or not is_signal:
                _offer(queue, text)

    def add(self, queue: asyncio.Queue[str], want_signal: bool) -> None:
        self.clients[queue] = want_signal
        self.wants_signal = any(self.clients.values())

    def remove(self, queue: asyncio.Queue[str]) -> bool:
        """Forget a client; True when it was the last one."""
        self.clients.pop(queue, None)
        self.wants_signal = any(self.clients.values())
        return not self.clients


def _fanout(websocket: WebSocket, session: DecodingSession) -> _Fanout:
    """The session's fan-out in this app, subscribed on first use (event-loop thread)."""
    state = websocket.app.state
    fanouts: dict[DecodingSession, _Fanout] | None = getattr(state, "ws_fanouts", None)
    if fanouts is None:
        fanouts = state.ws_fanouts = {}
    fan = fanouts.get(session)
    if fan is None:
        fan = fanouts[session] = _Fanout(asyncio.get_running_loop())
        fan.unsubscribe = session.subscribe(fan)
    return fan


def _leave(websocket: WebSocket, session: DecodingSession, queue: asyncio.Queue[str]) -> None:
    fanouts: dict[DecodingSession, _Fanout] = websocket.app.state.ws_fanouts
    fan = fanouts[session]
    if fan.remove(queue):
        fan.unsubscribe()
        del fanouts[session]


@router.websocket("/ws/sessions/{session_id}")
async def session_ws(websocket: WebSocket, session_id: str) -> None:
    manager: SessionManager = websocket.app.state.manager
    size: int = websocket.app.state.settings.ws_queue_size
    try:
        session = manager.get(session_id)
    except BCIError as exc:
        await websocket.accept()
        await websocket.send_text(ErrorMessage(detail=str(exc)).to_json())
        await websocket.close(code=4404)
        return
    await websocket.accept()
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=size)
    # Raw-signal frames (~10/s, ~1 KB) only for clients that draw traces: ?signal=1
    want_signal = websocket.query_params.get("signal", "0") in ("1", "true", "yes")
    _fanout(websocket, session).add(queue, want_signal)

    async def sender() -> None:
        while True:
            await websocket.send_text(await queue.get())

    async def receiver() -> None:
        while True:
            text = await websocket.receive_text()
            # An event is a session command that waits for the engine: not on the event loop.
            reply = await asyncio.to_thread(_handle_client_message, manager, session_id, text)
            await websocket.send_text(reply.to_json())

    try:
        await websocket.send_text(Hello(session=session.status()).to_json())
        tasks = [asyncio.create_task(sender()), asyncio.create_task(receiver())]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        for t in done:
            err = t.exception()
            if err is not None and not isinstance(err, WebSocketDisconnect):
                logger.info("websocket for session %s closed: %r", session_id, err)
    finally:
        _leave(websocket, session, queue)


def _handle_client_message(manager: SessionManager, session_id: str, text: str) -> Message:
    """Client -> server: ``{"type": "event", "value": "video_onset"}`` and ``{"type": "ping"}``."""
    try:
        msg = json.loads(text)
    except json.JSONDecodeError as exc:
        return ErrorMessage(detail=f"message is not valid JSON: {exc}")
    if not isinstance(msg, dict) or "type" not in msg:
        return ErrorMessage(detail="message must be a JSON object with a 'type' field")
    kind = msg["type"]
    if kind == "ping":
        return Pong()
    if kind == "event":
        value = msg.get("value")
        if not isinstance(value, str) or not value or len(value) > 200:
            return ErrorMessage(detail="event 'value' must be a string of 1-200 chars")
        t = msg.get("t")
        if t is not None and not isinstance(t, int | float):
            return ErrorMessage(detail=f"event 't' must be a number, got {t!r}")
        try:
            m = manager.add_event(session_id, value, t, source="websocket")
        except BCIError as exc:
            return ErrorMessage(detail=str(exc))
        return EventAck(t=m.t, value=m.value)
    return ErrorMessage(detail=f"unknown message type {kind!r}; expected 'event' or 'ping'")
