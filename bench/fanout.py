"""WebSocket fan-out cost: the service's CPU per message delivered to a client.

A point of ``bench/capacity.py`` (a real `bci serve`, N real LSL sessions, M real `websockets`
clients) run alternately with one service setting and without it, ``--repeat`` times, in one
sitting. Reported per run: messages delivered per second, the service process's CPU
(% of a core) and that CPU divided by the messages, in µs per message; then the median ratio.
CPU per message, not latency, because on a shared VM (steal) the latency of the same code
varies tenfold between minutes while the CPU a unit of work takes varies much less.

    .venv/bin/python bench/fanout.py                       # BCI_WS_DIRECT=false vs default
    .venv/bin/python bench/fanout.py --n 1 --m 200 500 --repeat 3 --measure 8
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import capacity
from _service import model_bytes


def _us_per_msg(r: dict[str, Any]) -> float:
    msgs = r["messages_per_s"]
    return float("nan") if not msgs else 1e6 * r["cpu_percent"]["service"] / 100 / msgs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1, help="sessions (16 decisions/s each)")
    ap.add_argument("--m", type=int, nargs="+", default=[200, 500])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--measure", type=float, default=8.0)
    ap.add_argument("--client-procs", type=int, default=2)
    # websockets: the clients of the README's figures (picows is capacity.py's default)
    ap.add_argument("--client-lib", choices=["websockets", "picows"], default="websockets")
    ap.add_argument("--baseline-env", default="BCI_WS_DIRECT=false", metavar="KEY=VALUE")
    args = ap.parse_args(argv)
    point_args = argparse.Namespace(
        measure=args.measure,
        publishers=1,
        groups=8,
        client_procs=args.client_procs,
        client_lib=args.client_lib,
        record=False,
        profile=None,
        profile_gil=False,
    )
    key, _, value = args.baseline_env.partition("=")
    model, _, _ = model_bytes()
    print(f"{psutil.cpu_count()} CPUs; N={args.n}; {args.measure:g} s per run; A = {key}={value}")
    print(f"{'M':>5} {'run':>4} {'msg/s':>7} {'svc%':>5} {'µs/msg':>7} {'p50ms':>7} {'steal':>5}")
    for m in args.m:
        ratios = []
        for k in range(args.repeat):
            got = {}
            for label, env in (("A", {key: value}), ("B", None)):
                r = capacity.run_point(args.n, m, point_args, model, None, env)
                got[label] = _us_per_msg(r)
                print(
                    f"{m:>5} {label}{k + 1:>3} {r['messages_per_s']:>7.0f} "
                    f"{r['cpu_percent']['service']:>5.0f} {got[label]:>7.1f} "
                    f"{r['latency_ms']['p50']:>7.1f} {r['cpu_percent'].get('steal', 0):>5.0f}",
                    flush=True,
                )
            ratios.append(got["A"] / got["B"])
        print(
            f"  M={m}: service CPU per message, A / B: median {statistics.median(ratios):.2f} "
            f"(runs: {', '.join(f'{x:.2f}' for x in ratios)})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
