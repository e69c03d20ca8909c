"""Multi-subject evaluation: summaries over subjects, tasks, failures that name their task."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bci.errors import DataError
from bci.evaluation.protocol import PipelineScore
from bci.evaluation.report import format_summary, summarise_subjects
from bci.evaluation.runner import run_tasks
from bci.evaluation.tasks import DataSpec, Task, within_tasks


def _score(pipeline: str, subject: str, mean: float) -> PipelineScore:
    return PipelineScore(
        pipeline=pipeline,
        paradigm="imagery-left-right",
        metric="roc_auc",
        mean=mean,
        std=0.1,
        folds=[mean] * 5,
        dataset="eegbci",
        subject=subject,
        n_epochs=45,
        n_channels=64,
        classes=["left", "right"],
        band=(8.0, 32.0),
        tmin=0.0,
        tmax=3.0,
        n_folds=5,
        seed=42,
    )


def test_summary_over_subjects_pairs_subjects_and_checks_the_margin() -> None:
    ts = {"S001": 0.9, "S002": 0.6, "S003": 0.5}
    other = {"S001": 0.92, "S002": 0.7, "S003": 0.48}
    scores = [_score("ts-lr", s, v) for s, v in ts.items()]
    scores += [_score("fgmdm", s, v) for s, v in other.items()]
    scores += [_score("mdm", s, v - 0.1) for s, v in ts.items()]
    summary = summarise_subjects(scores)
    fg = summary["pipelines"]["fgmdm"]
    assert fg["mean"] == pytest.approx(np.mean(list(other.values())))
    assert fg["sd"] == pytest.approx(np.std(list(other.values()), ddof=1))
    assert fg["diff_vs_reference"] == pytest.approx((0.02 + 0.1 - 0.02) / 3)
    assert (fg["wins"], fg["losses"], fg["worst_subject"]) == (2, 1, "S003")
    assert summary["best_plain"] == "ts-lr" and summary["best_other"] == "fgmdm"
    # 0.7 vs 0.6667: +0.033 >= +0.03
    assert summary["target_met"] is True
    assert summarise_subjects(scores, margin=0.05)["target_met"] is False
    text = format_summary(summary)
    assert "fgmdm" in text and "+0.033" in text and "2/1" in text and "met" in text


def test_scores_survive_the_trip_through_json() -> None:
    s = _score("ts-lr", "S004", float("nan"))
    back = PipelineScore.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back.band == (8.0, 32.0) and math.isnan(back.mean) and back.subject == "S004"


def test_within_tasks_one_per_subject_and_pipeline_plus_chance() -> None:
    data = [DataSpec(s, "imagery-left-right", None) for s in (1, 2)]
    tasks = within_tasks(
        data, ["ts-lr", "fbts-lr"], band=(8.0, 32.0), n_folds=5, seed=1, n_permutations=3
    )
    assert [(t.kind, t.data.subject, t.pipeline) for t in tasks] == [
        ("within", 1, "ts-lr"),
        ("within", 1, "fbts-lr"),
        ("chance", 1, "ts-lr"),
        ("within", 2, "ts-lr"),
        ("within", 2, "fbts-lr"),
        ("chance", 2, "ts-lr"),
    ]
    assert tasks[1].band == (4.0, 40.0) and tasks[0].band == (8.0, 32.0)
    assert tasks[2].n_permutations == 3


def test_a_failing_task_is_named_and_the_others_finish() -> None:
    bad = Task("within", DataSpec(200, "imagery-left-right", None), "ts-lr")
    odd = Task("nonsense", DataSpec(3, "imagery-left-right", None), "mdm")
    results, failures = run_tasks([bad, odd], progress=False)
    assert results == [None, None]
    assert [f.task for f in failures] == ["S200 ts-lr", "S003 mdm"]
    assert "eegbci subject must be in 1..109, got 200" in failures[0].error
    assert "task kind must be" in failures[1].error and "'nonsense'" in failures[1].error


def test_workers_and_scheduler_options_are_checked() -> None:
    with pytest.raises(DataError, match="--workers must be >= 0, got -1"):
        run_tasks([], workers=-1, progress=False)
    with pytest.raises(DataError, match="not both"):
        run_tasks([], workers=2, scheduler="tcp://127.0.0.1:1", progress=False)


@pytest.mark.realdata
def test_two_subjects_serial_rows_and_summary(eegbci_path: Path, tmp_path: Path, capsys) -> None:
    from bci.evaluation.cli import register

    parser = argparse.ArgumentParser(prog="bci")
    register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "evaluate", "--dataset", "eegbci", "--subjects", "1,2", "--pipelines", "ts-lr,mdm",
            "--folds", "3", "--permutations", "0", "--data-path", str(eegbci_path),
            "--output", str(tmp_path), "--no-progress", "--no-figures",
        ]
    )  # fmt: skip
    assert args.func(args) == 0
    out = capsys.readouterr().out
    rows = json.loads((tmp_path / "results.json").read_text())
    assert sorted((r["subject"], r["pipeline"]) for r in rows) == [
        ("S001", "mdm"), ("S001", "ts-lr"), ("S002", "mdm"), ("S002", "ts-lr"),
    ]  # fmt: skip
    summary = json.loads((tmp_path / "summary.json").read_text())
    ts = [r["mean"] for r in rows if r["pipeline"] == "ts-lr"]
    assert summary["pipelines"]["ts-lr"]["mean"] == pytest.approx(np.mean(ts))
    assert summary["pipelines"]["ts-lr"]["sd"] == pytest.approx(np.std(ts, ddof=1))
    assert "S001" in out and "S002" in out and "vs ts-lr (paired)" in out
    csv_lines = (tmp_path / "results.csv").read_text().splitlines()
    assert len(csv_lines) == 5 and csv_lines[1].startswith("eegbci,S00")
