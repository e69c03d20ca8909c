"""Decisions written to every client as one pre-built frame (bci/api/frames.py), on a real
uvicorn server with real `websockets` clients; the ASGI path when the frame cannot be used."""

from __future__ import annotations

import asyncio
import json

import httpx2 as httpx
import pytest
import websockets
from _helpers import TEST_TOKEN, LiveServer, wait_until

from bci.api.app import create_app
from bci.api.frames import text_frame
from bci.config import load_settings
from bci.online.manager import SessionManager

pytestmark = pytest.mark.network


def _start(live_server, outlet, model, **extra):
    r = httpx.post(
        f"{live_server.http}/sessions",
        json={"name": outlet.name, "model_id": model.model_id, **extra},
        headers=live_server.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _predictions(ws, n, timeout=10.0):
    """The next ``n`` prediction messages (other types skipped)."""
    out = []
    while len(out) < n:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if msg["type"] == "prediction":
            out.append(msg)
    return out


def _fanout(live_server, sid):
    return live_server.app.state.ws_fanouts[str(sid)]


def test_text_frame_is_what_websockets_sends():
    from websockets.frames import Frame, Opcode

    for text in ("{}", "é" * 100, "x" * 126, "y" * 70_000):  # 7-bit, 16-bit, 64-bit lengths
        frame = text_frame(text)
        assert frame == Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
        assert frame[0] == 0x81  # FIN + text, unmasked (bit 7 of byte 1 clear)
        assert not frame[1] & 0x80


def test_clients_get_every_decision_as_a_shared_frame(
    live_server, noise_outlet, fitted_model, manager
):
    sid = _start(live_server, noise_outlet, fitted_model)
    url = live_server.ws_url(f"/ws/sessions/{sid}")

    async def run():
        async with websockets.connect(url) as a, websockets.connect(url) as b:
            for ws in (a, b):
                assert json.loads(await ws.recv())["type"] == "hello"
            pa, pb = await _predictions(a, 24), await _predictions(b, 24)
            fan = _fanout(live_server, sid)
            return pa, pb, fan, [c.writer for c in fan.clients.values()]

    pa, pb, fan, writers = asyncio.run(run())
    for preds in (pa, pb):
        idx = [m["index"] for m in preds]
        assert idx == list(range(idx[0], idx[0] + 24))  # in order, none lost
        assert all(abs(sum(m["probabilities"].values()) - 1) < 1e-6 for m in preds)
    common = {m["index"]: m for m in pa} & {m["index"]: m for m in pb}.keys()
    assert common and all(
        next(m for m in pa if m["index"] == i) == next(m for m in pb if m["index"] == i)
        for i in common
    )
    # Almost everything went as a shared frame (the queue carries what raced a hello).
    assert fan.n_direct >= 40 and fan.n_queued <= 8, (fan.n_direct, fan.n_queued)
    assert len(writers) == 2 and all(w is not None and w.n_written >= 20 for w in writers)


def test_a_paused_client_is_queued_then_caught_up_in_order(
    live_server, noise_outlet, fitted_model, manager
):
    """While the transport asks uvicorn to stop writing (a slow client), messages wait in the
    client's queue; when it resumes, the queue drains before frames are written again."""
    sid = _start(live_server, noise_outlet, fitted_model, step_s=0.02)
    url = live_server.ws_url(f"/ws/sessions/{sid}")
    loop_of = {}

    async def run():
        async with websockets.connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            first = await _predictions(ws, 5)
            fan = _fanout(live_server, sid)
            (client,) = fan.clients.values()
            proto = client.writer._proto
            loop_of["loop"] = fan.loop
            direct0, queued0 = fan.n_direct, fan.n_queued
            fan.loop.call_soon_threadsafe(proto.pause_writing)
            await asyncio.to_thread(wait_until, lambda: fan.n_queued >= queued0 + 10)
            direct_paused = fan.n_direct
            fan.loop.call_soon_threadsafe(proto.resume_writing)
            rest = await _predictions(ws, 40)
            return first + rest, fan, direct0, direct_paused

    preds, fan, direct0, direct_paused = asyncio.run(run())
    idx = [m["index"] for m in preds]
    assert idx == list(range(idx[0], idx[0] + len(idx)))  # no gap, no reordering
    assert direct_paused <= direct0 + 1  # nothing written while paused (one may race the pause)
    assert fan.n_direct > direct_paused  # and frames again once the queue drained


@pytest.fixture
def asgi_only_server(tmp_path, fitted_model):
    """A live server with ``BCI_WS_DIRECT=false``."""
    settings = load_settings(
        data_dir=tmp_path,
        stall_timeout_s=0.3,
        resolve_timeout=1.0,
        token=TEST_TOKEN,
        ws_direct=False,
    )
    manager = SessionManager(settings)
    manager.add_model(fitted_model)
    srv = LiveServer(create_app(settings, manager))
    yield srv
    srv.stop()
    manager.close()


def test_direct_frames_off_by_setting(asgi_only_server, noise_outlet, fitted_model):
    live_server = asgi_only_server
    sid = _start(live_server, noise_outlet, fitted_model)
    url = live_server.ws_url(f"/ws/sessions/{sid}")

    async def run():
        async with websockets.connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            preds = await _predictions(ws, 16)
            return preds, _fanout(live_server, sid)

    preds, fan = asyncio.run(run())
    idx = [m["index"] for m in preds]
    assert idx == list(range(idx[0], idx[0] + 16))
    assert fan.n_direct == 0 and fan.n_queued >= 16


def test_another_asgi_server_takes_the_asgi_path(client, noise_outlet, fitted_model):
    """Starlette's TestClient has no frame writer in its scope: every message is sent over
    ASGI and arrives all the same."""
    sid = client.post(
        "/sessions", json={"name": noise_outlet.name, "model_id": fitted_model.model_id}
    ).json()["id"]
    with client.websocket_connect(f"ws://127.0.0.1/ws/sessions/{sid}?token={TEST_TOKEN}") as ws:
        assert ws.receive_json()["type"] == "hello"
        idx = []
        while len(idx) < 8:
            msg = ws.receive_json()
            if msg["type"] == "prediction":
                idx.append(msg["index"])
        fan = client.app.state.ws_fanouts[str(sid)]
        assert fan.n_direct == 0 and fan.n_queued >= 8
    assert idx == list(range(idx[0], idx[0] + 8))
