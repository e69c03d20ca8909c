"""``bci evaluate --protocol cross-subject | calibration-curve``: tables, files and the plot.

Examples::

    bci evaluate --dataset eegbci --subjects 1-10 --protocol cross-subject
    bci evaluate --dataset eegbci --subjects 1-10 --protocol calibration-curve --trials 2,5,10,20
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from bci.cli._evaluation import (
    DEFAULT_OUTPUT,
    data_specs,
    parse_channels,
    parse_trials,
    print_failures,
)

__all__ = ["TARGETS", "format_transfer", "run_transfer", "summarise_transfer", "transfer_methods"]

#: Issue 11's targets (mean ROC-AUC over subjects): (protocol, k) -> bar, for every method
#: that uses the sources (not ``none``, the plain pooled reference, nor ``within``).
TARGETS: dict[tuple[str, int], float] = {("cross-subject", 0): 0.75, ("calibration-curve", 5): 0.78}


#: The plain pyRiemann TS+LR of each protocol, computed in the same run: paired differences.
_REFERENCE = {"cross-subject": "none", "calibration-curve": "within"}


def _target(protocol: str, method: str, k: int) -> float | None:
    if method.removesuffix("+ex") in ("none", "within"):
        return None
    return TARGETS.get((protocol, k))


def transfer_methods(text: str | None, source_runs: str, default: tuple[str, ...]) -> list[str]:
    """``--methods`` and ``--source-runs`` -> method names (``+ex``: executed sources too).

    Raises
    ------
    DataError
        An unknown run type.
    """
    from bci.errors import DataError
    from bci.evaluation.transfer import EXECUTED, SOURCE_RUNS

    runs = [r.strip() for r in source_runs.split(",") if r.strip()]
    bad = [r for r in runs if r not in SOURCE_RUNS]
    if bad or "imagery" not in runs:
        raise DataError(
            f"--source-runs: got {source_runs!r}; must be 'imagery' or 'imagery,executed'"
        )
    methods = [m.strip() for m in text.split(",") if m.strip()] if text else list(default)
    if "executed" in runs:
        extra = [m + EXECUTED for m in methods if not m.endswith(EXECUTED) and m != "within"]
        methods += [m for m in extra if m not in methods]
    return methods


_CSV = ("protocol", "target", "method", "k", "n_labelled", "n_scored", "metric", "score")


def summarise_transfer(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd (ddof=1) over target subjects per (method, k), with the issue's target."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    base = {
        (r["target"], int(r["k"])): r["score"]
        for r in rows
        if r["method"] == _REFERENCE[r["protocol"]]
    }
    for r in rows:
        groups.setdefault((r["method"], int(r["k"])), []).append(r)
    out = []
    for (method, k), rs in groups.items():
        v = np.array([r["score"] for r in rs], dtype=float)
        proto = rs[0]["protocol"]
        bar = _target(proto, method, k)
        worst = min(rs, key=lambda r: r["score"])
        ref = _REFERENCE[proto]
        paired = [
            r["score"] - base[(r["target"], k)]
            for r in rs
            if (r["target"], k) in base and method != ref
        ]
        out.append(
            {
                "protocol": proto,
                "method": method,
                "k": k,
                "n_subjects": len(rs),
                "mean": float(np.mean(v)),
                "sd": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
                "min": float(np.min(v)),
                "max": float(np.max(v)),
                "worst_subject": worst["target"],
                "target": bar,
                "target_met": None if bar is None else bool(np.mean(v) >= bar),
                "reference": None if not paired else _REFERENCE[proto],
                "vs_reference": None if not paired else float(np.mean(paired)),
                "vs_reference_sd": None if len(paired) < 2 else float(np.std(paired, ddof=1)),
                "wins": sum(d > 0 for d in paired),
                "losses": sum(d < 0 for d in paired),
            }
        )
    return out


def format_transfer(rows: list[dict[str, Any]], summary: list[dict[str, Any]]) -> str:
    """Per-subject rows (subjects x method[@k]) and the mean ± sd over subjects."""
    cols = sorted({(r["method"], int(r["k"])) for r in rows}, key=lambda c: (c[1], c[0]))
    order = {m: i for i, m in enumerate(dict.fromkeys(r["method"] for r in rows))}
    cols.sort(key=lambda c: (c[1], order[c[0]]))
    label = {c: c[0] if c[1] == 0 else f"{c[0]}@{c[1]}" for c in cols}
    w = max(10, *(len(v) + 2 for v in label.values()))
    val = {(r["target"], r["method"], int(r["k"])): r["score"] for r in rows}
    out = ["subject".ljust(9) + "".join(label[c].rjust(w) for c in cols)]
    for sub in sorted({r["target"] for r in rows}):
        cells = [val.get((sub, *c)) for c in cols]
        out.append(
            sub.ljust(9) + "".join(("-" if v is None else f"{v:.3f}").rjust(w) for v in cells)
        )
    by = {(s["method"], s["k"]): s for s in summary}
    out.append("mean".ljust(9) + "".join(f"{by[c]['mean']:.3f}".rjust(w) for c in cols))
    out.append("sd".ljust(9) + "".join(f"{by[c]['sd']:.3f}".rjust(w) for c in cols))
    out.append(
        "vs ref".ljust(9)
        + "".join(
            (
                "-"
                if by[c]["vs_reference"] is None
                else f"{by[c]['vs_reference']:+.3f} {by[c]['wins']}/{by[c]['losses']}"
            ).rjust(w)
            for c in cols
        )
    )
    picks = [r for r in rows if "selected" in r]
    if picks:
        out.append(
            "auto chose: "
            + ", ".join(f"{r['target']} {r['method']}={r['selected']}" for r in picks)
        )
    out.append("")
    for s in summary:
        if s["target"] is not None:
            verdict = "met" if s["target_met"] else "NOT met"
            kk = "zero labelled trials" if s["k"] == 0 else f"{s['k']} labelled trials/class"
            out.append(
                f"target {s['method']} ({kk}): mean {s['mean']:.3f} >= {s['target']:.2f}: "
                f"{verdict} (worst {s['worst_subject']} {s['min']:.3f})"
            )
    out.append(
        "ROC-AUC on the target's trials (all of them for cross-subject; those after the first "
        "k per class for the curve); mean ± sd over target subjects (ddof=1); 'vs ref': "
        "mean paired difference to plain TS+LR of the same run (none: pooled sources; "
        "within: the k trials alone), subjects better/worse"
    )
    return "\n".join(out)


def plot_curve(summary: list[dict[str, Any]], path: Path, title: str) -> Path:
    """Mean ROC-AUC (± sd over subjects) against labelled trials per class, one line a method."""
    from bci.evaluation.figures import _figure

    fig = _figure(5.5, 4.0)
    ax = fig.add_subplot()
    methods = list(dict.fromkeys(s["method"] for s in summary))
    for i, m in enumerate(methods):
        pts = sorted((s for s in summary if s["method"] == m), key=lambda s: s["k"])
        k = np.array([p["k"] for p in pts])
        mu = np.array([p["mean"] for p in pts])
        sd = np.array([p["sd"] for p in pts])
        ax.plot(k, mu, "o-", color=f"C{i}", label=m)
        ax.fill_between(k, mu - sd, mu + sd, color=f"C{i}", alpha=0.12)
    ax.axhline(0.5, color="0.6", ls="--", lw=1)
    ax.set_xscale("log")
    ks = sorted({s["k"] for s in summary})
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.minorticks_off()
    ax.set_xlabel("labelled trials per class (first in time)")
    ax.set_ylabel("ROC-AUC on the remaining trials")
    ax.set_ylim(0.3, 1.02)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def run_transfer(args: argparse.Namespace, protocol: str) -> int:
    """Run a transfer protocol from parsed ``bci evaluate`` arguments; the exit code."""
    from bci.evaluation.figures import plot_by_subject
    from bci.evaluation.runner import run_tasks
    from bci.evaluation.transfer import CROSS_SUBJECT_METHODS, CURVE_METHODS, transfer_tasks

    specs = data_specs(args, parse_channels(getattr(args, "channels", None), "motor"))
    default = CROSS_SUBJECT_METHODS if protocol == "cross-subject" else CURVE_METHODS
    methods = transfer_methods(
        getattr(args, "methods", None), getattr(args, "source_runs", "imagery"), default
    )
    trials = tuple(parse_trials(getattr(args, "trials", "2,5,10,20")))
    band = tuple(float(b) for b in getattr(args, "band", (8.0, 32.0)))
    tasks = transfer_tasks(
        protocol,
        specs,
        methods,
        band=(band[0], band[1]),
        seed=int(getattr(args, "seed", 42)),
        trials=trials if protocol == "calibration-curve" else (),
    )
    results, failures = run_tasks(
        tasks,
        workers=int(getattr(args, "workers", 0) or 0),
        scheduler=getattr(args, "scheduler", None),
        progress=not getattr(args, "no_progress", False),
        desc=protocol,
    )
    rows = [row for res in results if res is not None for row in res["rows"]]
    summary = summarise_transfer(rows)
    out = Path(getattr(args, "output", DEFAULT_OUTPUT))
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "protocol": protocol,
        "rows": rows,
        "summary": summary,
        "failures": [str(f) for f in failures],
    }
    (out / "results.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(_CSV)
        for r in rows:
            w.writerow([r[c] for c in _CSV])
    if rows and not getattr(args, "no_figures", False):
        figs = out / "figures"
        if protocol == "calibration-curve":
            plot_curve(summary, figs / "calibration-curve.png", f"{len(specs)} subjects")
        else:
            values: dict[str, dict[str, float]] = {}
            for r in rows:
                values.setdefault(r["method"], {})[r["target"]] = r["score"]
            plot_by_subject(
                values,
                figs / "cross-subject.png",
                title=f"leave one subject out, {len(specs)} subjects",
                ylabel="ROC-AUC",
            )
    if rows:
        print(format_transfer(rows, summary))
    print_failures(failures)
    print(f"\nwrote {out / 'results.json'} and {out / 'results.csv'}")
    return 1 if failures else 0
