"""Cost of the quality gate: one real recording through a session, with and without it.

    BCI_DATA_PATH=../shared/data .venv/bin/python bench/quality_gate.py [--repeat 2]

Plays PhysioNet S001R04 (64 ch, 160 Hz, 125 s) through a DecodingSession (ArraySource, 10
samples a step, one decision every 1/16 s) with a ts-lr model trained on the same file, and
prints the wall time per decision with the gate and without it (the stage removed).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from threadpoolctl import threadpool_limits


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args()
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
    main()
