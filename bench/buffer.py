"""Ring-buffer window reads: this tree against another checkout, alternating, one run.

The decoder reads one window per decision and the quality gate one more, so at N sessions x 16
decisions/s this runs ~32 N times a second on the engine thread.

    .venv/bin/python bench/buffer.py --compare /path/to/other/checkout
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import timeit
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _load(tree: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, tree / "bci" / "streams" / "buffer.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cases(mod: ModuleType) -> dict[str, object]:
    rng = np.random.default_rng(0)
    plain = mod.RingBuffer(2500, 8)  # 10 s at 250 Hz, the session's raw buffer
    for _ in range(300):
        plain.write(rng.standard_normal((10, 8)), np.arange(10.0))
    wrap = mod.RingBuffer(2500, 8)
    for _ in range(260):  # the last 500 samples straddle the end of the array
        wrap.write(rng.standard_normal((10, 8)), np.arange(10.0))
    return {
        "2 s window (500 x 8)": lambda: plain.window_ending_at(plain.n_written - 10, 500),
        "2 s window, wrapping": lambda: wrap.window_ending_at(wrap.n_written, 500),
        "newest 74 samples": lambda: plain.latest(74),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", type=Path, required=True, help="the other checkout (before)")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    before, after = _load(args.compare.resolve(), "before"), _load(ROOT, "after")
    cb, ca = _cases(before), _cases(after)
    for name in ca:
        w_b, t_b = cb[name]()  # type: ignore[operator]
        w_a, t_a = ca[name]()  # type: ignore[operator]
        assert np.array_equal(w_a, w_b) and np.array_equal(t_a, t_b), name
    print(f"{'case':24s} {'before us':>10s} {'after us':>10s} {'ratio':>6s}")
    for name in ca:
        b, a = [], []
        for _ in range(args.rounds):  # alternate, best of each side
            b.append(timeit.timeit(cb[name], number=2000) / 2000 * 1e6)  # type: ignore[arg-type]
            a.append(timeit.timeit(ca[name], number=2000) / 2000 * 1e6)  # type: ignore[arg-type]
        print(f"{name:24s} {min(b):10.1f} {min(a):10.1f} {min(b) / min(a):5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
