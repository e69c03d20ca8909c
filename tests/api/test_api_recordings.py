"""Sessions record to XDF; recordings are listed, downloaded and replayed through the API."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
import pyxdf
from _helpers import wait_until

pytestmark = pytest.mark.network


def test_session_records_then_replays_sample_for_sample(
    client, noise_outlet, fitted_model, manager, tmp_path
):
    sid = client.post(
        "/sessions", json={"name": noise_outlet.name, "model_id": fitted_model.model_id}
    ).json()["id"]
    wait_until(lambda: client.get(f"/sessions/{sid}").json()["counts"]["windows"] >= 40)
    client.post(f"/sessions/{sid}/events", json={"value": "video_onset"})
    time.sleep(0.2)
    st = client.get(f"/sessions/{sid}").json()
    assert st["recording"]["active"] is True
    r = client.post(f"/sessions/{sid}/recording")
    assert r.status_code == 409 and "already recording" in r.json()["detail"]
    session = manager.get(sid)
    r = client.delete(f"/sessions/{sid}/recording")
    assert r.status_code == 200 and r.json()["recording"] is None
    n_samples = session.raw.n_written  # nothing is recorded after the stop
    listing = client.get("/recordings").json()
    assert len(listing) == 1 and listing[0]["file"].startswith(f"session-{sid}-")
    body = client.get(f"/recordings/{listing[0]['file']}").content
    streams, _ = pyxdf.load_xdf(io.BytesIO(body), dejitter_timestamps=False)
    by_type = {s["info"]["type"][0]: s for s in streams}
    eeg = by_type["EEG"]
    labels = [c["label"][0] for c in eeg["info"]["desc"][0]["channels"][0]["channel"]]
    assert labels == session.ch_names
    assert eeg["info"]["desc"][0]["channels"][0]["channel"][0]["unit"][0] == "microvolts"
    assert float(eeg["info"]["nominal_srate"][0]) == 250.0
    assert len(eeg["time_stamps"]) <= n_samples
    assert len(eeg["time_stamps"]) >= n_samples - 64  # at most the chunk in flight
    # the recorded samples are the raw stream, exactly (the tail is what the session saw)
    k = len(eeg["time_stamps"])
    np.testing.assert_array_equal(
        eeg["time_series"][k - 100 : k].T.astype(np.float64),
        session.raw.window_ending_at(k, 100)[0],
    )
    assert np.all(np.diff(eeg["time_stamps"]) > 0)
    assert ["video_onset"] in by_type["Markers"]["time_series"]
    preds = by_type["Predictions"]["time_series"]
    assert len(preds) >= 10 and json.loads(preds[0][0])["type"] == "prediction"

    # replay the recording as a live stream and decode it like a headset
    r = client.post(
        "/replays", json={"path": listing[0]["file"], "speed": 1, "name": "rp", "loop": True}
    )
    assert r.status_code == 201, r.text
    assert client.get("/replays").json()[0]["name"] == "rp"
    r2 = client.post("/sessions", json={"name": "rp", "record": False})
    assert r2.status_code == 201, r2.text
    sid2 = r2.json()["id"]
    wait_until(lambda: client.get(f"/sessions/{sid2}").json()["counts"]["samples"] >= 250)
    replayed = manager.get(sid2)
    got, ts = replayed.raw.latest(replayed.raw.n_available)
    # find the replayed samples in the recording by their values: identical, in order
    start = int(
        np.flatnonzero(np.all(eeg["time_series"] == got[:, 0].astype(np.float32), axis=1))[0]
    )
    n = min(got.shape[1], len(eeg["time_stamps"]) - start)  # up to the loop's wrap
    assert n >= 100
    # (a looping replay may have wrapped already: compare the n samples before the wrap)
    np.testing.assert_array_equal(
        eeg["time_series"][start : start + n].T, got[:, :n].astype(np.float32)
    )
    np.testing.assert_allclose(
        np.diff(ts[:n]), np.diff(eeg["time_stamps"][start : start + n]), atol=1e-6
    )
    assert client.delete("/replays/rp").status_code == 200
    assert client.delete("/replays/rp").status_code == 404


def test_recording_errors(client, noise_outlet):
    assert client.get("/recordings/../../etc/passwd").status_code == 404
    r = client.get("/recordings/nope.xdf")
    assert r.json() == {
        "error": "NotFoundError",
        "detail": "No recording 'nope.xdf' in the folders this service serves",
    }
    sid = client.post("/sessions", json={"name": noise_outlet.name, "record": False}).json()["id"]
    r = client.delete(f"/sessions/{sid}/recording")
    assert r.status_code == 409 and r.json()["detail"] == f"Session {sid} is not recording"
    r = client.post("/replays", json={"path": "missing.xdf"})
    assert r.status_code == 404
    r = client.post("/replays", json={"path": "x.xdf", "speed": "fast"})
    assert r.status_code in (404, 422)
