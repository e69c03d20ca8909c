"""Pseudo-online cross-subject adaptation: does tracking the reference help a new person?

For each held-out subject, a source model is trained on the other subjects (each subject's
covariances re-centred to the identity by its own Riemannian mean, pooled, tangent space +
logistic regression; Zanini et al. 2018). The held-out recording is then replayed in time
order from its first second: window covariances every ``update_s`` seconds of stream time
feed a :class:`~bci.decoders.adaptation.ReferenceTracker` (no labels), and each trial is
decided by the window that ends ``tmax`` after its cue, whitened by the reference as it
stood at that moment. Trials are scored by ROC-AUC in the first and in the second half of
the replay.

Conditions (``CONDITIONS``):

``unaligned``      the target is not re-centred at all (source model on raw covariances)
``static``         re-centred by the mean of the first ``init_s`` seconds, then frozen
                   (no adaptation: what a session without the option gets)
``recenter-<g>``   re-centred by the tracker with guard ``g`` (none, slow, balanced, weighted)
``supervised``     ``recenter-<default guard>`` and, after each decided trial, its label is
                   revealed; every ``refit_every`` labelled trials the tangent space + LR is
                   refitted on the sources plus the subject's re-centred trials
``supervised-alone`` the same, but each refit uses the subject's labelled trials alone, and
                   only once every class has ``min_per_class`` of them (until then the
                   source model decides): what the ``"supervised"`` session option did
                   before its two guards below
``supervised-balanced`` ``supervised-alone`` with the classes weighted equally in each
                   refit (``refit_with_trials(..., balance=True)``): a run of one class
                   does not shift the refitted decision towards that class
``supervised-session`` ``supervised-balanced``, and no refit while the labelled trials came
                   in blocks of one class (:func:`~bci.decoders.adaptation.labels_in_blocks`):
                   what the ``"supervised"`` session option does
``oracle``         re-centred by the mean of every window of the whole recording (hindsight:
                   the ceiling of unsupervised re-centring)

Orders: ``time`` (the recording as it was) and ``runs`` (the trap of pyRiemann issue 490:
the same trial blocks reordered into long runs of one class, L..L R..R L..L R..R, so each half
still holds both classes). ``ref_error`` is the mean Riemannian distance between the
reference used for each decision and the oracle reference: a direct measure of the bias a
run of one class puts into the tracker.

This is an **offline sequential simulation** over the recording's windows (the same causal
filter, windows and covariance estimator as the online engine, processed strictly in stream
order); the online stage (``"adaptation"`` session option) runs the same tracker.

The 21 motor channels are those of the cross-subject protocol in
``bci.evaluation.taskdata.MOTOR_CHANNELS``; the source model here is a minimal
re-centred pooled TS+LR and should later share ``bci.evaluation.transfer``'s code.

Run: ``python -m bci.evaluation.adaptation --subjects 1-10 --out results/adaptation.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bci.decoders.adaptation import (
    DEFAULT_GUARD,
    GUARDS,
    ReferenceTracker,
    alpha_for_horizon,
    labels_in_blocks,
    refit_with_trials,
    riemann_distance,
)
from bci.decoders.recentering import Recentering
from bci.errors import DataError
from bci.evaluation.adaptation_data import MOTOR_CHANNELS, SubjectData, load_subject

__all__ = [
    "CONDITIONS",
    "MOTOR_CHANNELS",
    "SubjectData",
    "format_adaptation",
    "load_subject",
    "main",
    "run_adaptation",
]

logger = logging.getLogger(__name__)

CONDITIONS = (
    "unaligned",
    "static",
    *(f"recenter-{g}" for g in GUARDS),
    "supervised",
    "supervised-alone",
    "supervised-balanced",
    "supervised-session",
    "oracle",
)
ORDERS = ("time", "runs")


def _whiten(C: np.ndarray, R: np.ndarray) -> np.ndarray:
    rec = Recentering()
    rec.reference_, rec.n_channels_ = R, R.shape[0]
    return rec.transform(C)


def _source_model(sources: Sequence[SubjectData]) -> tuple[Any, np.ndarray, np.ndarray]:
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X = np.concatenate([_whiten(s.trial_covs, s.reference) for s in sources])
    y = np.concatenate([s.y for s in sources])
    pipe = Pipeline([("ts", TangentSpace(metric="riemann")), ("clf", LogisticRegression())])
    return pipe.fit(X, y), X, y


def _replay_order(sub: SubjectData, order: str, run_length: int) -> list[int]:
    """Trial indices in replay order (``runs``: blocks of ``run_length`` of one class)."""
    n = len(sub.y)
    if order == "time":
        return list(range(n))
    by_class = [list(np.flatnonzero(sub.y == c)) for c in sorted(set(sub.y.tolist()))]
    out: list[int] = []
    while any(by_class):
        for idx in by_class:
            out += idx[:run_length]
            del idx[:run_length]
    return out


def _replay(
    sub: SubjectData,
    order: list[int],
    condition: str,
    model: Any,
    sources: tuple[np.ndarray, np.ndarray],
    *,
    alpha: float,
    n_init: int,
    refit_every: int,
    min_per_class: int = 5,
) -> tuple[np.ndarray, float]:
    """Probabilities of every trial (indexed as ``sub.y``) and the mean reference error."""
    classes = list(model.classes_)
    oracle = sub.reference
    if condition in ("unaligned", "oracle"):
        R = np.eye(oracle.shape[0]) if condition == "unaligned" else oracle
        P = model.predict_proba(_whiten(sub.trial_covs, R))
        return P, riemann_distance(R, oracle)
    guard = condition.removeprefix("recenter-") if condition.startswith("recenter-") else None
    tracker = ReferenceTracker(
        guard or DEFAULT_GUARD, alpha=alpha, n_init=n_init, n_classes=len(classes)
    )
    P = np.zeros((len(sub.y), len(classes)))
    errors = []
    labelled: list[int] = []
    since = 0  # labelled trials since the last refit
    # each trial's block: the update windows that end after its cue, then its decision
    pre = np.flatnonzero(sub.upd_block == -1)
    blocks = [pre] + [np.flatnonzero(sub.upd_block == i) for i in order]
    for b, trial in zip(blocks, [None, *order], strict=True):
        events = [(int(sub.upd_pos[j]), 0, int(j)) for j in b]
        if trial is not None:
            events.append((int(sub.trial_pos[trial]), 1, trial))
        for _, kind, j in sorted(events):
            if kind == 1:  # a decision, with the reference as it stands
                R = tracker.reference_ if tracker.reference_ is not None else sub.upd_covs[0]
                P[j] = model.predict_proba(_whiten(sub.trial_covs[j : j + 1], R))[0]
                errors.append(riemann_distance(R, oracle))
                if condition.startswith("supervised"):
                    labelled.append(j)
                    since += 1
                    counts = np.unique(sub.y[labelled], return_counts=True)[1]
                    if since >= refit_every and len(counts) > 1:
                        Xt = _whiten(sub.trial_covs[labelled], R)
                        if condition == "supervised":
                            model = refit_with_trials(model, Xt, sub.y[labelled], source=sources)
                            since = 0
                        elif counts.min() >= min_per_class and not (
                            condition == "supervised-session" and labels_in_blocks(sub.y[labelled])
                        ):  # as the session stage does
                            balance = condition != "supervised-alone"
                            model = refit_with_trials(model, Xt, sub.y[labelled], balance=balance)
                            since = 0
                continue
            if condition == "static" and not tracker.warming_up:
                continue
            c = sub.upd_covs[j : j + 1]
            p = None
            if tracker.guard in ("balanced", "weighted") and not tracker.warming_up:
                assert tracker.reference_ is not None
                p = model.predict_proba(_whiten(c, tracker.reference_))
            tracker.update(c, p)
    return P, float(np.mean(errors))


def _auc(y: np.ndarray, p: np.ndarray, positive: str) -> float:
    from sklearn.metrics import roc_auc_score

    if len(set(y.tolist())) < 2:
        return float("nan")
    return float(roc_auc_score(y == positive, p))


def run_adaptation(
    subjects: Sequence[int],
    *,
    holdout: Sequence[int] | None = None,
    conditions: Sequence[str] = CONDITIONS,
    orders: Sequence[str] = ORDERS,
    path: str | Path | None = None,
    update_s: float = 0.5,
    horizon_s: float = 60.0,
    init_s: float = 8.0,
    refit_every: int = 5,
    engine: bool = False,
) -> dict[str, Any]:
    """Leave-one-subject-out pseudo-online replay; one row per (subject, order, condition).

    Parameters
    ----------
    subjects : sequence of int
        eegbci subjects; each held-out subject's sources are the others.
    holdout : sequence of int, optional
        Only these subjects are held out (default: every one of ``subjects``).
    update_s, horizon_s : float
        Tracker update stride and forgetting time constant (stream seconds).
    init_s : float
        Warm-up: the tracker's reference is the plain running mean of this many seconds.
    engine : bool
        Also replay the ``time`` order through the online engine (:func:`replay_engine`,
        decisions every 1/16 s); its rows have order ``engine``.
    """
    bad = [c for c in conditions if c not in CONDITIONS]
    if bad:
        raise DataError(f"Unknown condition(s) {bad}. Must be among: {', '.join(CONDITIONS)}")
    data = {s: load_subject(s, path=path, update_s=update_s) for s in subjects}
    alpha = alpha_for_horizon(horizon_s, update_s)
    n_init = max(1, round(init_s / update_s))
    rows = []
    for target in holdout if holdout is not None else subjects:
        t0 = time.perf_counter()
        sub = data[target]
        model, Xs, ys = _source_model([data[s] for s in subjects if s != target])
        positive = str(model.classes_[1])
        run_length = max(2, int(np.bincount(np.unique(sub.y, return_inverse=True)[1]).min()) // 2)
        from bci.evaluation.adaptation_engine import ENGINE_CONDITIONS, replay_engine

        plan = [(o, c) for o in orders for c in conditions]
        if engine:
            plan += [("engine", c) for c in conditions if c in ENGINE_CONDITIONS]
        for order_name, cond in plan:
            order = _replay_order(sub, "time" if order_name == "engine" else order_name, run_length)
            half = len(order) // 2
            if order_name == "engine":
                P = replay_engine(
                    sub,
                    cond,
                    model,
                    alpha=alpha,
                    n_init=n_init,
                    update_s=update_s,
                    horizon_s=horizon_s,
                    init_s=init_s,
                    refit_every=refit_every,
                )
                err = float("nan")
            else:
                P, err = _replay(
                    sub,
                    order,
                    cond,
                    model,
                    (Xs, ys),
                    alpha=alpha,
                    n_init=n_init,
                    refit_every=refit_every,
                )
            p, y = P[order, 1], sub.y[order]
            rows.append(
                {
                    "subject": target,
                    "order": order_name,
                    "condition": cond,
                    "early": _auc(y[:half], p[:half], positive),
                    "late": _auc(y[half:], p[half:], positive),
                    "all": _auc(y, p, positive),
                    "ref_error": err,
                    "n_trials": len(y),
                }
            )
        logger.info("subject %d done in %.1f s", target, time.perf_counter() - t0)
    return {
        "protocol": "pseudo-online cross-subject adaptation (offline sequential simulation)",
        "subjects": list(subjects),
        "channels": list(MOTOR_CHANNELS),
        "band": [8.0, 32.0],
        "window": [0.0, 3.0],
        "update_s": update_s,
        "horizon_s": horizon_s,
        "alpha": alpha,
        "init_s": init_s,
        "refit_every": refit_every,
        "rows": rows,
        "summary": summarise(rows),
    }


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean +- sd over subjects per (order, condition), and late minus static-late."""
    out = []
    keys = sorted({(r["order"], r["condition"]) for r in rows}, key=lambda k: k[0])
    for order, cond in sorted(keys, key=lambda k: (k[0], CONDITIONS.index(k[1]))):
        sel = [r for r in rows if r["order"] == order and r["condition"] == cond]
        base = {
            r["subject"]: r["late"]
            for r in rows
            if r["order"] == order and r["condition"] == "static"
        }
        row: dict[str, Any] = {"order": order, "condition": cond, "n_subjects": len(sel)}
        for k in ("early", "late", "all", "ref_error"):
            v = np.array([r[k] for r in sel], dtype=float)
            v = v[np.isfinite(v)]  # engine rows have no reference error
            row[k] = float(v.mean()) if v.size else float("nan")
            row[f"{k}_sd"] = float(v.std()) if v.size else float("nan")
        if base:
            d = [r["late"] - base[r["subject"]] for r in sel if r["subject"] in base]
            row["late_minus_static"] = float(np.mean(d))
            row["late_wins_vs_static"] = int(sum(x > 0 for x in d))
        out.append(row)
    return out


