"""The "adaptation" session option over HTTP, on a real LSL stream on loopback."""

from __future__ import annotations

import time

import numpy as np
import pytest
from _helpers import wait_until

from bci.decoders.model import Model, train_model

pytestmark = pytest.mark.network

# The montage of tests/api/conftest.py's NoiseOutlet (not imported: tests/browser has a
# conftest of the same module name).
CH = ["FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4", "Pz"]
SFREQ = 250.0


@pytest.fixture
def recentering_model(manager) -> Model:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, len(CH), int(0.5 * SFREQ)))
    y = np.array(["left", "right"] * 15)
    X[y == "right", 2] *= 2
    params = {"recentering": True}
    model = train_model(X, y, ch_names=CH, sfreq=SFREQ, band=(8.0, 30.0), cv=2, params=params)
    manager.add_model(model)
    return model


def _start(client, outlet, model: Model, adaptation: str) -> dict:
    body = {"name": outlet.name, "model_id": model.model_id, "adaptation": adaptation}
    r = client.post("/sessions", json={**body, "timeout": 5})
    assert r.status_code == 201, r.text
    return r.json()


def test_recenter_session_reports_its_adaptation(client, noise_outlet, recentering_model):
    mid = recentering_model.model_id
    sess = _start(client, noise_outlet, recentering_model, "recenter")
    sid = sess["id"]
    assert sess["adaptation"]["mode"] == "recenter"
    st = wait_until(
        lambda: (j := client.get(f"/sessions/{sid}").json())["adaptation"]["n_updates"] > 4 and j
    )
    a = st["adaptation"]
    assert a["active"] and a["error"] is None and a["guard"] == "weighted"
    # 8 s of warm-up at one update per 0.5 s: the running mean, no drift measured yet
    assert a["warming_up"] is (a["n_updates"] < 16)
    assert (a["drift"] is None) is a["warming_up"]
    assert st["last_prediction"]["model_id"] == mid
    plain = _start(client, noise_outlet, recentering_model, "none")
    assert plain["adaptation"] is None  # the default is "none"


def test_supervised_session_refits_into_a_stored_version(client, noise_outlet, recentering_model):
    mid = recentering_model.model_id
    sid = _start(client, noise_outlet, recentering_model, "supervised")["id"]
    wait_until(lambda: client.get(f"/sessions/{sid}").json()["counts"]["windows"] > 0)
    # fourteen app trials, left and right in turn (a trial whose window end is lost to a
    # stream hiccup is counted as missed, not guessed)
    for i in range(14):
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
    assert a["labelled_trials"] + a["missed_trials"] <= 14
    assert a["labelled_trials"] >= 10 and a["error"] is None and a["refit_paused"] is None
    new = a["versions"][0]
    assert new != mid
    card = client.get(f"/models/{new}").json()
    assert card["params"]["adaptation"]["parent"] == mid
    wait_until(lambda: client.get(f"/sessions/{sid}").json()["last_prediction"]["model_id"] == new)


def test_supervised_session_with_trials_in_blocks_says_why_it_does_not_refit(
    client, noise_outlet, recentering_model
):
    sid = _start(client, noise_outlet, recentering_model, "supervised")["id"]
    wait_until(lambda: client.get(f"/sessions/{sid}").json()["counts"]["windows"] > 0)
    for i in range(16):  # eight left, then eight right: a block design
        value = "left" if i < 8 else "right"
        assert client.post(f"/sessions/{sid}/events", json={"value": value}).status_code < 300
        time.sleep(0.3)
    try:
        st = wait_until(
            lambda: (
                (j := client.get(f"/sessions/{sid}").json())["adaptation"]["refit_paused"] and j
            ),
            timeout=15,
        )
    except AssertionError:
        raise AssertionError(client.get(f"/sessions/{sid}").json()) from None
    a = st["adaptation"]
    assert "came in blocks of one class" in a["refit_paused"] and a["versions"] == []
    assert any(w.startswith("adaptation refits paused: ") for w in st["warnings"])
    assert st["last_prediction"]["model_id"] == recentering_model.model_id


def test_unknown_adaptation_is_422_naming_the_field(client):
    r = client.post("/sessions", json={"name": "x", "adaptation": "sometimes"})
    assert r.status_code == 422
    assert "adaptation" in r.text and "recenter" in r.text and "sometimes" in r.text
