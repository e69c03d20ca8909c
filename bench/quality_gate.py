"""Cost of the quality gate: one real recording through a session, with and without it.

    BCI_DATA_PATH=../shared/data .venv/bin/python bench/quality_gate.py [--repeat 2]

Plays PhysioNet S001R04 (64 ch, 160 Hz, 125 s) through a DecodingSession (ArraySource, 10
samples a step, one decision every 1/16 s) with a ts-lr model trained on the same file, and
prints the wall time per decision with the gate and without it (the stage removed).

    .venv/bin/python bench/quality_gate.py --minutes 20 [--compare OTHER_CHECKOUT]

``--minutes M``: a headset-sized session instead (8 ch, 250 Hz, chunks of 10, M minutes of
noise through the same model and session) and the gate's own time per decision
(``QualityGate.on_message``) in its first and its last minute; with ``--compare`` the same in
another checkout, in a subprocess, alternating.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]


def long_session(minutes: float) -> str:
    """The gate's time per decision in the first and last minute of a long 8-ch session."""
    import numpy as np

    from bci.decoders.model import Model
    from bci.decoders.pipelines import make_pipeline
    from bci.online.quality_gate import QualityGate
    from bci.online.session import DecodingSession, SessionConfig
    from bci.online.sources import ArraySource

    threadpool_limits(1)
    sfreq, chs = 250.0, ["FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4", "Pz"]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 8, 500)) * 10.0
    y = np.repeat(["left", "right"], 20)
    X[:20, 2] *= 1.5
    model = Model(
        pipeline=make_pipeline("ts-lr").fit(X, y),
        pipeline_name="ts-lr",
        classes=["left", "right"],
        ch_names=chs,
        sfreq=sfreq,
        band=(8.0, 30.0),
        window_s=2.0,
    )
    data = rng.standard_normal((8, int(minutes * 60 * sfreq))) * 10.0
    src = ArraySource(data, sfreq, chs, chunk_size=10)
    s = DecodingSession("b", src, model, SessionConfig(step_s=1 / 16), clock=lambda: 0.0)
    gate = s.stage(QualityGate)
    spent: list[tuple[int, float]] = []  # (samples seen, seconds in on_message)
    inner = gate.on_message

    def timed(ctx, message):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = inner(ctx, message)
        spent.append((gate._n_seen, time.perf_counter() - t0))
        return out

    gate.on_message = timed  # type: ignore[method-assign]
    while not src.done:
        s.step()
    minute = int(60 * sfreq)
    first = [d for n, d in spent if n <= minute]
    last = [d for n, d in spent if n > data.shape[1] - minute]
    return (
        f"gate per decision: first minute {np.median(first) * 1e6:.0f} µs, minute "
        f"{minutes:g} {np.median(last) * 1e6:.0f} µs (median of {len(first)}, {len(last)})"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--minutes", type=float, default=None, help="long 8-channel session mode")
    p.add_argument("--compare", default=None, help="another checkout (with --minutes)")
    args = p.parse_args()
    if args.minutes is not None:
        for _ in range(args.repeat):
            for tree in ([args.compare] if args.compare else []) + [str(ROOT)]:
                env = {**os.environ, "PYTHONPATH": tree}
                cmd = [sys.executable, __file__, "--long-worker", str(args.minutes)]
                out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
                print(f"{tree}: {out.stdout.strip()}")
        return
    from bci.evaluation.train import train_from_recording
    from bci.online.quality_gate import QualityGate
    from bci.online.session import DecodingSession, SessionConfig
    from bci.online.sources import ArraySource
    from bci.recordings import read_recording

    # After the imports, so every BLAS library loaded is limited: one thread is fastest on
    # small matrices (multithreaded BLAS measured 5-20x slower on 2 shared cores).
    threadpool_limits(1)

    root = Path(os.environ.get("BCI_DATA_PATH", "../shared/data"))
    path = root / "MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf"
    rec = read_recording(path)
    model = train_from_recording(path, {"T1": "left", "T2": "right"}, band=(8.0, 30.0))
    for _ in range(args.repeat):
        for gate in (True, False):
            src = ArraySource(rec.data, rec.sfreq, model.ch_names, chunk_size=10)
            s = DecodingSession("b", src, model, SessionConfig(step_s=1 / 16), clock=lambda: 0.0)
            if not gate:
                s.remove_stage(s.stage(QualityGate))
            counts = {"prediction": 0, "withheld": 0}

            def count(m, counts=counts):
                if m["type"] in counts:
                    counts[m["type"]] += 1

            s.subscribe(count)
            t0 = time.perf_counter()
            while not src.done:
                s.step()
            dt = time.perf_counter() - t0
            n = sum(counts.values())
            print(
                f"gate={'on ' if gate else 'off'} {dt:5.2f} s for {rec.duration:.0f} s of "
                f"{rec.n_channels} ch @ {rec.sfreq:g} Hz: {counts['prediction']} predictions, "
                f"{counts['withheld']} withheld, {dt / n * 1e3:.2f} ms per decision"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--long-worker"]:
        print(long_session(float(sys.argv[2])))
    else:
        main()