def format_adaptation(result: dict[str, Any]) -> str:
    """Per-subject rows and the mean +- sd table as text."""
    lines = [result["protocol"], ""]
    lines.append(
        f"{'order':6} {'condition':20} " + " ".join(f"S{s:03d}" for s in result["subjects"])
    )
    for order in (*ORDERS, "engine"):
        for cond in CONDITIONS:
            sel = {
                r["subject"]: r
                for r in result["rows"]
                if r["order"] == order and r["condition"] == cond
            }
            if sel:
                cells = " ".join(
                    f"{sel[s]['late']:.2f}" if s in sel else "  -  " for s in result["subjects"]
                )
                lines.append(f"{order:6} {cond:20} {cells}   (late half AUC)")
    lines += [
        "",
        f"{'order':6} {'condition':20} {'early':>12} {'late':>12} {'all':>12} "
        f"{'ref_err':>6} {'late-static':>11}",
    ]
    for r in result["summary"]:
        d = r.get("late_minus_static")
        lines.append(
            f"{r['order']:6} {r['condition']:20} {r['early']:.3f}±{r['early_sd']:.3f} "
            f"{r['late']:.3f}±{r['late_sd']:.3f} {r['all']:.3f}±{r['all_sd']:.3f} "
            f"{r['ref_error']:6.2f} "
            + ("" if d is None else f"{d:+.3f} ({r['late_wins_vs_static']}/{r['n_subjects']})")
        )
    return "\n".join(lines)


def _parse_subjects(text: str) -> list[int]:
    out: set[int] = set()
    for part in text.split(","):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return sorted(out)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bci.evaluation.adaptation --subjects 1-10 [--out FILE.json]``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", default="1-10")
    ap.add_argument("--holdout", default=None, help="held-out subjects (default: all)")
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--orders", default=",".join(ORDERS))
    ap.add_argument("--update-s", type=float, default=0.5)
    ap.add_argument("--horizon-s", type=float, default=60.0)
    ap.add_argument("--init-s", type=float, default=8.0)
    ap.add_argument("--refit-every", type=int, default=5)
    ap.add_argument("--engine", action="store_true", help="also replay through the engine")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    res = run_adaptation(
        _parse_subjects(args.subjects),
        holdout=None if args.holdout is None else _parse_subjects(args.holdout),
        conditions=args.conditions.split(","),
        orders=args.orders.split(","),
        update_s=args.update_s,
        horizon_s=args.horizon_s,
        init_s=args.init_s,
        refit_every=args.refit_every,
        engine=args.engine,
    )
    print(format_adaptation(res))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
