"""`bci train` and POST /models/train: models from real recordings, with their provenance."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from _helpers import AUTH, TEST_TOKEN
from fastapi.testclient import TestClient

from bci.api import create_app
from bci.cli import main
from bci.config import load_settings
from bci.decoders.store import ModelStore
from bci.errors import DataError
from bci.evaluation.train import train_from_recording
from bci.online.manager import SessionManager
from bci.recordings import read_recording
from bci.streams.recorder import Recorder

pytestmark = pytest.mark.realdata


@pytest.fixture
def r04(eegbci_path):
    return eegbci_path / "MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf"


def test_bci_train_cli_stores_a_model_with_its_source(r04, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BCI_DATA_DIR", str(tmp_path))
    code = main(["train", str(r04), "--events", "T1=left,T2=right", "--band", "8-30"])
    out = capsys.readouterr().out
    assert code == 0, out
    models = ModelStore(tmp_path / "models").list()
    assert len(models) == 1
    card = models[0]
    assert card["id"] in out and "stored:" in out
    assert card["classes"] == ["left", "right"]
    assert len(card["ch_names"]) == 64 and card["ch_names"][:3] == ["FC5", "FC3", "FC1"]
    assert card["sfreq"] == 160.0 and card["band"] == [8.0, 30.0] and card["window_s"] == 2.0
    src = card["source"]
    assert src["file"] == "S001R04.edf" and src["format"] == "edf"
    assert src["sha256"] == hashlib.sha256(r04.read_bytes()).hexdigest()
    assert src["events"] == {"T1": "left", "T2": "right"}
    assert src["units"] == "microvolts" and src["source_ch_names"][0] == "Fc5."
    import mne

    ann = mne.io.read_raw_edf(r04, verbose="error").annotations.description.tolist()
    assert src["trials"] == {"left": ann.count("T1"), "right": ann.count("T2")}
    assert card["n_trials"] == ann.count("T1") + ann.count("T2")
    assert card["cv_metric"] == "roc_auc"
    assert 0.0 <= card["cv_score"] <= 1.0


def test_unknown_marker_and_single_class_are_refused(r04):
    with pytest.raises(DataError, match="at least 2 classes"):
        train_from_recording(r04, {"T1": "left"})
    with pytest.raises(
        DataError,
        match=r"class\(es\) \['left'\] \(markers \['T9'\]\).*markers are \['T0', 'T1', 'T2'\]",
    ):
        train_from_recording(r04, {"T9": "left", "T1": "right"})


def test_post_models_train_from_a_stored_volts_recording(r04, tmp_path):
    """An XDF of the EDF in volts (double64, unit V): same card numbers as the EDF itself."""
    rec = read_recording(r04)
    folder = tmp_path / "recordings"
    folder.mkdir()
    xdf = folder / "s001r04.xdf"
    with Recorder(xdf) as w:
        w.add_stream(
            "eeg", "edf", "EEG", ch_names=rec.ch_names, sfreq=rec.sfreq, fmt="double64", units="V"
        )
        w.add_stream("m", "edf-markers", "Markers", n_channels=1, fmt="string", units="")
        w.push("eeg", rec.data.T * 1e-6, rec.timestamps)
        for t, v in rec.markers:
            w.push_marker("m", v, t)
    settings = load_settings(data_dir=tmp_path, token=TEST_TOKEN)
    manager = SessionManager(settings)
    try:
        app = create_app(settings, manager)
        with TestClient(app, base_url="http://127.0.0.1", headers=AUTH) as client:
            body = {"recording": xdf.name, "events": {"T1": "left", "T2": "right"}}
            r = client.post("/models/train", json=body)
            assert r.status_code == 201, r.text
            card = r.json()
            assert card["source"]["sha256"] == hashlib.sha256(xdf.read_bytes()).hexdigest()
            ref = train_from_recording(r04, {"T1": "left", "T2": "right"})
            assert card["source"]["format"] == "xdf" and card["n_trials"] == ref.n_trials
            assert card["cv_score"] == pytest.approx(ref.cv_score, abs=1e-6)
            assert card["ch_names"] == ref.ch_names
            assert client.get(f"/models/{card['id']}").json()["source"] == card["source"]
            r = client.post("/models/train", json={**body, "recording": "../etc/passwd"})
            assert r.status_code == 404 and "No recording '../etc/passwd' in the folders" in r.text
            r = client.post("/models/train", json={**body, "events": {"T1": "a", "T2": "a"}})
            assert r.status_code == 422 and "at least 2 classes" in r.text
            r = client.post("/models/train", json={**body, "pipeline": "nope"})
            assert r.status_code == 422 and "nope" in r.text
    finally:
        manager.close()
    assert json.dumps(card)  # the card is JSON as served
    assert np.isfinite(card["cv_score"])
