"""The session WebSocket: predictions and status out, app events in.

Each client has a bounded queue; when a client is slow the oldest messages are dropped,
so one slow client never holds back the engine or the other clients.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from bci.errors import BCIError
from bci.online.manager import SessionManager

logger = logging.getLogger(__name__)

router = APIRouter(tags=["websocket"])


_encoded = threading.local()


def _encode(msg: dict[str, Any]) -> str:
    """JSON text of ``msg``, computed once however many clients receive it.

    A session hands the same dict to every subscriber in turn, from one thread; the last
    encoding is remembered per thread, so N clients cost one ``json.dumps``, not N.
    """
    last = getattr(_encoded, "last", None)
    if last is not None and last[0] is msg:
        text: str = last[1]
        return text
    text = json.dumps(msg)
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


@router.websocket("/ws/sessions/{session_id}")
async def session_ws(websocket: WebSocket, session_id: str) -> None:
    manager: SessionManager = websocket.app.state.manager
    size: int = websocket.app.state.settings.ws_queue_size
    try:
        session = manager.get(session_id)
    except BCIError as exc:
        await websocket.accept()
        await websocket.send_text(json.dumps({"type": "error", "detail": str(exc)}))
        await websocket.close(code=4404)
        return
    await websocket.accept()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=size)
    # Raw-signal frames (~10/s, ~1 KB) only for clients that draw traces: ?signal=1
    want_signal = websocket.query_params.get("signal", "0") in ("1", "true", "yes")

    def on_message(msg: dict[str, Any]) -> None:  # engine thread
        if msg["type"] == "signal" and not want_signal:
            return
        loop.call_soon_threadsafe(_offer, queue, _encode(msg))

    unsubscribe = session.subscribe(on_message)
    hello = {"type": "hello", "session": session.status()}
    await websocket.send_text(json.dumps(hello))

    async def sender() -> None:
        while True:
            await websocket.send_text(await queue.get())

    async def receiver() -> None:
        while True:
            text = await websocket.receive_text()
            reply = _handle_client_message(manager, session_id, text)
            await websocket.send_text(json.dumps(reply))

    tasks = [asyncio.create_task(sender()), asyncio.create_task(receiver())]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        for t in done:
            err = t.exception()
            if err is not None and not isinstance(err, WebSocketDisconnect):
                logger.info("websocket for session %s closed: %r", session_id, err)
    finally:
        unsubscribe()


def _handle_client_message(manager: SessionManager, session_id: str, text: str) -> dict[str, Any]:
    """Client -> server: ``{"type": "event", "value": "video_onset"}`` and ``{"type": "ping"}``."""
    try:
        msg = json.loads(text)
    except json.JSONDecodeError as exc:
        return {"type": "error", "detail": f"message is not valid JSON: {exc}"}
    if not isinstance(msg, dict) or "type" not in msg:
        return {"type": "error", "detail": "message must be a JSON object with a 'type' field"}
    kind = msg["type"]
    if kind == "ping":
        return {"type": "pong"}
    if kind == "event":
        value = msg.get("value")
        if not isinstance(value, str) or not value or len(value) > 200:
            return {"type": "error", "detail": "event 'value' must be a string of 1-200 chars"}
        t = msg.get("t")
        if t is not None and not isinstance(t, int | float):
            return {"type": "error", "detail": f"event 't' must be a number, got {t!r}"}
        try:
            m = manager.get(session_id).add_marker(value, t, source="websocket")
        except BCIError as exc:
            return {"type": "error", "detail": str(exc)}
        return {"type": "event_ack", "t": m.t, "value": m.value}
    return {
        "type": "error",
        "detail": f"unknown message type {kind!r}; expected 'event' or 'ping'",
    }
