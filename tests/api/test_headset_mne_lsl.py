"""A third-party publisher into the service: mne-lsl's PlayerLSL plays a real EDF file.

PlayerLSL publishes the recording as double64 in volts (units as MNE multipliers, "0") with
its annotations on ``<name>-annotations`` (one-hot by default, or strings). The service must
convert to µV, standardise the EDF labels, let the annotations drive an app-mode calibration
through ``marker_map``, decode, and record the source's own header and values.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx2 as httpx
import mne
import numpy as np
import pytest
import pyxdf
import websockets
from mne_lsl.player import PlayerLSL

from bci.evaluation.train import train_from_recording

pytestmark = [pytest.mark.network, pytest.mark.realdata, pytest.mark.slow]

EVENTS = {"T1": "left", "T2": "right"}


@pytest.fixture
def r04(eegbci_path):
    return eegbci_path / "MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf"


def _player(path, name: str, encoding: str) -> PlayerLSL:
    return PlayerLSL(
        path,
        chunk_size=16,
        name=name,
        source_id=f"src-{name}",
        annotations=True,
        annotations_encoding=encoding,
    ).start()


def test_player_lsl_edf_through_the_service(live_server, manager, r04, stream_name):
    # A model trained offline on the same file (`bci train`) activates on the live stream.
    model = train_from_recording(r04, EVENTS, band=(8.0, 30.0))
    manager.add_model(model)
    player = _player(r04, stream_name, "one-hot")
    http = live_server.http
    try:
        r = httpx.post(
            f"{http}/sessions",
            json={
                "name": stream_name,
                "model_id": model.model_id,
                "marker_map": EVENTS,
                "record": True,
                "timeout": 5,
            },
            timeout=20,
            headers=live_server.headers,
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        stream = r.json()["stream"]
        assert stream["channel_format"] == "double64"
        assert stream["ch_names"][:4] == ["FC5", "FC3", "FC1", "FCz"]  # from "Fc5." ...
        assert stream["source_ch_names"][:2] == ["Fc5.", "Fc3."]
        declared = set(stream["units"])
        assert declared == {"0"}, declared  # mne-lsl: 10^0 V
        assert not [w for w in r.json()["warnings"] if "sensorimotor" in w or "unit" in w]
        r = httpx.post(
            f"{http}/sessions/{sid}/calibration",
            json={"paradigm": "imagery-left-right", "trials_per_class": 3, "cues": "app"},
            headers=live_server.headers,
        )
        assert r.status_code == 202, r.text

        async def run() -> dict:
            got: dict = {"pred": [], "mapped": [], "quality": [], "cal": None}
            url = live_server.ws_url(f"/ws/sessions/{sid}?signal=1")
            async with websockets.connect(url, max_size=2**24) as ws:
                deadline = time.monotonic() + 100
                while time.monotonic() < deadline and got["cal"] is None:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    kind = msg["type"]
                    if kind == "prediction":
                        got["pred"].append(msg)
                    elif kind == "marker" and msg.get("mapped"):
                        got["mapped"].append((msg["value"], msg["mapped"]))
                    elif kind == "signal" and msg["quality"]:
                        got["quality"].append(msg["quality"])
                    elif kind == "calibration" and msg["state"] in ("done", "failed"):
                        got["cal"] = msg
            return got

        got = asyncio.run(run())
        assert got["cal"] is not None and got["cal"]["state"] == "done", got["cal"]
        res = got["cal"]["result"]
        assert res["n_trials"] == 6 and res["model_id"] != model.model_id
        # The annotations drove the trials: T1/T2 arrived and were mapped to the classes.
        assert {v: m for v, m in got["mapped"]} == EVENTS
        preds = got["pred"]
        assert len(preds) > 100, len(preds)
        assert {p["model_id"] for p in preds[:20]} == {model.model_id}
        for p in preds:
            assert set(p["probabilities"]) == {"left", "right"}
            assert abs(sum(p["probabilities"].values()) - 1) < 1e-9
        # µV inside: no channel of real EEG looks flat (it did when volts were taken as µV).
        assert got["quality"], "no signal frame with quality flags"
        flat = {ch for q in got["quality"] for ch, flag in q.items() if flag == "flat"}
        assert not flat, f"channels flagged flat: {sorted(flat)}"
        lat = np.array([p["latency_ms"] for p in preds])
        st = httpx.get(f"{http}/sessions/{sid}").json()
        assert st["state"] == "running" and st["counts"]["timestamp_errors"] == 0, st
        assert st["marker_map"] == EVENTS
        r = httpx.delete(f"{http}/sessions/{sid}", headers=live_server.headers)
        assert r.status_code == 200
        path = st["recording"]["path"]
    finally:
        player.stop()
    print(
        f"latency_ms as measured: min {lat.min():.1f}, median {np.median(lat):.1f}, "
        f"max {lat.max():.1f}; {len(preds)} predictions"
    )
    # The XDF keeps mne-lsl's header (units "0" = volts) and the values in volts.
    streams, _ = pyxdf.load_xdf(path, dejitter_timestamps=False)
    by_name = {s["info"]["name"][0]: s for s in streams}
    eeg = by_name[stream_name]
    chans = eeg["info"]["desc"][0]["channels"][0]["channel"]
    assert [c["unit"][0] for c in chans] == ["0"] * 64
    assert [c["label"][0] for c in chans][:2] == ["Fc5.", "Fc3."]
    assert eeg["info"]["source_id"] == [f"src-{stream_name}"]
    rec = np.asarray(eeg["time_series"]).T  # (64, n), volts
    edf = mne.io.read_raw_edf(r04, verbose="error").get_data()
    n = min(rec.shape[1], 2000)
    start = int(np.argmin(np.abs(edf[:, : edf.shape[1] - n] - rec[:, :1]).sum(axis=0)))
    np.testing.assert_allclose(rec[:, :n], edf[:, start : start + n], rtol=1e-9, atol=1e-15)
    # The one-hot annotation stream is kept under its own name, as the markers it meant.
    marks = {v[0] for v in by_name[f"{stream_name}-annotations"]["time_series"]}
    assert {"T1", "T2"} <= marks <= {"T0", "T1", "T2"}, marks


def test_player_lsl_string_annotations_are_mapped(live_server, r04, stream_name):
    player = _player(r04, stream_name, "string")
    try:
        r = httpx.post(
            f"{live_server.http}/sessions",
            json={"name": stream_name, "marker_map": EVENTS, "timeout": 5, "record": False},
            timeout=20,
            headers=live_server.headers,
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]

        def events() -> list:
            return httpx.get(f"{live_server.http}/sessions/{sid}/events").json()

        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and not {"T1", "T2"} & {e["value"] for e in events()}:
            time.sleep(0.2)
        values = [e["value"] for e in events()]
        assert {"T1", "T2"} & set(values), values  # class annotations every ~8 s
        assert all(e["source"] == "lsl" for e in events())
    finally:
        player.stop()
