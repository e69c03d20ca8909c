"""Evaluation results as a terminal table, ``results.json`` and ``results.csv``."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path

from bci.evaluation.protocol import PipelineScore

__all__ = ["CSV_COLUMNS", "format_table", "write_results"]

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
