"""The WebSocket contract: docs/asyncapi.json is generated from the message models, served,
and every message a live demo service sends (calibration included) validates against it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2 as httpx
import jsonschema
import pytest
import websockets
from _helpers import AUTH, TEST_TOKEN, LiveServer

from bci import __version__
from bci.api import create_app
from bci.config import load_settings
from bci.online.demo import setup_demo
from bci.online.manager import SessionManager
from bci.online.messages import SERVER_MESSAGES, asyncapi_json

DOC = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def _validators(doc: dict) -> dict[str, jsonschema.protocols.Validator]:
    out = {}
    for name in doc["channels"]["session"]["messages"]:
        schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
        jsonschema.Draft202012Validator.check_schema(schema)
        out[name] = jsonschema.Draft202012Validator(schema)
    return out


def test_committed_document_is_the_generated_one(client):
    assert DOC.read_text(encoding="utf-8") == asyncapi_json(__version__), (
        "docs/asyncapi.json is stale: python -m bci.online.messages docs/asyncapi.json"
    )
    served = client.get("/asyncapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(DOC.read_text(encoding="utf-8"))
    doc = served.json()
    assert doc["asyncapi"] == "3.0.0"
    validators = _validators(doc)
    sends = doc["operations"]["sendSessionMessages"]["messages"]
    assert len(sends) == len(SERVER_MESSAGES)
    # the validators are strict: a wrong or missing field fails
    pred = validators["prediction"]
    good = {
        "type": "prediction",
        "session_id": "1",
        "index": 1,
        "t": 2.0,
        "probabilities": {"left": 0.4, "right": 0.6},
        "label": "right",
        "model_id": "m",
        "latency_ms": 3.0,
        "compute_ms": 0.2,
    }
    pred.validate(good)
    assert not pred.is_valid({**good, "t": None})
    assert not pred.is_valid({k: v for k, v in good.items() if k != "compute_ms"})
    assert not pred.is_valid({**good, "extra": 1})
    assert not validators["status"].is_valid(
        {"type": "status", "session_id": "1", "state": "dancing", "previous": "running"}
    )


@pytest.mark.network
def test_every_message_of_a_live_demo_matches_the_document(tmp_path, stream_name):
    """Demo service, real server, real WebSocket: a short calibration, mu suppression,
    events, ping, a bad frame and the session's end; every type sent is seen and valid."""
    settings = load_settings(
        data_dir=tmp_path, log_level="WARNING", record=False, resolve_timeout=10, token=TEST_TOKEN
    )
    manager = SessionManager(settings)
    app = create_app(
        settings, manager, on_startup=lambda m: setup_demo(m, stream_name=stream_name, seed=7)
    )
    server = LiveServer(app)
    try:
        doc = httpx.get(f"{server.http}/asyncapi.json").json()
        validators = _validators(doc)
        received: list[dict] = []

        async def run() -> None:
            url = f"ws://127.0.0.1:{server.port}/ws/sessions/1?signal=1&token={TEST_TOKEN}"
            async with (
                websockets.connect(url) as ws,
                httpx.AsyncClient(base_url=server.http, timeout=30, headers=AUTH) as http,
            ):

                async def until(pred, timeout: float = 60.0) -> dict:
                    async def _wait() -> dict:
                        while True:
                            msg = json.loads(await ws.recv())
                            received.append(msg)
                            if pred(msg):
                                return msg

                    return await asyncio.wait_for(_wait(), timeout)

                await until(lambda m: m["type"] == "hello")
                await ws.send(json.dumps({"type": "ping"}))
                await until(lambda m: m["type"] == "pong")
                await ws.send("not json")
                await until(lambda m: m["type"] == "error")
                await ws.send(json.dumps({"type": "event", "value": "video_onset"}))
                await until(lambda m: m["type"] == "event_ack")
                r = await http.put("/sessions/1/mu-suppression", json={"step_s": 0.25})
                assert r.status_code == 200, r.text
                await until(lambda m: m["type"] == "signal")
                r = await http.post("/sessions/1/mu-suppression/baseline", json={"seconds": 1})
                assert r.status_code == 200, r.text
                await until(lambda m: m["type"] == "mu_suppression")
                spec = {
                    "trials_per_class": 2,
                    "fixation_s": 0.2,
                    "trial_s": 2.5,
                    "rest_s": 0.3,
                    "jitter_s": 0.0,
                    "start_s": 0.2,
                    "folds": 2,
                    "seed": 3,
                }
                r = await http.post("/sessions/1/calibration", json=spec)
                assert r.status_code == 202, r.text
                end = await until(
                    lambda m: m["type"] == "calibration" and m["state"] in ("done", "failed")
                )
                assert end["state"] == "done", end
                await until(lambda m: m["type"] == "prediction" and m["model_id"] != "")
                r = await http.delete("/sessions/1")
                assert r.status_code == 200, r.text
                await until(lambda m: m["type"] == "status" and m["state"] == "stopped")

        asyncio.run(run())
    finally:
        server.stop()
    seen = set()
    for msg in received:
        kind = msg.get("type")
        assert kind in validators, msg
        errors = sorted(validators[kind].iter_errors(msg), key=str)
        assert not errors, (kind, [e.message for e in errors][:3])
        seen.add(kind)
    declared = {
        m["$ref"].rsplit("/", 1)[-1] for m in doc["operations"]["sendSessionMessages"]["messages"]
    }
    # A healthy synthetic headset never has a bad window: `withheld` is validated against
    # this document on real withheld messages in tests/online/test_quality_gate.py.
    assert seen == declared - {"withheld"}, declared - seen


def test_the_documented_security_schemes_are_what_the_websocket_checks(client):
    """Each scheme of docs/asyncapi.json, applied as written, opens the WebSocket; no token
    (or a wrong one) is refused with close code 4401, as the document says."""
    from starlette.websockets import WebSocketDisconnect

    doc = json.loads(DOC.read_text(encoding="utf-8"))
    schemes = doc["components"]["securitySchemes"]
    refs = [r["$ref"].rsplit("/", 1)[1] for r in doc["servers"]["local"]["security"]]
    assert sorted(refs) == sorted(schemes) == ["queryToken", "subprotocolToken"]
    assert "4401" in doc["info"]["description"]
    path = doc["channels"]["session"]["address"].format(session_id="nope")
    address = f"ws://127.0.0.1{path}"  # the Host a local client sends

    def connect(token: str, scheme: dict) -> dict:
        # an unknown session: past the token check the server answers with an error message
        if scheme["in"] == "query":
            ws = client.websocket_connect(f"{address}?{scheme['name']}={token}")
        else:
            assert scheme["name"] == "Sec-WebSocket-Protocol"
            ws = client.websocket_connect(address, subprotocols=[f"bearer.{token}"])
        with ws as conn:
            return {"accepted": conn.accepted_subprotocol, **conn.receive_json()}

    for name, scheme in schemes.items():
        got = connect(TEST_TOKEN, scheme)
        assert got["type"] == "error" and "nope" in got["detail"], (name, got)
        if scheme["in"] == "header":
            assert got["accepted"] == f"bearer.{TEST_TOKEN}"
        with pytest.raises(WebSocketDisconnect) as refused:
            connect("wrong-token-0123456789", scheme)
        assert refused.value.code == 4401, name
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(address):
        pass
    assert refused.value.code == 4401
