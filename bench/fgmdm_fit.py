"""FgMDM fit time: bci's CholeskyFgMDM against pyRiemann's FgMDM, alternating, one run.

Real EEG (eegmmidb imagined left/right, 8-32 Hz, 0-3 s, OAS covariances), the first
``--train`` trials of each subject, all 64 channels (2,080 tangent features) unless
``--channels motor``. Prints seconds per fit of each and their ratio, and checks that the
predictions on the remaining trials agree.

    BCI_DATA_PATH=../shared/data .venv/bin/python bench/fgmdm_fit.py --subjects 1-3
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from pyriemann.classification import FgMDM
from pyriemann.estimation import Covariances
from threadpoolctl import threadpool_limits

from bci.cli._evaluation import parse_subjects
from bci.decoders.fgda import CholeskyFgMDM
from bci.evaluation.taskdata import DataSpec, load_epochs
from bci.evaluation.tasks import MOTOR_CHANNELS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", default="1-3")
    ap.add_argument("--train", type=int, default=36)
    ap.add_argument("--channels", choices=["all", "motor"], default="all")
    ap.add_argument("--repeats", type=int, default=2, help="ABBA rounds per subject")
    args = ap.parse_args()
    threadpool_limits(1)  # as `bci evaluate` runs (2 shared cores: threaded BLAS only contends)
    channels = tuple(MOTOR_CHANNELS) if args.channels == "motor" else None
    totals = {"pyriemann": 0.0, "bci": 0.0}
    for subject in parse_subjects(args.subjects):
        spec = DataSpec(
            subject, "imagery-left-right", os.environ.get("BCI_DATA_PATH"), channels=channels
        )
        X, y, _ = load_epochs(spec, (8.0, 32.0))
        C = Covariances("oas").fit_transform(np.asarray(X))
        tr, te = slice(0, args.train), slice(args.train, None)
        fitted = {}
        for _ in range(args.repeats):
            for name, cls in (
                ("pyriemann", FgMDM),
                ("bci", CholeskyFgMDM),
                ("bci", CholeskyFgMDM),
                ("pyriemann", FgMDM),
            ):
                t = time.perf_counter()
                fitted[name] = cls().fit(C[tr], y[tr])
                totals[name] += time.perf_counter() - t
        diff = np.abs(fitted["bci"].predict_proba(C[te]) - fitted["pyriemann"].predict_proba(C[te]))
        print(f"S{subject:03d}: {C.shape[1]} channels, max |proba difference| {diff.max():.1e}")
    n = 2 * args.repeats * len(parse_subjects(args.subjects))
    a, b = totals["pyriemann"] / n, totals["bci"] / n
    print(f"per fit: pyRiemann FgMDM {a:.2f} s, CholeskyFgMDM {b:.2f} s, ratio {a / b:.1f}x")


if __name__ == "__main__":
    main()
