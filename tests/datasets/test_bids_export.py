import json

import numpy as np
import pytest

from bci.datasets.bids import export_bids
from bci.errors import DataError
from bci.streams.recorder import Recorder


@pytest.fixture
def session_xdf(tmp_path, rng):
    path = tmp_path / "rec.xdf"
    ch = ["C3", "Cz", "C4"]
    data = rng.standard_normal((1000, 3)).astype(np.float32) * 10
    ts = 50.0 + np.arange(1000) / 250.0
    with Recorder(path) as rec:
        rec.add_stream("eeg", "s", "EEG", ch_names=ch, sfreq=250.0)
        rec.add_stream("m", "s-markers", "Markers", n_channels=1, fmt="string", units="")
        rec.add_stream("p", "s-predictions", "Predictions", n_channels=1, fmt="string", units="")
        rec.push("eeg", data, ts)
        rec.push_marker("m", "left", 51.0)
        rec.push_marker("m", "right", 52.5)
        for i, t in enumerate((52.0, 52.0625)):
            rec.push_json(
                "p",
                {
                    "type": "prediction",
                    "t": t,
                    "label": "left",
                    "model_id": "m-x",
                    "probabilities": {"left": 0.7 - i / 10, "right": 0.3 + i / 10},
                },
                t,
            )
    return path, data


def test_export_then_read_back(session_xdf, tmp_path):
    from mne_bids import BIDSPath, read_raw_bids

    path, data = session_xdf
    root = tmp_path / "bids"
    out = export_bids(path, root, subject="07", task="mi")
    raw = read_raw_bids(BIDSPath(subject="07", task="mi", root=root, datatype="eeg"), verbose=False)
    assert raw.ch_names == ["C3", "Cz", "C4"] and raw.info["sfreq"] == 250.0
    np.testing.assert_allclose(raw.get_data() * 1e6, data.T, atol=1e-3)
    assert list(raw.annotations.description) == ["left", "right"]
    np.testing.assert_allclose(raw.annotations.onset, [1.0, 2.5], atol=1e-3)
    rows = (root / "derivatives/bci/sub-07/eeg/sub-07_task-mi_predictions.tsv").read_text()
    lines = rows.strip().splitlines()
    assert lines[0] == "onset\tlabel\tmodel_id\tprobabilities" and len(lines) == 3
    onset, label, model, probs = lines[1].split("\t")
    assert float(onset) == pytest.approx(2.0) and (label, model) == ("left", "m-x")
    assert json.loads(probs) == {"left": 0.7, "right": 0.3}
    assert out["predictions"].endswith("_predictions.tsv")
    with pytest.raises(DataError, match="--overwrite"):
        export_bids(path, root, subject="07", task="mi")


def test_bad_labels_and_files(session_xdf, tmp_path):
    path, _ = session_xdf
    with pytest.raises(DataError, match="subject must be alphanumeric"):
        export_bids(path, tmp_path / "b", subject="a_b")
    bad = tmp_path / "x.xdf"
    bad.write_bytes(b"not an xdf file")
    with pytest.raises(DataError):
        export_bids(bad, tmp_path / "b")


@pytest.mark.parametrize("unit", ["V", "0", "millivolts"])  # "0": mne-lsl's 10^0 V
def test_export_keeps_the_true_units_of_a_volts_recording(tmp_path, rng, unit):
    """A source in volts (mne-lsl, BrainFlow) recorded with its own header: BIDS gets volts."""
    from mne_bids import BIDSPath, read_raw_bids

    from bci.units import uv_scale

    volts = rng.standard_normal((500, 2)) * 20e-6
    per_unit = 1e-6 * uv_scale(unit)  # volts in one declared unit
    path = tmp_path / "volts.xdf"
    with Recorder(path) as rec:
        rec.add_stream(
            "eeg", "s", "EEG", ch_names=["C3..", "Fc4."], sfreq=250.0, units=unit, fmt="double64"
        )
        rec.add_stream("m", "s-markers", "Markers", n_channels=1, fmt="string", units="")
        rec.push("eeg", volts / per_unit, 10.0 + np.arange(500) / 250.0)
        rec.push_marker("m", "left", 11.0)
    root = tmp_path / "bids"
    export_bids(path, root, subject="01", task="mi")
    bp = BIDSPath(subject="01", task="mi", root=root, datatype="eeg")
    raw = read_raw_bids(bp, verbose=False)
    assert raw.ch_names == ["C3", "FC4"]  # EDF-style labels standardised
    np.testing.assert_allclose(raw.get_data(), volts.T, rtol=1e-5, atol=1e-12)
    tsv = (bp.directory / "sub-01_task-mi_channels.tsv").read_text().splitlines()
    header = tsv[0].split("\t")
    row = dict(zip(header, tsv[1].split("\t"), strict=True))
    assert (row["name"], row["type"], row["units"]) == ("C3", "EEG", "µV"), row
