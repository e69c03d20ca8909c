"""Headsets that are not float32 µV: int16 and double64-in-volts outlets through the API."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import wait_until

CH = ["FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4", "Pz"]  # the outlets of tests/api/conftest.py

pytestmark = pytest.mark.network


@pytest.mark.parametrize(
    ("fmt", "units", "scale"),
    [("int16", "microvolts", 1.0), ("double64", "V", 1e-6), ("int32", "nV", 1e3)],
)
def test_session_on_a_non_float32_stream_decodes_in_microvolts(
    client, manager, stream_name, fitted_model, make_outlet, fmt, units, scale
):
    outlet = make_outlet(stream_name, fmt=fmt, units=units, scale=scale)
    try:
        streams = {s["name"]: s for s in client.get("/streams", params={"timeout": 1}).json()}
        listed = streams[stream_name]
        assert listed["channel_format"] == fmt
        assert listed["units"] == [units] * len(CH)
        body = {"name": stream_name, "model_id": fitted_model.model_id, "timeout": 5}
        r = client.post("/sessions", json=body)
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        assert r.json()["stream"]["units"] == [units] * len(CH)
        session = manager.get(sid)
        wait_until(lambda: session.n_windows >= 3, timeout=10)
        st = client.get(f"/sessions/{sid}").json()
        assert st["state"] == "running", st
        assert st["counts"]["timestamp_errors"] == 0
        assert not [w for w in st["warnings"] if "unit" in w], st["warnings"]
        # The outlet sends N(0, 10 µV) noise in its own unit: inside it is ~10 µV again.
        raw, _ = session.raw.latest(100)
        sd = float(np.std(raw))
        assert 7.0 < sd < 13.0, f"{fmt}/{units}: std {sd:.3g} µV, expected ~10 µV"
    finally:
        outlet.close()


def test_lost_stream_sets_error_and_calibration_is_409_with_the_cause(
    client, stream_name, make_outlet
):
    # No source_id: liblsl cannot recover the stream, so losing the outlet is final.
    outlet = make_outlet(stream_name, source_id="")
    r = client.post("/sessions", json={"name": stream_name, "timeout": 5})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    outlet.close()
    st = wait_until(
        lambda: (s := client.get(f"/sessions/{sid}").json())["state"] == "error" and s,
        timeout=30,
    )
    assert "was lost" in st["error"] and stream_name in st["error"], st["error"]
    r = client.post(
        f"/sessions/{sid}/calibration",
        json={"paradigm": "imagery-left-right", "trials_per_class": 5},
    )
    assert r.status_code == 409, r.text
    assert "state 'error'" in r.text and "was lost" in r.text


def test_dead_headset_gets_withheld_not_decisions_on_the_websocket(
    live_server, stream_name, fitted_model, make_outlet
):
    """An outlet at an amplifier's noise floor (0.01 µV): no confident class, ever."""
    import asyncio
    import json

    import httpx2 as httpx
    import websockets

    outlet = make_outlet(stream_name, scale=0.001)
    try:
        r = httpx.post(
            f"{live_server.http}/sessions",
            json={
                "name": stream_name,
                "model_id": fitted_model.model_id,
                "record": False,
                "timeout": 5,
            },
            headers=live_server.headers,
            timeout=30,
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]

        async def collect() -> list[dict]:
            got: list[dict] = []
            async with websockets.connect(live_server.ws_url(f"/ws/sessions/{sid}")) as ws:
                while sum(m["type"] == "withheld" for m in got) < 10:
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            return got

        msgs = asyncio.run(collect())
        assert not [m for m in msgs if m["type"] == "prediction"]
        held = [m for m in msgs if m["type"] == "withheld"]
        assert held[0]["reason"].startswith("flat signal on FC3, FC4, C3, Cz, C4")
        quality = httpx.get(f"{live_server.http}/sessions/{sid}").json()["quality"]
        assert quality["ok"] is False and quality["passed"] == 0 and quality["withheld"] >= 10
    finally:
        outlet.close()


def test_decisions_on_lsl_for_lsl_native_consumers(
    client, manager, stream_name, fitted_model, make_outlet
):
    """Opt-in outlets: class probabilities (float32, one channel per class) and the label."""
    from bci.streams.lsl import get_pylsl, resolve_stream

    pylsl = get_pylsl()
    outlet = make_outlet(stream_name)
    try:
        body = {"name": stream_name, "model_id": fitted_model.model_id, "lsl_outlet": True}
        body["timeout"] = 5
        r = client.post("/sessions", json=body)
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        session = manager.get(sid)
        wait_until(lambda: session.n_windows >= 1, timeout=10)
        names = wait_until(
            lambda: (o := client.get(f"/sessions/{sid}").json()["lsl_outlet"])["pushed"] and o
        )
        assert names["predictions"] == f"bci-session-{sid}-predictions-{manager.instance}"
        probs = pylsl.StreamInlet(resolve_stream(name=names["predictions"], timeout=10))
        labels = pylsl.StreamInlet(resolve_stream(name=names["labels"], timeout=10))
        info = probs.info(timeout=5)
        assert info.channel_count() == 2 and info.get_channel_labels() == ["left", "right"]
        assert info.channel_format() == pylsl.cf_float32 and info.nominal_srate() == 0
        p_rows: list = []
        l_rows: list = []

        def got() -> bool:
            p_rows.extend(probs.pull_chunk(timeout=0.0)[0])
            l_rows.extend(labels.pull_chunk(timeout=0.0)[0])
            return len(p_rows) >= 5 and len(l_rows) >= 5

        wait_until(got, timeout=10)
        for row in p_rows:
            assert abs(sum(row) - 1) < 1e-5
        assert {lab[0] for lab in l_rows} <= {"left", "right"}
    finally:
        outlet.close()
