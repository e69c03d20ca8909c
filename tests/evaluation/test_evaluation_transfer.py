"""Cross-subject transfer on synthetic domains (fast) and on two real subjects."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from bci.errors import DataError
from bci.evaluation.tasks import DataSpec
from bci.evaluation.transfer import (
    VOTE_MEMBERS,
    _cross_subject,
    _curve,
    _curve_proba,
    _domains,
    calibration_split,
    transfer_tasks,
)


def _domain(
    rng: np.random.Generator, A: np.ndarray, n_per_class: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Alternating left/right trials; the class sets the variance of channel 0 or 1."""
    n_ch = A.shape[0]
    covs, ys = [], []
    for i in range(2 * n_per_class):
        lab, g = (("left", 0), ("right", 1))[i % 2]
        d = np.ones(n_ch)
        d[g] = 1.5
        X = rng.standard_normal((n_ch, 200)) * np.sqrt(d)[:, None]
        covs.append(X @ X.T / 200)
        ys.append(lab)
    C = np.einsum("ij,njk,lk->nil", A, np.array(covs), A)
    return C, np.array(ys)


def test_calibration_split_takes_the_first_trials_of_each_class_in_time() -> None:
    y = np.array(["l", "r", "r", "l", "r", "l", "l", "r"])
    cal, test = calibration_split(y, 2)
    assert cal.tolist() == [0, 1, 2, 3] and test.tolist() == [4, 5, 6, 7]
    with pytest.raises(DataError, match="4 labelled trials per class leave none of class 'l'"):
        calibration_split(y, 4)


def test_transfer_tasks_need_two_subjects_and_known_methods() -> None:
    one = [DataSpec(1, "imagery-left-right", None)]
    with pytest.raises(DataError, match="needs >= 2 subjects, got \\['S001'\\]"):
        transfer_tasks("cross-subject", one, ["none"], band=(8.0, 32.0), seed=0)
    two = [*one, DataSpec(2, "imagery-left-right", None)]
    with pytest.raises(DataError, match="unknown \\['within'\\] for cross-subject"):
        transfer_tasks("cross-subject", two, ["within"], band=(8.0, 32.0), seed=0)
    tasks = transfer_tasks("calibration-curve", two, ["within", "rpa"], band=(8, 32), seed=0)
    assert [(t.data.label, t.pipeline, [s.label for s in t.sources]) for t in tasks] == [
        ("S001", "within", ["S002"]),
        ("S001", "rpa", ["S002"]),
        ("S002", "within", ["S001"]),
        ("S002", "rpa", ["S001"]),
    ]


def test_procrustes_rotation_with_labelled_trials_fixes_what_recentring_cannot() -> None:
    # the target's covariances are rotated (an orthogonal congruence): its mean stays at the
    # identity, so re-centring changes nothing, while RPA rotates the sources onto the
    # target's class means estimated from 5 labelled trials per class
    rng = np.random.default_rng(2)
    sources = [_domain(rng, np.eye(6)) for _ in range(3)]
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    Ct, yt = _domain(rng, Q)
    rec = _curve("recenter", sources, Ct, yt, (5,))[0]
    rpa = _curve("rpa", sources, Ct, yt, (5,))[0]
    assert (rec["n_labelled"], rec["n_scored"]) == (10, 50)
    assert rpa["score"] >= 0.95
    assert rpa["score"] > rec["score"] + 0.1
    # zero labels: the row says how the rotation's target class means were obtained
    row = _cross_subject("rpa", sources, Ct, yt)
    assert row["k"] == 0 and row["n_scored"] == 60 and "pseudo_label_accuracy" in row


def test_vote_is_the_mean_probability_of_its_members() -> None:
    from bci.evaluation.protocol import score
    from bci.evaluation.transfer import _center_stretch

    rng = np.random.default_rng(3)
    sources = [_domain(rng, np.eye(5)) for _ in range(3)]
    Ct, yt = _domain(rng, np.diag([2.0, 0.5, 1.0, 1.0, 3.0]))
    vote = _curve("vote", sources, Ct, yt, (2, 5))
    X, y, dom, y_enc = _domains(sources, Ct)
    aligned = _center_stretch(X, y_enc, stretch=False)[0]
    classes = ["left", "right"]
    for row, k in zip(vote, (2, 5), strict=True):
        cal, test = calibration_split(yt, k)
        probas = [
            _curve_proba(m, Ct, yt, aligned, y, dom, cal, test, classes) for m in VOTE_MEMBERS
        ]
        assert row["score"] == pytest.approx(
            score("roc_auc", yt[test], np.mean(probas, 0), classes)
        )
        assert row["n_labelled"] == 2 * k
        # each member's own row is the member alone
        for m, p in zip(VOTE_MEMBERS, probas, strict=True):
            own = next(r for r in _curve(m, sources, Ct, yt, (k,)))
            assert own["score"] == pytest.approx(score("roc_auc", yt[test], p, classes))


