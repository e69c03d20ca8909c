"""Decode cost per window: the sklearn/pyRiemann pipeline vs its compiled fast path.

For each window size and pipeline (ts-lr: OAS covariance + Riemannian tangent space + logistic
regression; mdm: OAS covariance + minimum distance to the Riemannian class means), measures in
the same run, interleaved so that machine load hits both alike:

- sklearn, one window:   ``pipeline.predict_proba(window[None])``
- fast, one window:      ``compile_pipeline(pipeline).predict_proba_one(window)``
- fast, batched:         ``predict_proba(batch)`` divided by the batch size

and checks that both give the same probabilities (max abs difference). Sizes: 8 ch x 500 and
64 ch x 320 synthetic windows, plus 64 ch x 480 real windows (PhysioNet eegmmidb subject 1,
imagined left/right fist, 8-32 Hz causal band-pass, 0-3 s after the cue) when the data folder
is found (``--data`` or the ``data_path`` setting, ``BCI_DATA_PATH``).

BLAS runs on one thread by default (``--blas-threads``): a server decoding many sessions
should not let each call spread over all cores, and on a busy 2-core machine threaded BLAS
makes small 64-channel calls several times slower.

    .venv/bin/python bench/decode.py [--reps 400] [--batch 100] [--block 10]
                                     [--blas-threads 1] [--no-real] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bci.decoders.fast import compile_pipeline  # noqa: E402


def make_pipelines() -> dict[str, Any]:
    """ts-lr and mdm from the project's pipeline registry (OAS covariances by default)."""
    from bci.decoders import make_pipeline

    return {name: make_pipeline(name) for name in ("ts-lr", "mdm")}


def synthetic(n_channels: int, n_times: int, n_windows: int, seed: int) -> tuple[Any, Any]:
    """Two classes that differ in the power of one mixed source, in volts like MNE data."""
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((n_channels, n_channels))
    y = np.arange(n_windows) % 2
    sources = rng.standard_normal((n_windows, n_channels, n_times))
    sources[y == 1, 0] *= 1.5
    return 1e-5 * (mixing @ sources), y


def real_windows(folder: Path) -> tuple[Any, Any]:
    from bci.datasets.eegbci import load_raw
    from bci.signal.filters import filter_continuous

    raw = load_raw(1, [4, 8, 12], path=folder)
    sfreq = float(raw.info["sfreq"])
    data = filter_continuous(raw.get_data(), sfreq, 8.0, 32.0)
    n = round(3.0 * sfreq)
    X, y = [], []
    for annot in raw.annotations:
        start = round(annot["onset"] * sfreq)
        if annot["description"] in ("T1", "T2") and start + n <= data.shape[1]:
            X.append(data[:, start : start + n])
            y.append(annot["description"])
    return np.asarray(X), np.asarray(y)


def data_folder(arg: str | None) -> Path | None:
    from bci.config import get_settings

    candidates = [arg, get_settings().data_path]
    for c in candidates:
        if c and (Path(c) / "MNE-eegbci-data" / "files" / "eegmmidb" / "1.0.0" / "S001").is_dir():
            return Path(c)
    return None


def interleaved(
    funcs: list[Callable[[], object]], reps: int, warmup: int, block: int = 10
) -> list[np.ndarray]:
    """Seconds per call of each function, run in alternating blocks of ``block`` calls.

    Alternating keeps machine load (other processes on a shared box) fair to all functions;
    blocks keep each one's caches warm as in a steady decode loop, for both sides alike.
    """
    for _ in range(warmup):
        for f in funcs:
            f()
    out = np.empty((len(funcs), reps))
    clock = time.perf_counter
    for start in range(0, reps, block):
        for i, f in enumerate(funcs):
            for r in range(start, min(start + block, reps)):
                t0 = clock()
                f()
                out[i, r] = clock() - t0
    return list(out)


def stats_us(seconds: np.ndarray, per: int = 1) -> dict[str, float]:
    us = seconds * 1e6 / per
    return {"median_us": float(np.median(us)), "p99_us": float(np.percentile(us, 99))}


def cycling(
    func: Callable[[np.ndarray], object], windows: list[np.ndarray]
) -> Callable[[], object]:
    """A no-argument call of ``func`` on the next window, round robin."""
    k = [0]

    def call() -> object:
        k[0] = (k[0] + 1) % len(windows)
        return func(windows[k[0]])

    return call


def predict_one_sklearn(pipeline: Any, window: np.ndarray) -> object:
    return pipeline.predict_proba(window[None])


