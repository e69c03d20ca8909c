"""The evaluation protocol on synthetic epochs: identical folds, chance level, results files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bci.errors import DecoderError
from bci.evaluation import cross_validate, evaluate, format_table, make_folds, write_results
from bci.evaluation.protocol import _permuted

SFREQ = 128.0


def _source(seed: int = 0, n_per_class: int = 15, classes: tuple[str, ...] = ("left", "right")):
    calls: list[tuple[float, float]] = []
    rng = np.random.default_rng(seed)
    t = np.arange(256) / SFREQ
    X, y = [], []
    for k, lab in enumerate(classes):
        for _ in range(n_per_class):
            x = rng.standard_normal((4, 256))
            g = np.full(4, 2.0)
            g[k] = 0.6
            x += g[:, None] * np.sin(2 * np.pi * 11 * t + rng.uniform(0, 6.3))
            X.append(x)
            y.append(lab)
    X_, y_ = np.asarray(X), np.asarray(y)

    def source(band: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        calls.append(band)
        meta = {"sfreq": SFREQ, "ch_names": ["C3", "Cz", "C4", "Pz"], "tmin": 0.0, "tmax": 2.0}
        return X_.copy(), y_.copy(), meta

    return source, calls


def test_identical_folds_and_bands_per_pipeline() -> None:
    source, calls = _source()
    scores, data = evaluate(
        source,
        ["ts-lr", "fbts-lr", "mdm"],
        paradigm="imagery-left-right",
        dataset="synthetic",
        subject="sim",
        n_folds=5,
        seed=42,
        n_permutations=0,
        progress=False,
    )
    # the filter bank gets its own broad band; the others the protocol's 8-32 Hz
    assert sorted(set(calls)) == [(4.0, 40.0), (8.0, 32.0)]
    assert [s.band for s in scores] == [(8.0, 32.0), (4.0, 40.0), (8.0, 32.0)]
    X, y, _ = source((8.0, 32.0))
    folds = make_folds(y, 5, 42)
    for (_, te), (_, te2) in zip(folds, data["folds"], strict=True):
        np.testing.assert_array_equal(te, te2)
    # the same folds scored directly give the same per-fold numbers
    again, *_ = cross_validate("mdm", X, y, folds)
    assert scores[2].folds == pytest.approx(again)
    for s in scores:
        assert s.metric == "roc_auc" and len(s.folds) == 5
        assert s.mean == pytest.approx(np.mean(s.folds)) and s.std == pytest.approx(np.std(s.folds))
        assert s.mean > 0.9
        assert np.sum(s.confusion) == 30 and s.classes == ["left", "right"]
        assert s.chance is None and s.n_permutations == 0


def test_chance_level_from_permutations() -> None:
    source, _ = _source()
    scores, _ = evaluate(
        source,
        ["ts-lr", "mdm"],
        paradigm="p",
        dataset="synthetic",
        n_permutations=8,
        progress=False,
    )
    s = scores[0]
    assert s.chance_pipeline == "ts-lr" and s.n_permutations == 8
    assert 0.25 < s.chance < 0.75 and s.chance <= s.chance_p95 < s.mean
    assert scores[1].chance == s.chance  # one null distribution per subject and paradigm


def test_chance_level_in_parts_equals_the_whole_run() -> None:
    """A chance task split one permutation per worker concatenates to the serial null list."""
    from dataclasses import replace

    from bci.evaluation.protocol import chance_level
    from bci.evaluation.runner import _merge, split_task
    from bci.evaluation.tasks import DataSpec, Task

    source, _ = _source()
    X, y, meta = source((8.0, 32.0))
    folds = make_folds(y, 3, 5)
    kw = {"n_permutations": 4, "seed": 3}
    whole = chance_level("ts-lr", X, y, meta, folds, **kw)
    parts = [chance_level("ts-lr", X, y, meta, folds, only=(k, k + 1), **kw) for k in range(4)]
    assert [p[0] for p in parts] == whole and len(set(whole)) > 1
    assert chance_level("ts-lr", X, y, meta, folds, only=(1, 3), **kw) == whole[1:3]
    task = Task("chance", DataSpec(1, "imagery-left-right", None), "ts-lr", n_permutations=4)
    split = split_task(task)
    assert [p.permutations for p in split] == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert split_task(replace(task, kind="within")) == [replace(task, kind="within")]
    shuffled = [(3, {"null": [whole[3]]}), (0, {"null": [whole[0]]}), (2, {"null": [whole[2]]})]
    assert _merge([*shuffled, (1, {"null": [whole[1]]})]) == {"null": whole}


def test_permutations_keep_class_counts_in_every_fold() -> None:
    y = np.array(["a"] * 12 + ["b"] * 18)
    folds = make_folds(y, 3, 0)
    yp = _permuted(y, folds, np.random.default_rng(1))
    assert not np.array_equal(yp, y)
    for _, te in folds:
        assert sorted(yp[te]) == sorted(y[te])


def test_accuracy_for_more_than_two_classes() -> None:
    source, _ = _source(classes=("a", "b", "c"), n_per_class=10)
    scores, _ = evaluate(
        source, ["ts-lr"], paradigm="3", dataset="synthetic", n_permutations=0, progress=False
    )
    assert scores[0].metric == "accuracy" and scores[0].mean > 0.8
    assert len(scores[0].confusion) == 3


def test_too_few_trials_for_the_folds() -> None:
    source, _ = _source(n_per_class=4)
    with pytest.raises(DecoderError, match="Too few trials per class for 5-fold"):
        evaluate(source, ["ts-lr"], paradigm="p", dataset="d", progress=False)


def test_results_files_and_table(tmp_path: Path) -> None:
    source, _ = _source()
    ref = {"pipeline": "TS+LR", "mean": 0.6728, "std": 0.1919, "note": "a note"}
    scores, data = evaluate(
        source,
        ["ts-lr", "csp-lda"],
        paradigm="imagery-left-right",
        dataset="synthetic",
        subject="S001",
        n_permutations=2,
        progress=False,
        reference=lambda p, par: ref if p == "ts-lr" else None,
    )
    jpath, cpath = write_results(scores, tmp_path)
    rows = json.loads(jpath.read_text())
    assert isinstance(rows, list) and len(rows) == 2
    for key in (
        "pipeline",
        "paradigm",
        "metric",
        "mean",
        "std",
        "folds",
        "chance",
        "dataset",
        "subject",
        "n_epochs",
        "moabb",
    ):
        assert key in rows[0]
    assert rows[0]["moabb"]["mean"] == 0.6728 and rows[1]["moabb"] is None
    lines = cpath.read_text().splitlines()
    assert lines[0].startswith("dataset,subject,paradigm,pipeline,metric,mean,std,folds")
    assert len(lines) == 3 and ",ts-lr,roc_auc," in lines[1] and "TS+LR" in lines[1]
    table = format_table(scores)
    assert "0.673 ± 0.192 TS+LR" in table and "note: a note" in table
    assert "ts-lr" in table and "csp-lda" in table

    from bci.evaluation.figures import write_figures

    paths = write_figures(scores, data, tmp_path / "figures")
    names = sorted(p.name for p in paths)
    assert names == [
        "confusion-synthetic-S001-imagery-left-right-csp-lda.png",
        "confusion-synthetic-S001-imagery-left-right-ts-lr.png",
        "folds-synthetic-S001-imagery-left-right.png",
        "patterns-synthetic-S001-imagery-left-right.png",
    ]
    assert all(p.stat().st_size > 5000 and p.read_bytes()[:4] == b"\x89PNG" for p in paths)
