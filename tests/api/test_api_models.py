"""Model registry over HTTP: list, get, download, upload, delete, activate in a session."""

from __future__ import annotations

import dataclasses
import pickle
import time

import pytest

from bci.decoders.store import dump_model


def _model_like(model, **changes):
    """A copy of ``model`` with a new id and some card fields changed (same fitted pipeline)."""
    return dataclasses.replace(model, model_id=changes.pop("model_id", "m-other"), **changes)


def test_list_and_get(client, fitted_model):
    r = client.get("/models")
    assert r.status_code == 200
    (card,) = r.json()
    assert card["id"] == fitted_model.model_id
    assert card["pipeline"] == "ts-lr" and card["classes"] == ["left", "right"]
    assert card["ch_names"] == fitted_model.ch_names and card["sfreq"] == 250.0
    assert card["band"] == [8.0, 30.0] and card["window_s"] == 0.5
    assert len(card["pipeline_sha256"]) == 64 and card["size_bytes"] > 0
    assert card["active_in"] == [] and card["versions"]["scikit-learn"]
    assert client.get(f"/models/{fitted_model.model_id}").json() == card


def test_unknown_model_is_404(client, fitted_model):
    for method, path in (
        ("GET", "/models/m-nope"),
        ("GET", "/models/m-nope/file"),
        ("DELETE", "/models/m-nope"),
    ):
        r = client.request(method, path)
        assert r.status_code == 404, (method, path)
        assert r.json() == {
            "error": "ModelNotFoundError",
            "detail": f"No model with id 'm-nope'. Known models: {fitted_model.model_id}",
        }