def test_recentring_uses_no_target_label() -> None:
    rng = np.random.default_rng(0)
    sources = [_domain(rng, np.eye(5)) for _ in range(2)]
    Ct, yt = _domain(rng, np.diag([2.0, 0.5, 1.0, 1.0, 3.0]))
    a = _cross_subject("recenter", sources, Ct, yt)
    # relabelling the target flips the score around 0.5 and nothing else: the model and the
    # alignment never saw the target's labels
    b = _cross_subject("recenter", sources, Ct, np.where(yt == "left", "right", "left"))
    assert a["score"] == pytest.approx(1.0 - b["score"])
    assert a["score"] > 0.9


@pytest.mark.realdata
def test_cross_subject_cli_on_two_subjects(eegbci_path: Path, tmp_path: Path, capsys) -> None:
    from bci.cli.evaluate import register

    parser = argparse.ArgumentParser(prog="bci")
    register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "evaluate", "--dataset", "eegbci", "--subjects", "1-2", "--protocol",
            "calibration-curve", "--trials", "5", "--methods", "within,recenter",
            "--data-path", str(eegbci_path), "--output", str(tmp_path), "--no-progress",
        ]
    )  # fmt: skip
    assert args.func(args) == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    rows = doc["rows"]
    assert sorted((r["target"], r["method"], r["k"]) for r in rows) == [
        ("S001", "recenter", 5), ("S001", "within", 5),
        ("S002", "recenter", 5), ("S002", "within", 5),
    ]  # fmt: skip
    assert all(r["n_channels"] == 21 and r["n_labelled"] == 10 for r in rows)
    assert all(0.0 <= r["score"] <= 1.0 for r in rows)
    summ = {(s["method"], s["k"]): s for s in doc["summary"]}
    within = [r["score"] for r in rows if r["method"] == "within"]
    assert summ[("within", 5)]["mean"] == pytest.approx(np.mean(within))
    assert summ[("recenter", 5)]["target"] == 0.78
    assert (tmp_path / "figures" / "calibration-curve.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "within@5" in out and "recenter@5" in out and "target recenter" in out


def test_within_transfer_folds_score_every_trial_once_on_the_shared_folds() -> None:
    from bci.evaluation.protocol import make_folds
    from bci.evaluation.transfer import within_transfer_folds

    rng = np.random.default_rng(3)
    sources = [_domain(rng, np.eye(5)) for _ in range(2)]
    Ct, yt = _domain(rng, np.diag([2.0, 0.5, 1.0, 1.0, 3.0]), n_per_class=15)
    folds = make_folds(yt, 3, 0)
    scores, oof, classes = within_transfer_folds("recenter", sources, Ct, yt, folds)
    assert classes == ["left", "right"] and len(scores) == 3
    assert np.isfinite(oof).all() and np.allclose(oof.sum(axis=1), 1.0)
    assert np.mean(scores) > 0.8


def test_within_tasks_add_transfer_entries_on_the_motor_channels() -> None:
    from bci.evaluation.tasks import MOTOR_CHANNELS, within_tasks

    data = [DataSpec(s, "imagery-left-right", None) for s in (1, 2, 3)]
    tasks = within_tasks(
        data, ["ts-lr"], band=(8.0, 32.0), n_folds=5, seed=0, n_permutations=0,
        transfer=["tl-rpa"],
    )  # fmt: skip
    tl = [t for t in tasks if t.kind == "within-transfer"]
    assert [t.data.label for t in tl] == ["S001", "S002", "S003"]
    assert all(t.data.channels == MOTOR_CHANNELS and len(t.sources) == 2 for t in tl)
    assert [s.label for s in tl[1].sources] == ["S001", "S003"]
    with pytest.raises(DataError, match=r"Unknown transfer pipeline 'tl-x'\. Must be one of: tl-"):
        within_tasks(data, ["ts-lr"], band=(8, 32), n_folds=5, seed=0, n_permutations=0,
                     transfer=["tl-x"])  # fmt: skip
