"""Pseudo-online evaluation: the real recording through the online engine agrees with offline."""

import json

import numpy as np
import pytest

from bci.cli import main
from bci.online.pseudo_online import pseudo_online


# ~100-160 s of real-data decoding on 2 cores (the suite-wide 120 s is for hangs)
@pytest.mark.timeout(600)
@pytest.mark.slow
@pytest.mark.realdata
def test_subject1_online_agrees_with_offline_within_two_points(eegbci_path, tmp_path, capsys):
    code = main(
        [
            "evaluate",
            "--dataset",
            "eegbci",
            "--subjects",
            "1",
            "--paradigm",
            "imagery-left-right",
            "--pipelines",
            "ts-lr",
            "--online",
            "--folds",
            "5",
            "--seed",
            "42",
            "--output",
            str(tmp_path),
            "--data-path",
            str(eegbci_path),
        ]
    )
    assert code == 0
    rows = json.loads((tmp_path / "online.json").read_text())
    assert len(rows) == 1
    r = rows[0]
    assert r["pipeline"] == "ts-lr" and r["metric"] == "roc_auc"
    assert abs(r["difference_points"]) <= 2.0
    assert r["online_mean"] >= 0.85  # the decisions themselves are good, not only equal
    # every 1/16 s over 375 s of recording, five times (one model per fold)
    assert r["n_decisions"] > 5 * 375 * 16 * 0.95
    assert r["max_window_offset_samples"] <= 5  # half a 10-sample step at 160 Hz
    assert "ts-lr" in capsys.readouterr().out


def test_synthetic_online_equals_offline():
    from bci.streams.synthetic import simulate_run

    run = simulate_run("imagery-left-right", trials_per_class=15, seed=8)
    res = pseudo_online(
        run.data,
        run.sfreq,
        run.ch_names,
        run.events,
        pipeline="mdm",
        tmin=0.5,
        tmax=2.5,
        folds=3,
        seed=1,
        step_s=1 / run.sfreq * 10,
    )
    assert res.metric == "roc_auc" and len(res.online) == 3
    # with a 10-sample step the nearest decision ends up to 5 samples from a trial's end
    assert np.isclose(res.online_mean, res.offline_mean, atol=0.05)
    assert res.max_offset_samples <= 5
