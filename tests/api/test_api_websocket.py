"""A real uvicorn server, a real WebSocket client, a real LSL stream."""

from __future__ import annotations

import asyncio
import json
import time

import httpx2 as httpx
import numpy as np
import pytest
import websockets
from _helpers import TEST_TOKEN

from bci.streams.lsl import local_clock

pytestmark = pytest.mark.network


async def _recv_until(ws, pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("message not received within timeout")
        msg = json.loads(await asyncio.wait_for(ws.recv(), left))
        if pred(msg):
            return msg


def test_real_websocket_streams_predictions(live_server, noise_outlet, fitted_model):
    r = httpx.post(
        headers=live_server.headers,
        url=f"{live_server.http}/sessions",
        json={"name": noise_outlet.name, "model_id": fitted_model.model_id},
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]

    async def run():
        # the token as a subprotocol entry, as a browser sends it
        async with websockets.connect(
            f"{live_server.ws}/ws/sessions/{sid}",
            subprotocols=["bci", f"bearer.{TEST_TOKEN}"],
        ) as ws:
            assert ws.subprotocol == "bci"
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello" and hello["session"]["id"] == sid
            preds = []
            while len(preds) < 20:
                msg = await _recv_until(ws, lambda m: m["type"] == "prediction")
                preds.append((msg, local_clock()))
            # app event over the socket, stamped on the LSL clock on arrival
            before = local_clock()
            await ws.send(json.dumps({"type": "event", "value": "video_onset"}))
            ack = await _recv_until(ws, lambda m: m["type"] == "event_ack")
            assert before <= ack["t"] <= local_clock() and ack["value"] == "video_onset"
            await ws.send("not json")
            err = await _recv_until(ws, lambda m: m["type"] == "error")
            assert "not valid JSON" in err["detail"]
            await ws.send(json.dumps({"type": "dance"}))
            err = await _recv_until(ws, lambda m: m["type"] == "error")
            assert "unknown message type 'dance'" in err["detail"]
            # per-message compression is off for the prediction stream
            assert "sec-websocket-extensions" not in ws.response.headers
            return preds

    preds = asyncio.run(run())
    idx = [m["index"] for m, _ in preds]
    assert idx == sorted(idx) and len(set(idx)) == len(idx)
    ts = [m["t"] for m, _ in preds]
    steps = np.diff(ts)
    # 1/16 s step at 250 Hz: 15 or 16 samples between decisions
    assert all(abs(s - 1 / 16) <= 1 / 250 + 1e-9 for s in steps)
    for m, received in preds:
        assert m["model_id"] == fitted_model.model_id
        assert set(m["probabilities"]) == {"left", "right"}
        assert abs(sum(m["probabilities"].values()) - 1) < 1e-9
        assert m["t"] <= received  # a decision never precedes its data
        assert 0 <= m["latency_ms"] < 1000
    ev = httpx.get(f"{live_server.http}/sessions/{sid}/events", headers=live_server.headers).json()
    assert ev[-1]["value"] == "video_onset" and ev[-1]["source"] == "websocket"


def test_websocket_unknown_session_gets_error_and_close(live_server):
    async def run():
        async with websockets.connect(live_server.ws_url("/ws/sessions/42")) as ws:
            msg = json.loads(await ws.recv())
            with pytest.raises(websockets.ConnectionClosed) as info:
                await ws.recv()
            return msg, info.value

    msg, closed = asyncio.run(run())
    assert msg == {"type": "error", "detail": "No session with id '42'. Active sessions: none"}
    assert closed.rcvd.code == 4404


def test_slow_client_does_not_block_others(live_server, noise_outlet, fitted_model, manager):
    sid = httpx.post(
        headers=live_server.headers,
        url=f"{live_server.http}/sessions",
        json={"name": noise_outlet.name, "model_id": fitted_model.model_id, "step_s": 0.01},
    ).json()["id"]

    async def run():
        async with (
            # a client that stops reading cannot finish a close handshake quickly
            websockets.connect(
                live_server.ws_url(f"/ws/sessions/{sid}"), close_timeout=0.2
            ) as slow,
            websockets.connect(live_server.ws_url(f"/ws/sessions/{sid}")) as fast,
        ):
            await slow.recv()
            n = 0
            while n < 150:  # 1.5 s of decisions while `slow` reads nothing
                msg = await _recv_until(fast, lambda m: m["type"] == "prediction")
                n += 1
            return msg["index"]

    last = asyncio.run(run())
    assert last >= 150
    assert manager.get(sid).state == "running"


def test_a_message_is_encoded_once_for_all_clients():
    from bci.api.routes.ws import _encode
    from bci.online.messages import MarkerMessage

    msg = MarkerMessage(session_id="1", t=1.5, value="go", source="http")
    first = _encode(msg)
    assert _encode(msg) is first  # the second client reuses the text
    assert (
        json.loads(first)
        == msg.to_dict()
        == {
            "type": "marker",
            "session_id": "1",
            "t": 1.5,
            "value": "go",
            "source": "http",
            "stream": None,
            "mapped": None,
        }
    )
    other = MarkerMessage(session_id="1", t=2.5, value="go", source="http")
    assert json.loads(_encode(other)) == other.to_dict()


def test_clients_of_one_session_share_one_subscription(
    live_server, noise_outlet, fitted_model, manager
):
    sid = httpx.post(
        f"{live_server.http}/sessions",
        json={"name": noise_outlet.name, "model_id": fitted_model.model_id},
        headers=live_server.headers,
    ).json()["id"]
    session = manager.get(sid)
    url = live_server.ws_url(f"/ws/sessions/{sid}")

    async def run():
        # These clients stop reading while the session goes on: with websockets' default
        # receive queue (16 messages) a client then stops reading its socket, never sees the
        # server's close reply behind the unread frames, and waits its 10 s close timeout.
        async with (
            websockets.connect(url, max_queue=None) as a,
            websockets.connect(url, max_queue=None) as b,
            websockets.connect(f"{url}&signal=1", max_queue=None) as traces,
        ):
            for ws in (a, b, traces):
                assert json.loads(await ws.recv())["type"] == "hello"
            n_subscribers = len(session._subscribers)
            # The dashboard client gets signal frames; the others only decisions.
            await _recv_until(traces, lambda m: m["type"] == "signal")
            got = {}
            for name, ws in (("a", a), ("b", b)):
                types, idx = set(), []
                while len(idx) < 16:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    types.add(msg["type"])
                    if msg["type"] == "prediction":
                        idx.append(msg["index"])
                got[name] = (types, idx)
            assert "signal" not in got["a"][0] | got["b"][0]
            # Both see every decision, in order, from the same hand-over.
            for _, idx in got.values():
                assert idx == list(range(idx[0], idx[0] + 16))
            wants_with_traces = session.wants_signal()
        await asyncio.sleep(0.2)  # the server notices the closes
        return n_subscribers, wants_with_traces

    n_subscribers, wants_with_traces = asyncio.run(run())
    assert n_subscribers == 1  # three clients, one subscription on the session
    assert wants_with_traces is True
    deadline = time.monotonic() + 5
    while session._subscribers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session._subscribers == [] and session.wants_signal() is False
    # Without a dashboard client the monitor does no work.
    from bci.online.monitor import SignalMonitor

    monitor = session.stage(SignalMonitor)
    sent = monitor.n_sent
    time.sleep(0.5)
    assert monitor.n_sent == sent
