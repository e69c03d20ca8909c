"""The "adaptation" session option over HTTP, on a real LSL stream on loopback."""

from __future__ import annotations

import time

import numpy as np
import pytest
from _helpers import wait_until
from conftest import CH, SFREQ

from bci.decoders import make_pipeline
from bci.decoders.model import Model

pytestmark = pytest.mark.network


@pytest.fixture
def recentering_model(manager) -> Model:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, len(CH), int(0.5 * SFREQ)))
    y = np.array(["left", "right"] * 15)
    X[y == "right", 2] *= 2
    pipe = make_pipeline("ts-lr", recentering=True).fit(X, y)
    model = Model(
        pipeline=pipe,
        pipeline_name="ts-lr",
        classes=list(pipe.classes_),
        ch_names=CH,
        sfreq=SFREQ,
        band=(8.0, 30.0),
        window_s=0.5,
    )
    manager.add_model(model)
    return model


def test_recenter_session_reports_its_adaptation(client, noise_outlet, recentering_model):
    mid = recentering_model.model_id
    body = {"name": noise_outlet.name, "model_id": mid, "adaptation": "recenter", "timeout": 10}
    r = client.post("/sessions", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["adaptation"]["mode"] == "recenter"
    st = wait_until(
        lambda: (j := client.get(f"/sessions/{sid}").json())["adaptation"]["n_updates"] > 4 and j
    )
    a = st["adaptation"]
    assert a["active"] and a["error"] is None and a["guard"] == "weighted"
    # 8 s of warm-up at one update per 0.5 s: the running mean, no drift measured yet
    assert a["warming_up"] is (a["n_updates"] < 16)
    assert (a["drift"] is None) is a["warming_up"]
    assert st["last_prediction"]["model_id"] == mid
    plain = client.post("/sessions", json={**body, "adaptation": "none"}).json()
    assert plain["adaptation"] is None  # the default is "none"


def test_supervised_session_refits_into_a_stored_version(client, noise_outlet, recentering_model):
    mid = recentering_model.model_id
    body = {"name": noise_outlet.name, "model_id": mid, "adaptation": "supervised", "timeout": 10}
    r = client.post("/sessions", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    wait_until(lambda: client.get(f"/sessions/{sid}").json()["counts"]["windows"] > 0)
    for i in range(10):  # ten app trials, left and right in turn
        value = ["left", "right"][i % 2]
        assert client.post(f"/sessions/{sid}/events", json={"value": value}).status_code < 300
        time.sleep(0.3)
    try:
        st = wait_until(
            lambda: (j := client.get(f"/sessions/{sid}").json())["adaptation"]["versions"] and j,
            timeout=15,
        )
    except AssertionError:
        raise AssertionError(client.get(f"/sessions/{sid}").json()) from None
    a = st["adaptation"]
    assert a["labelled_trials"] >= 5 and a["error"] is None
    new = a["versions"][0]
    assert new != mid
    card = client.get(f"/models/{new}").json()
    assert card["params"]["adaptation"]["parent"] == mid
    wait_until(lambda: client.get(f"/sessions/{sid}").json()["last_prediction"]["model_id"] == new)


def test_unknown_adaptation_is_422_naming_the_field(client):
    r = client.post("/sessions", json={"name": "x", "adaptation": "sometimes"})
    assert r.status_code == 422
    assert "adaptation" in r.text and "recenter" in r.text and "sometimes" in r.text
