"""Fingerprint ERD reports (numbers, notes, ERDS maps) to compare two trees bit for bit.

Run ``PYTHONPATH=TREE MPLBACKEND=Agg python tools/erd_fingerprint.py OUT.pkl`` in each tree
(needs eegmmidb subject 1 under ``BCI_DATA_PATH``), then
``python tools/erd_fingerprint.py BEFORE.pkl AFTER.pkl`` to compare them. Used to check that
the one epoching path (``bci.datasets.epochs.cut_epochs``) left the reports unchanged.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any

import numpy as np


def _fingerprint(rep: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"notes": list(rep.notes), "entries": [], "erds": []}
    for e in rep.entries:
        numbers = {
            k: np.asarray(v)
            for k, v in vars(e.result).items()
            if isinstance(v, np.ndarray | float | int)
        }
        out["entries"].append((e.group, e.condition, e.reference, numbers, np.asarray(e.topomap)))
    for m in rep.erds:
        out["erds"].append((m.group, m.condition, m.n_epochs, np.asarray(m.data), m.times))
    return out


def make(path: str) -> None:
    """Compute the reports (synthetic recording with drops, eegbci S001) and pickle them."""
    os.environ.setdefault("BCI_DATA_PATH", "/work/shared/data")
    import mne
    from threadpoolctl import threadpool_limits

    from bci.analysis import ErdOptions, eegbci_report, recording_report
    from bci.streams import synthetic

    threadpool_limits(1)
    run = synthetic.simulate_run("imagery-left-right", 12, "standard-1020-19", seed=3)
    info = mne.create_info(list(run.ch_names), run.sfreq, "eeg")
    raw = mne.io.RawArray(run.data * 1e-6, info, verbose="error")
    onsets = [s / run.sfreq for s, _ in run.events]
    # a BAD span over a trial, and a cue too close to the end: both trials are dropped
    raw.set_annotations(
        mne.Annotations(
            [*onsets, onsets[3] + 1.0, raw.times[-1] - 0.5],
            [4.0] * len(onsets) + [0.5, 0.0],
            [*run.labels, "BAD_x", run.labels[0]],
        )
    )
    gen = synthetic.SyntheticEEG("standard-1020-19", seed=11)
    base = gen.generate(int(40 * gen.sfreq)).T.astype(np.float64)
    binfo = mne.create_info(list(gen.ch_names), gen.sfreq, "eeg")
    braw = mne.io.RawArray(base * 1e-6, binfo, verbose="error")
    opts = ErdOptions(n_boot=50, erds=True)
    res = {
        "synthetic": _fingerprint(recording_report(raw, baseline_raw=braw, options=opts)),
        "eegbci": _fingerprint(eegbci_report(1, options=opts, run_types=["imagined-left-right"])),
    }
    with open(path, "wb") as fh:
        pickle.dump(res, fh)
    print({k: (len(v["entries"]), len(v["erds"]), v["notes"]) for k, v in res.items()})


def compare(before: str, after: str) -> bool:
    """Print, per report, whether the entries and ERDS maps of two fingerprints are equal."""
    with open(before, "rb") as fa, open(after, "rb") as fb:
        a, b = pickle.load(fa), pickle.load(fb)
    ok = True
    for k in a:
        notes = a[k]["notes"] == b[k]["notes"]
        same = all(
            ea[:3] == eb[:3]
            and all(np.array_equal(ea[3][f], eb[3][f], equal_nan=True) for f in ea[3])
            and np.array_equal(ea[4], eb[4])
            for ea, eb in zip(a[k]["entries"], b[k]["entries"], strict=True)
        )
        maps = all(
            ma[:3] == mb[:3] and np.array_equal(ma[3], mb[3])
            for ma, mb in zip(a[k]["erds"], b[k]["erds"], strict=True)
        )
        word = {True: "identical", False: "DIFFER"}
        print(f"{k}: notes {word[notes]}, entries {word[same]}, maps {word[maps]}")
        ok = ok and notes and same and maps
    return ok


if __name__ == "__main__":
    if len(sys.argv) == 3:
        sys.exit(0 if compare(sys.argv[1], sys.argv[2]) else 1)
    make(sys.argv[1])
