"""Issue 11's a-priori methods: nested selections see training data only (fast, synthetic)."""

from __future__ import annotations

import numpy as np
import pytest
from test_evaluation_transfer import _domain

from bci.errors import DataError
from bci.evaluation import transfer
from bci.evaluation.tasks import DataSpec
from bci.evaluation.transfer import _curve, transfer_tasks


def test_auto_alignment_is_chosen_without_the_target() -> None:
    # 4 source subjects with an imagined and an executed domain each, and a target
    rng = np.random.default_rng(5)
    sources = [_domain(rng, np.eye(5), n_per_class=12) for _ in range(8)]
    groups = [1, 1, 2, 2, 3, 3, 4, 4]
    imagined = [True, False] * 4
    Ct, yt = _domain(rng, np.diag([2.0, 0.5, 1.0, 1.0, 3.0]), n_per_class=12)
    calls: list[tuple[np.ndarray, list[int]]] = []
    real = transfer._cross_subject

    def spy(method, srcs, C, y, **kw):
        ids = [next(i for i, s in enumerate(sources) if s[0] is c) for c, _ in srcs]
        calls.append((C, ids))
        return real(method, srcs, C, y, **kw)

    transfer._cross_subject = spy
    try:
        row = real("auto", sources, Ct, yt, groups=groups, imagined=imagined)
    finally:
        transfer._cross_subject = real
    inner, final = calls[:-1], calls[-1]
    assert len(inner) == 4 * 3  # 4 held-out source subjects x 3 alignments
    assert final[0] is Ct and final[1] == list(range(8))
    for C, ids in inner:
        assert not np.array_equal(C, Ct)  # the target is never an inner target
        held = next(i for i, s in enumerate(sources) if np.array_equal(s[0], C))
        assert imagined[held]  # the inner target is an imagined domain...
        assert all(groups[i] != groups[held] for i in ids)  # ...its subject's executed too
    assert row["selected"] in ("none", "recenter", "rpa")
    assert set(row["inner_scores"]) == {"none", "recenter", "rpa"}


def test_nested_selection_never_sees_the_test_fold(monkeypatch) -> None:
    from bci.decoders import make_pipeline, selection

    seen: set[int] = set()

    class Spy:
        def __init__(self, inner):
            self.inner = inner

        def fit(self, X, y):
            seen.update(int(v) for v in X[:, 0, 0])
            self.inner.fit(X, y)
            self.classes_ = self.inner.classes_
            return self

        def predict_proba(self, X):
            seen.update(int(v) for v in X[:, 0, 0])
            return self.inner.predict_proba(X)

        def get_params(self, deep=True):
            return {"inner": self.inner}

        def set_params(self, **p):
            return self

    real = selection._candidate
    monkeypatch.setattr(selection, "_candidate", lambda n, c: Spy(real(n, c)))
    rng = np.random.default_rng(0)
    y = np.array(["left", "right"] * 15)
    X = rng.standard_normal((30, 4, 200))
    X[y == "left", 1] *= 2.0
    X[:, 0, 0] = np.arange(30) * 1000.0  # each trial carries its index
    train, test = np.arange(20), np.arange(20, 30)
    est = make_pipeline("auto").fit(X[train], y[train])
    sel = est[-1]
    assert seen == set(range(0, 20_000, 1000))  # training trials only, all of them
    for tr, te in sel.inner_folds_:
        assert max(tr.max(), te.max()) < len(train) and not set(tr) & set(te)
    assert sorted(np.concatenate([te for _, te in sel.inner_folds_])) == list(range(20))
    assert sel.selected_ == max(sel.inner_scores_, key=sel.inner_scores_.get)
    proba = est.predict_proba(X[test])
    assert proba.shape == (10, 2) and np.allclose(proba.sum(axis=1), 1.0)


def test_ensemble_is_the_mean_of_its_candidates() -> None:
    from bci.decoders import make_pipeline

    rng = np.random.default_rng(1)
    y = np.array(["left", "right"] * 12)
    X = rng.standard_normal((24, 4, 200))
    X[y == "left", 1] *= 2.0
    vote = make_pipeline("ensemble").fit(X, y)[-1]
    expected = np.mean([e.predict_proba(X) for e in vote.estimators_], axis=0)
    assert np.allclose(vote.predict_proba(X), expected)
    assert len(vote.estimators_) == 5


def test_executed_sources_are_other_subjects_only() -> None:
    from bci.cli._transfer import transfer_methods

    methods = transfer_methods(None, "imagery,executed", ("within", "recenter", "mdwm"))
    assert methods == ["within", "recenter", "mdwm", "recenter+ex", "mdwm+ex"]
    with pytest.raises(DataError, match="--source-runs"):
        transfer_methods(None, "executed", ("recenter",))
    data = [DataSpec(s, "imagery-left-right", None) for s in (1, 2, 3)]
    tasks = transfer_tasks("cross-subject", data, ["none", "auto+ex"], band=(8, 32), seed=0)
    t = tasks[1]
    assert (t.data.label, t.pipeline) == ("S001", "auto+ex")
    assert [(s.label, s.paradigm) for s in t.sources] == [
        ("S002", "imagery-left-right"), ("S003", "imagery-left-right"),
        ("S002", "executed-left-right"), ("S003", "executed-left-right"),
    ]  # fmt: skip
    assert len(tasks[0].sources) == 2
    with pytest.raises(DataError, match="within\\+ex"):
        transfer_tasks("calibration-curve", data, ["within+ex"], band=(8, 32), seed=0)


def test_weighted_transfer_learns_from_the_labelled_target_trials() -> None:
    # the target's classes live on other channels than the sources': with equal weights
    # (recenter) the sources drown the k labelled target trials; tlc-w and mdwm give the
    # target half the say and follow it
    rng = np.random.default_rng(4)
    sources = [_domain(rng, np.eye(6)) for _ in range(3)]
    P = np.eye(6)[[3, 4, 2, 0, 1, 5]]  # class channels 0/1 moved to 3/4
    Ct, yt = _domain(rng, P)
    rec = _curve("recenter", sources, Ct, yt, (2,))[0]
    tlc = _curve("tlc-w", sources, Ct, yt, (2,))[0]
    mdwm = _curve("mdwm", sources, Ct, yt, (2,))[0]
    assert (tlc["n_labelled"], tlc["n_scored"]) == (4, 56)
    assert rec["score"] < 0.7
    assert tlc["score"] > 0.95 and mdwm["score"] > 0.95
