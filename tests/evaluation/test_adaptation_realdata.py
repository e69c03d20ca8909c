"""The pseudo-online adaptation replay on real eegmmidb subjects (needs BCI_DATA_PATH).

Two subjects only (S002 held out, S003 as the source) keep it short; the ten-subject table
comes from ``python -m bci.evaluation.adaptation --subjects 1-10``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bci.decoders.adaptation import alpha_for_horizon
from bci.evaluation.adaptation import _source_model, load_subject, run_adaptation
from bci.evaluation.adaptation_engine import replay_engine

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

CONDITIONS = ["unaligned", "static", "recenter-none", "recenter-balanced"]


def test_replay_rows_and_reference_errors(eegbci_path: Path) -> None:
    res = run_adaptation(
        [2, 3], holdout=[2], conditions=CONDITIONS, orders=["time", "runs"], path=eegbci_path
    )
    rows = {(r["order"], r["condition"]): r for r in res["rows"]}
    assert set(rows) == {(o, c) for o in ("time", "runs") for c in CONDITIONS}
    for r in rows.values():
        assert r["n_trials"] == 45 and r["subject"] == 2
        assert 0.0 <= r["early"] <= 1.0 and 0.0 <= r["late"] <= 1.0
    for order in ("time", "runs"):
        # not re-centring leaves the reference far (µV² scale) from the subject's own mean;
        # a tracker ends nearer to the whole-recording mean than the first seconds do
        unaligned = rows[(order, "unaligned")]["ref_error"]
        static = rows[(order, "static")]["ref_error"]
        assert unaligned > 5 * static
        assert rows[(order, "recenter-none")]["ref_error"] < static
        assert rows[(order, "recenter-balanced")]["ref_error"] < static
    assert {s["condition"] for s in res["summary"]} == set(CONDITIONS)


def test_engine_replay_agrees_with_the_simulation(eegbci_path: Path) -> None:
    from sklearn.metrics import roc_auc_score

    target, source = load_subject(2, path=eegbci_path), load_subject(3, path=eegbci_path)
    model, _, _ = _source_model([source])
    P = replay_engine(target, "static", model, alpha=alpha_for_horizon(60, 0.5), n_init=16)
    assert P.shape == (45, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    res = run_adaptation(
        [2, 3], holdout=[2], conditions=["static"], orders=["time"], path=eegbci_path
    )
    sim = res["rows"][0]["all"]
    online = roc_auc_score(target.y == "right", P[:, 1])
    # decisions every 1/16 s land within 5 samples of the trial's end: nearly the same AUC
    assert abs(online - sim) < 0.05, (online, sim)


def test_supervised_session_option_through_the_engine_agrees_with_the_simulation(
    eegbci_path: Path,
) -> None:
    """The ``"supervised"`` session option (AdaptationStage, cues as markers) vs its simulation."""
    from sklearn.metrics import roc_auc_score

    target, source = load_subject(2, path=eegbci_path), load_subject(3, path=eegbci_path)
    model, _, _ = _source_model([source])
    kw = {"alpha": alpha_for_horizon(60, 0.5), "n_init": 16}
    P = replay_engine(target, "supervised-session", model, **kw)
    static = replay_engine(target, "static", model, **kw)
    assert P.shape == (45, 2)
    # the first 10 labelled trials (5 per class at the earliest) are decided by the source
    # model, the later ones by refits on the session's trials: different probabilities
    late = slice(30, 45)
    assert np.abs(P[late] - static[late]).max() > 0.05
    res = run_adaptation(
        [2, 3], holdout=[2], conditions=["supervised-session"], orders=["time"], path=eegbci_path
    )
    row = res["rows"][0]
    y = target.y == "right"
    # labelled windows end within 5 samples of the simulation's trial windows: close AUCs
    assert abs(roc_auc_score(y, P[:, 1]) - row["all"]) < 0.05, (row, roc_auc_score(y, P[:, 1]))
    assert abs(roc_auc_score(y[22:], P[22:, 1]) - row["late"]) < 0.05


# ~100-160 s of real-data decoding on 2 cores (the suite-wide 120 s is for hangs)
@pytest.mark.timeout(600)
@pytest.mark.slow
def test_evaluate_online_cross_subject_replays_through_the_engine(eegbci_path, tmp_path, capsys):
    """`bci evaluate --online --protocol cross-subject`: engine replay rows per subject."""
    from bci.cli import main

    code = main(
        [
            "evaluate", "--dataset", "eegbci", "--subjects", "2,3", "--online",
            "--protocol", "cross-subject", "--data-path", str(eegbci_path),
            "--output", str(tmp_path),
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    res = json.loads((tmp_path / "results.json").read_text())
    engine = [r for r in res["rows"] if r["order"] == "engine"]
    conds = {"static", "recenter-none", "recenter-weighted", "supervised-session", "oracle"}
    assert {(r["subject"], r["condition"]) for r in engine} == {
        (s, c) for s in (2, 3) for c in conds
    }
    for r in engine:
        assert r["n_trials"] == 45 and 0.0 <= r["early"] <= 1.0 and 0.0 <= r["late"] <= 1.0
    assert "late half AUC" in capsys.readouterr().out
