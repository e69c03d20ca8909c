"""`bci models build-population`: a re-centred model for a headset from public data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.realdata]


def test_build_population_stores_a_model_that_decodes_and_adapts(
    eegbci_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from bci.cli import main
    from bci.decoders.store import ModelStore

    code = main(
        [
            "models", "--data-dir", str(tmp_path), "build-population", "--subjects", "1-2",
            "--headset", "openbci-cyton", "--data-path", str(eegbci_path),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    store = ModelStore(tmp_path / "models")
    (model_id,) = store.ids()
    assert model_id in out and "leave-one-subject-out ROC-AUC" in out
    model = store.load(model_id)
    card = store.card(model_id)
    pop = card["params"]["population"]
    assert pop["subjects"] == ["S001", "S002"] and pop["runs"]["S002"] == [4, 8, 12]
    assert card["ch_names"] == ["FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4", "Pz"]
    assert card["sfreq"] == 250.0 and pop["sfreq"] == 250.0
    assert card["window_s"] == pytest.approx(2.0) and card["n_trials"] == 90
    assert set(pop["cv_per_subject"]) == {"S001", "S002"}
    assert card["cv_score"] == pytest.approx(np.mean(list(pop["cv_per_subject"].values())))
    # decides from the first full window: 8 channels x 2 s at 250 Hz
    rng = np.random.default_rng(0)
    windows = rng.standard_normal((3, 8, 500)) * 10.0
    p0 = model.predict_proba(windows)
    assert p0.shape == (3, 2) and np.allclose(p0.sum(axis=1), 1.0)
    # the re-centring reference can follow a new user without labels
    rc = model.pipeline.named_steps["recenter"]
    ref0 = rc.reference_.copy()
    covs = model.pipeline.named_steps["cov"].transform(windows)
    rc.partial_fit(covs, alpha=0.5)
    assert not np.allclose(rc.reference_, ref0)
    p1 = model.pipeline.predict_proba(windows)
    assert not np.allclose(p1, p0)


def test_build_population_names_a_missing_channel(eegbci_path: Path, tmp_path: Path) -> None:
    from bci.errors import DataError
    from bci.evaluation.population import build_population

    with pytest.raises(DataError, match="needs >= 2 subjects"):
        build_population([1], "openbci-cyton", data_path=str(eegbci_path))
    with pytest.raises(DataError, match=r"headset channels \['TP9', 'TP10'\] are not in"):
        # the Muse's mastoid sensors are not among eegmmidb's 64
        build_population([1, 2], "muse", data_path=str(eegbci_path))
