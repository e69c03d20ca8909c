"""Evaluation results as a terminal table, ``results.json`` and ``results.csv``."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bci.evaluation.protocol import PipelineScore

__all__ = [
    "CSV_COLUMNS",
    "PLAIN_PIPELINES",
    "format_subject_matrix",
    "format_summary",
    "format_table",
    "summarise_subjects",
    "write_results",
]

#: Plain pyRiemann pipelines: the in-run baseline every other pipeline must beat.
PLAIN_PIPELINES = ("ts-lr", "ts-svm", "mdm")

#: Columns of ``results.csv`` (``folds`` joined by ``;``).
CSV_COLUMNS = (
    "dataset",
    "subject",
    "paradigm",
    "pipeline",
    "metric",
    "mean",
    "std",
    "folds",
    "chance",
    "chance_p95",
    "n_permutations",
    "n_epochs",
    "n_channels",
    "band",
    "tmin",
    "tmax",
    "n_folds",
    "seed",
    "fit_time_s",
    "moabb_pipeline",
    "moabb_mean",
    "moabb_std",
)


def _num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}"


def format_table(scores: Sequence[PipelineScore]) -> str:
    """A plain-text table: ours (mean ± sd over folds) beside MOABB's (over subjects).

    The best mean per (subject, paradigm) is marked with ``*``.
    """
    if not scores:
        return "(no results)"
    best: dict[tuple[str | None, str], float] = {}
    for s in scores:
        key = (s.subject, s.paradigm)
        best[key] = max(best.get(key, -math.inf), s.mean)
    header = ["subject", "paradigm", "pipeline", "metric", "ours", "chance (p95)", "MOABB"]
    rows = []
    for s in scores:
        mark = "*" if math.isclose(s.mean, best[(s.subject, s.paradigm)], abs_tol=1e-9) else " "
        chance = f"{_num(s.chance)} ({_num(s.chance_p95)})" if s.chance is not None else "-"
        if s.moabb:
            ref = f"{s.moabb['mean']:.3f} ± {s.moabb['std']:.3f} {s.moabb['pipeline']}"
        else:
            ref = "-"
        rows.append(
            [
                str(s.subject if s.subject is not None else s.dataset),
                s.paradigm,
                s.pipeline + mark,
                s.metric,
                f"{_num(s.mean)} ± {_num(s.std)}",
                chance,
                ref,
            ]
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    notes = sorted(
        {n for s in scores if s.moabb for n in str(s.moabb.get("note", "")).split("; ") if n}
    )
    footer = [
        "",
        f"ours: mean ± sd over {scores[0].n_folds} folds (seed {scores[0].seed}); "
        "MOABB: published mean ± sd over subjects (PhysionetMI); * best here",
    ]
    footer += [f"note: {n}" for n in notes]
    return "\n".join(out + footer)


def write_results(scores: Sequence[PipelineScore], outdir: str | Path) -> tuple[Path, Path]:
    """Write ``results.json`` (a list of objects) and ``results.csv`` into ``outdir``.

    Returns
    -------
    json_path, csv_path : Path
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    jpath = out / "results.json"
    jpath.write_text(
        json.dumps([s.to_dict() for s in scores], indent=2, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    cpath = out / "results.csv"
    with open(cpath, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for s in scores:
            d = s.to_dict()
            ref = s.moabb or {}
            row = {
                **d,
                "folds": ";".join(f"{f:.6f}" for f in s.folds),
                "band": "" if s.band is None else f"{s.band[0]:g}-{s.band[1]:g}",
                "moabb_pipeline": ref.get("pipeline", ""),
                "moabb_mean": ref.get("mean", ""),
                "moabb_std": ref.get("std", ""),
            }
            w.writerow(["" if row.get(c) is None else row.get(c) for c in CSV_COLUMNS])
    return jpath, cpath


def _by_pipeline(scores: Sequence[PipelineScore]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for s in scores:
        out.setdefault(s.pipeline, {})[str(s.subject)] = s.mean
    return out


def summarise_subjects(
    scores: Sequence[PipelineScore], reference: str = "ts-lr", margin: float = 0.03
) -> dict[str, Any]:
    """Per pipeline: mean ± sd over subjects, range, and the paired difference to ``reference``.

    Parameters
    ----------
    scores : sequence of PipelineScore
        One per (subject, pipeline), all on the same folds per subject.
    reference : str
        The in-run reference pipeline (plain pyRiemann TS+LR).
    margin : float
        The target: best non-plain mean >= best plain mean + ``margin``.

    Returns
    -------
    summary : dict
        ``pipelines`` {name: {n_subjects, mean, sd (ddof=1), min, max, worst_subject,
        diff_vs_reference, diff_sd, wins, losses, moabb}}, ``reference``, ``best_plain``,
        ``best_other``, ``margin``, ``target_met``.
    """
    by = _by_pipeline(scores)
    moabb = {s.pipeline: s.moabb for s in scores if s.moabb}
    ref = by.get(reference, {})
    rows: dict[str, dict[str, Any]] = {}
    for name, per in by.items():
        subs = sorted(per)
        v = np.array([per[k] for k in subs], dtype=float)
        row: dict[str, Any] = {
            "n_subjects": len(subs),
            "mean": float(np.nanmean(v)),
            "sd": float(np.nanstd(v, ddof=1)) if len(v) > 1 else 0.0,
            "min": float(np.nanmin(v)),
            "max": float(np.nanmax(v)),
            "worst_subject": subs[int(np.nanargmin(v))],
            "moabb": moabb.get(name),
        }
        common = [k for k in subs if k in ref]
        if common and name != reference:
            d = np.array([per[k] - ref[k] for k in common])
            row["diff_vs_reference"] = float(np.mean(d))
            row["diff_sd"] = float(np.std(d, ddof=1)) if len(d) > 1 else 0.0
            row["wins"] = int(np.sum(d > 1e-9))
            row["losses"] = int(np.sum(d < -1e-9))
        rows[name] = row
    plain = {k: v["mean"] for k, v in rows.items() if k in PLAIN_PIPELINES}
    other = {k: v["mean"] for k, v in rows.items() if k not in PLAIN_PIPELINES}
    best_plain = max(plain, key=plain.__getitem__) if plain else None
    best_other = max(other, key=other.__getitem__) if other else None
    met = None
    if best_plain and best_other:
        met = bool(other[best_other] >= plain[best_plain] + margin - 1e-12)
    return {
        "reference": reference,
        "pipelines": rows,
        "best_plain": best_plain,
        "best_other": best_other,
        "margin": margin,
        "target_met": met,
    }


def format_subject_matrix(scores: Sequence[PipelineScore]) -> str:
    """Rows: subjects; columns: pipelines (mean over folds); last column: chance p95."""
    if not scores:
        return "(no results)"
    by = _by_pipeline(scores)
    names = list(by)
    subjects = sorted({str(s.subject) for s in scores})
    p95 = {str(s.subject): s.chance_p95 for s in scores if s.chance_p95 is not None}
    w = max(8, *(len(n) + 2 for n in names))
    out = ["subject".ljust(9) + "".join(n.rjust(w) for n in names) + "chance p95".rjust(12)]
    for sub in subjects:
        best = max((by[n].get(sub, -math.inf) for n in names), default=-math.inf)
        cells = []
        for n in names:
            v = by[n].get(sub)
            mark = "*" if v is not None and math.isclose(v, best, abs_tol=1e-9) else " "
            cells.append((_num(v) + mark).rjust(w))
        out.append(sub.ljust(9) + "".join(cells) + _num(p95.get(sub)).rjust(12))
    return "\n".join(out)


def format_summary(summary: dict[str, Any]) -> str:
    """Per pipeline: mean ± sd over subjects, range, paired difference to the reference."""
    ref = summary["reference"]
    head = (
        f"{'pipeline':<10}{'n':>3}  {'mean ± sd':<14}{'min':>7}{'max':>7}  {'worst':<6}"
        f"{'vs ' + ref + ' (paired)':>24}{'W/L':>7}  MOABB (context)"
    )
    out = [head, "-" * len(head)]
    for name, r in summary["pipelines"].items():
        diff = "-"
        wl = "-"
        if "diff_vs_reference" in r:
            diff = f"{r['diff_vs_reference']:+.3f} ± {r['diff_sd']:.3f}"
            wl = f"{r['wins']}/{r['losses']}"
        m = r.get("moabb")
        ctx = f"{m['mean']:.3f} ± {m['std']:.3f} {m['pipeline']}" if m else "-"
        out.append(
            f"{name:<10}{r['n_subjects']:>3}  {_num(r['mean']) + ' ± ' + _num(r['sd']):<14}"
            f"{_num(r['min']):>7}{_num(r['max']):>7}  {r['worst_subject']:<6}{diff:>24}"
            f"{wl:>7}  {ctx}"
        )
    bp, bo = summary["best_plain"], summary["best_other"]
    if bp and bo:
        rows = summary["pipelines"]
        gap = rows[bo]["mean"] - rows[bp]["mean"]
        verdict = "met" if summary["target_met"] else "NOT met"
        out.append(
            f"\ntarget (best non-plain >= best plain + {summary['margin']:.2f}): {verdict} - "
            f"best plain {bp} {rows[bp]['mean']:.3f}, best other {bo} {rows[bo]['mean']:.3f} "
            f"({gap:+.3f})"
        )
    out.append(
        "mean ± sd over subjects (sd ddof=1) of each subject's mean over folds; paired: "
        "per-subject difference on identical folds; W/L: subjects better/worse than " + ref
    )
    return "\n".join(out)
