"""How many headsets one engine core serves: N sessions stepped by one loop, no network.

Each round gives every session 1/16 s of new 8-channel 250 Hz samples (16 samples, as one LSL
chunk would) and decodes the window that became due (ts-lr, 2 s window), exactly what the
engine thread does live. The cost of a round divided by the real-time budget of a round
(62.5 ms) says how many sessions one core keeps up with. The baseline in the same run is the
same loop with the scikit-learn pipeline instead of the compiled fast path.

    .venv/bin/python bench/scale.py [--sessions 1 16 64 256] [--rounds 40] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from bci.online.demo import calibrate_synthetic
from bci.online.engine import Engine
from bci.online.session import DecodingSession, SessionConfig
from bci.online.sources import ArraySource
from bci.streams.synthetic import simulate_run

STEP_S = 1 / 16


def run(n_sessions: int, model, data, sfreq, ch_names, rounds: int) -> float:
    """Median seconds per round for ``n_sessions`` sessions."""
    chunk = round(STEP_S * sfreq)  # 16 samples at 250 Hz: one decision per chunk
    engine = Engine()
    sessions = []
    for i in range(n_sessions):
        src = ArraySource(data, sfreq, ch_names, chunk_size=chunk, name=f"s{i}")
        s = DecodingSession(
            str(i), src, model, SessionConfig(step_s=chunk / sfreq), clock=lambda: 0.0
        )
        engine.add(s)
        sessions.append(s)
    warm = int(2.0 * sfreq / chunk) + 2  # fill the 2 s buffers first
    for _ in range(warm):
        engine.step()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        decided = engine.step()
        times.append(time.perf_counter() - t0)
        assert decided == n_sessions, (decided, n_sessions)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 16, 64, 256])
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    threadpool_limits(1)
    model = calibrate_synthetic("openbci-cyton", seed=1)
    rec = simulate_run("imagery-left-right", trials_per_class=10, seed=2)
    need = int(2.0 * rec.sfreq) + (args.rounds + 8) * 16 + 64
    data = rec.data[:, :need]
    slow = calibrate_synthetic("openbci-cyton", seed=1)
    slow._fast = slow.pipeline  # the plain scikit-learn pipeline: the baseline
    budget = STEP_S
    rows = []
    print(
        f"one core, ts-lr, 8 ch x 250 Hz, 2 s window, a decision per session every "
        f"{STEP_S * 1e3:.1f} ms; {os.cpu_count()} cpus"
    )
    print(
        f"{'sessions':>8} {'fast ms/round':>14} {'sklearn ms/round':>17} {'ratio':>6} "
        f"{'fast: sessions at real time':>28}"
    )
    for n in args.sessions:
        f = run(n, model, data, rec.sfreq, rec.ch_names, args.rounds)
        s = run(n, slow, data, rec.sfreq, rec.ch_names, args.rounds)
        cap = int(budget / (f / n))
        rows.append(
            {
                "sessions": n,
                "fast_round_ms": f * 1e3,
                "sklearn_round_ms": s * 1e3,
                "ratio": s / f,
                "sessions_at_real_time_fast": cap,
                "sessions_at_real_time_sklearn": int(budget / (s / n)),
            }
        )
        print(f"{n:>8} {f * 1e3:>14.2f} {s * 1e3:>17.2f} {s / f:>6.1f} {cap:>28}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