def bench_case(
    label: str, X: np.ndarray, y: np.ndarray, reps: int, batch: int, seed: int, block: int
) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    results = []
    for name, pipeline in make_pipelines().items():
        pipeline.fit(X, y)
        fast = compile_pipeline(pipeline)
        B = np.ascontiguousarray(X[rng.integers(0, len(X), size=batch)])
        windows = [np.ascontiguousarray(w) for w in B[:16]]
        sk_one = cycling(partial(predict_one_sklearn, pipeline), windows)
        fast_one = cycling(fast.predict_proba_one, windows)
        sk_t, fast_t = interleaved([sk_one, fast_one], reps, warmup=20, block=block)
        (batch_t,) = interleaved(
            [partial(fast.predict_proba, B)], max(reps // 20, 10), warmup=2, block=1
        )
        diff = float(np.max(np.abs(fast.predict_proba(B) - pipeline.predict_proba(B))))
        sk, one, per = stats_us(sk_t), stats_us(fast_t), stats_us(batch_t, per=batch)
        row: dict[str, Any] = {
            "size": label,
            "pipeline": name,
            "n_channels": int(X.shape[1]),
            "n_times": int(X.shape[2]),
            "sklearn_one": sk,
            "fast_one": one,
            "fast_batch_per_window": per,
            "batch": batch,
            "max_abs_diff": diff,
            "ratio_one": sk["median_us"] / one["median_us"],
            "ratio_batch": sk["median_us"] / per["median_us"],
        }
        results.append(row)
        print(format_row(row), flush=True)
    return results


HEADER = (
    f"{'size':<16}{'pipeline':<9}"
    f"{'sklearn 1 win':>16}{'fast 1 win':>16}{'fast batch/win':>16}"
    f"{'ratio 1':>9}{'ratio b':>9}{'max|dp|':>10}\n"
    f"{'':<25}{'median / p99 us':>16}{'median / p99 us':>16}{'median / p99 us':>16}"
    f"{'sk/fast':>9}{'sk/fast':>9}"
)


def format_row(r: dict[str, Any]) -> str:
    def cell(s: dict[str, float]) -> str:
        return (
            f"{s['median_us']:.0f} / {s['p99_us']:.0f}"
            if s["median_us"] >= 10
            else (f"{s['median_us']:.1f} / {s['p99_us']:.1f}")
        )

    return (
        f"{r['size']:<16}{r['pipeline']:<9}"
        f"{cell(r['sklearn_one']):>16}{cell(r['fast_one']):>16}"
        f"{cell(r['fast_batch_per_window']):>16}"
        f"{r['ratio_one']:>8.1f}x{r['ratio_batch']:>8.1f}x{r['max_abs_diff']:>10.1e}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=400, help="single-window repetitions")
    parser.add_argument("--batch", type=int, default=100, help="windows per batched call")
    parser.add_argument(
        "--block",
        type=int,
        default=10,
        help="calls per alternating block (1: alternate every call, colder caches)",
    )
    parser.add_argument(
        "--blas-threads", type=int, default=1, help="BLAS threads (0: library default)"
    )
    parser.add_argument("--data", default=None, help="eegbci data folder (else BCI_DATA_PATH)")
    parser.add_argument("--no-real", action="store_true", help="skip the real-data case")
    parser.add_argument("--json", dest="json_out", default=None, help="write results here")
    args = parser.parse_args(argv)

    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    limit = threadpool_limits(args.blas_threads) if args.blas_threads > 0 else nullcontext()
    t_start = time.perf_counter()
    results: list[dict[str, Any]] = []
    with limit:
        print(
            f"decode cost per window, BLAS threads: {args.blas_threads or 'default'}, "
            f"blocks of {args.block} calls, "
            f"{platform.machine()}, {os.cpu_count()} cpus, numpy {np.__version__}"
        )
        print(HEADER, flush=True)
        for n_ch, n_t, seed in ((8, 500, 1), (64, 320, 2)):
            X, y = synthetic(n_ch, n_t, 40, seed)
            results += bench_case(
                f"{n_ch}x{n_t} synth", X, y, args.reps, args.batch, seed, args.block
            )
        folder = None if args.no_real else data_folder(args.data)
        if folder is not None:
            X, y = real_windows(folder)
            results += bench_case(
                f"{X.shape[1]}x{X.shape[2]} real", X, y, args.reps, args.batch, 3, args.block
            )
        elif not args.no_real:
            print("(real-data case skipped: eegbci subject 1 not found; set BCI_DATA_PATH)")
    elapsed = time.perf_counter() - t_start
    print(f"total {elapsed:.1f} s")
    if args.json_out:
        meta = {
            "blas_threads": args.blas_threads,
            "block": args.block,
            "reps": args.reps,
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "numpy": np.__version__,
            "elapsed_s": elapsed,
        }
        Path(args.json_out).write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
