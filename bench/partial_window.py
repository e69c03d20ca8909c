"""Is a decision on a partial window after a gap sound? The evidence behind the choice.

After a gap the session resets its causal filter and waits for a full window (2 s) before
deciding again. Deciding sooner means a window of L < 2 s seconds, all of it filtered from a
zero filter state. This study scores, on labelled synthetic imagery trials (the ts-lr decoder
of the demo, trained on 2 s windows; 5 unseen runs, 300 trials), the decision at each trial's
window end made from:

- ``full``: the 2 s window of continuously filtered signal (what the session decides today);
- ``tail L``: only the last L s of that continuously filtered signal (a short covariance,
  no filter transient): the cost of the short window alone;
- ``reset L``: the last L s filtered from a zero state (what a decision L s after a gap
  would see): the short window plus the filter transient.

It reports ROC-AUC, agreement with the full-window label, and the filter's settling time.

    .venv/bin/python bench/partial_window.py [--json OUT]          # ~20 s
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _service import HEADSET

LENGTHS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def settling_s(sfreq: float, band: tuple[float, float]) -> float:
    """Seconds until 99% of the band-pass impulse response's energy has passed."""
    from bci.signal.filters import CausalFilter

    x = np.zeros((int(5 * sfreq), 1))
    x[0] = 1.0
    h = CausalFilter(sfreq, *band).process(x)[:, 0]
    energy = np.cumsum(h**2) / np.sum(h**2)
    return float(np.searchsorted(energy, 0.99) / sfreq)


def study(seeds: tuple[int, ...] = (11, 12, 13, 14, 15), trials: int = 30) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    from bci.online.demo import calibrate_synthetic
    from bci.paradigms import get_paradigm
    from bci.signal.filters import CausalFilter
    from bci.streams.synthetic import simulate_run

    model = calibrate_synthetic(HEADSET, 1007)
    sfreq, band = model.sfreq, tuple(model.band)
    par = get_paradigm("imagery-left-right")
    n_full = model.n_times
    X: dict[str, list[np.ndarray]] = {"full": []}
    for L in LENGTHS[:-1]:
        X[f"tail {L:g}"], X[f"reset {L:g}"] = [], []
    y: list[str] = []
    for seed in seeds:
        run = simulate_run(par, trials_per_class=trials, headset=HEADSET, seed=seed)
        raw = run.data.T
        filtered = CausalFilter(sfreq, *band).process(raw)
        for cue, label in run.events:
            end = cue + round(par.timing.tmax * sfreq)
            if end > raw.shape[0]:
                continue
            y.append(label)
            X["full"].append(filtered[end - n_full : end].T)
            for L in LENGTHS[:-1]:
                n = round(L * sfreq)
                X[f"tail {L:g}"].append(filtered[end - n : end].T)
                X[f"reset {L:g}"].append(CausalFilter(sfreq, *band).process(raw[end - n : end]).T)
    labels = np.asarray(y)
    positive = model.classes[1]
    full = model.pipeline.predict_proba(np.stack(X["full"]))
    full_label = full.argmax(axis=1)
    rows = []
    for name, wins in X.items():
        p = model.pipeline.predict_proba(np.stack(wins))
        rows.append(
            {
                "window": name,
                "roc_auc": round(float(roc_auc_score(labels == positive, p[:, 1])), 3),
                "agrees_with_full": round(float(np.mean(p.argmax(axis=1) == full_label)), 3),
                "mean_abs_dp": round(float(np.mean(np.abs(p[:, 1] - full[:, 1]))), 3),
                "mean_confidence": round(float(np.mean(p.max(axis=1))), 3),
            }
        )
    return {
        "n_trials": len(y),
        "band_hz": list(band),
        "filter_settling_99pct_s": round(settling_s(sfreq, band), 3),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    res = study()
    print(
        f"{res['n_trials']} trials, band {res['band_hz']} Hz, filter settles (99% of the "
        f"impulse response energy) in {res['filter_settling_99pct_s']:.3f} s"
    )
    print(f"{'window':<12} {'ROC-AUC':>8} {'agrees':>7} {'|dp|':>6} {'conf':>6}")
    for r in res["rows"]:
        print(
            f"{r['window']:<12} {r['roc_auc']:>8.3f} {r['agrees_with_full']:>7.3f} "
            f"{r['mean_abs_dp']:>6.3f} {r['mean_confidence']:>6.3f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