def test_download_delete_upload(client, fitted_model, manager):
    mid = fitted_model.model_id
    r = client.get(f"/models/{mid}/file")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"] == f'attachment; filename="{mid}.bcimodel"'
    data = r.content
    assert data == manager.store.path(mid).read_bytes()
    card = client.get(f"/models/{mid}").json()

    r = client.delete(f"/models/{mid}")
    assert r.status_code == 200 and r.json() == card
    assert client.get("/models").json() == []

    headers = {"content-type": "application/octet-stream"}
    r = client.post("/models", content=data, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json() == card
    r = client.post("/models", content=data, headers=headers)  # the same file again: harmless
    assert r.status_code == 201 and r.json() == card
    assert client.get(f"/models/{mid}/file").content == data


def test_upload_refusals(client, fitted_model, tmp_path):
    headers = {"content-type": "application/octet-stream"}
    target = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(target), "w"))

    r = client.post("/models", content=pickle.dumps(Payload()), headers=headers)
    assert r.status_code == 422
    assert r.json()["error"] == "DataError"
    assert "looks like a Python pickle, which bci never loads" in r.json()["detail"]
    assert not target.exists()

    good = dump_model(_model_like(fitted_model))
    r = client.post("/models", content=good[: len(good) // 2], headers=headers)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("the uploaded file is damaged (truncated or modified)")

    r = client.post("/models", content=b"", headers=headers)
    assert r.status_code == 422 and r.json()["detail"] == "the uploaded file is empty"

    # a different model under an id that is already stored
    clash = dump_model(_model_like(fitted_model, model_id=fitted_model.model_id, sfreq=500.0))
    r = client.post("/models", content=clash, headers=headers)
    assert r.status_code == 409
    assert r.json() == {
        "error": "ModelExistsError",
        "detail": f"A different model with id '{fitted_model.model_id}' is already stored; "
        f"delete it first (DELETE /models/{fitted_model.model_id} or "
        f"`bci models rm {fitted_model.model_id}`) to replace it",
    }
    assert client.get(f"/models/{fitted_model.model_id}").json()["sfreq"] == 250.0


def test_upload_too_large(settings, manager, monkeypatch):
    """Refused from the declared Content-Length before reading, and while streaming without one."""
    from _helpers import AUTH
    from fastapi.testclient import TestClient

    from bci.api import create_app

    monkeypatch.setattr("bci.api.app.MAX_MODEL_BYTES", 100)
    monkeypatch.setattr("bci.online.service.MAX_MODEL_BYTES", 100)
    headers = {**AUTH, "content-type": "application/octet-stream"}
    with TestClient(create_app(settings, manager), base_url="http://127.0.0.1") as c:
        r = c.post("/models", content=b"x" * 101, headers=headers)
        assert r.status_code == 413
        assert r.json() == {
            "error": "PayloadTooLarge",
            "detail": "Request body is limited to 100 bytes here; Content-Length is 101",
        }

        def chunks():
            for _ in range(5):
                yield b"x" * 40

        r = c.post("/models", content=chunks(), headers=headers)
        assert r.status_code == 413
        assert "limited to 100 bytes" in r.json()["detail"]
        assert c.get("/models").json()[0]["id"] == manager.store.list()[0]["id"]


def test_openapi_documents_the_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/models"]) == {"get", "post"}
    assert set(paths["/models/{model_id}"]) == {"get", "delete"}
    assert "application/octet-stream" in paths["/models"]["post"]["requestBody"]["content"]
    assert "post" in paths["/sessions/{session_id}/model"]


@pytest.mark.network
def test_activate_mismatch_and_delete_while_active(client, noise_outlet, fitted_model, manager):
    mid = fitted_model.model_id
    r = client.post("/sessions", json={"name": noise_outlet.name})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["model"] is None

    r = client.post(f"/sessions/{sid}/model", json={"model_id": mid})
    assert r.status_code == 200, r.text
    assert r.json()["model"]["id"] == mid
    assert client.get(f"/models/{mid}").json()["active_in"] == [sid]
    deadline = time.monotonic() + 5
    while (client.get(f"/sessions/{sid}").json()["last_prediction"] or {}).get("model_id") != mid:
        assert time.monotonic() < deadline, "no prediction from the activated model"
        time.sleep(0.02)

    # channels and rate that do not match the stream: 409, the active model stays
    manager.add_model(
        _model_like(fitted_model, model_id="m-wrong", ch_names=fitted_model.ch_names[::-1])
    )
    manager.add_model(_model_like(fitted_model, model_id="m-fast", sfreq=500.0))
    r = client.post(f"/sessions/{sid}/model", json={"model_id": "m-wrong"})
    assert r.status_code == 409
    assert r.json()["error"] == "ModelMismatchError"
    assert r.json()["detail"].startswith(
        f"Model m-wrong does not match the session: channels {fitted_model.ch_names}"
    )
    r = client.post(f"/sessions/{sid}/model", json={"model_id": "m-fast"})
    assert r.status_code == 409
    assert r.json()["detail"] == (
        "Model m-fast does not match the session: sampling rate 250 Hz (model: 500 Hz)"
    )
    assert client.get(f"/sessions/{sid}").json()["model"]["id"] == mid

    r = client.post(f"/sessions/{sid}/model", json={"model_id": "m-nope"})
    assert r.status_code == 404 and r.json()["error"] == "ModelNotFoundError"
    r = client.post("/sessions/999/model", json={"model_id": mid})
    assert r.status_code == 404 and r.json()["error"] == "SessionNotFoundError"
    r = client.post(f"/sessions/{sid}/model", json={"id": mid})
    assert r.status_code == 422

    r = client.delete(f"/models/{mid}")
    assert r.status_code == 409
    assert r.json() == {
        "error": "SessionStateError",
        "detail": f"Model {mid} is active in session(s) {sid}: activate another model "
        f"(POST /sessions/{sid}/model) or delete the session (DELETE /sessions/{sid}) first",
    }
    assert client.delete(f"/sessions/{sid}").status_code == 200
    assert client.delete(f"/models/{mid}").status_code == 200
    assert [c["id"] for c in client.get("/models").json()] == ["m-fast", "m-wrong"]
