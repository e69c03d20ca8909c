"""``bci export-bids REC --root DIR``: a recording as EEG-BIDS (predictions as a derivative)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``export-bids`` subcommand to the ``bci`` command's subparsers."""
    p = subparsers.add_parser("export-bids", help="write a recording as EEG-BIDS (mne-bids)")
    p.add_argument("recording")
    p.add_argument("--root", required=True, help="BIDS dataset folder")
    p.add_argument("--subject", default="01")
    p.add_argument("--session", default=None)
    p.add_argument("--task", default="bci")
    p.add_argument("--run", type=int, default=None)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export and print where the files went."""
    from bci.datasets.bids import export_bids

    out = export_bids(
        args.recording, args.root, args.subject, args.session, args.task, args.run, args.overwrite
    )
    print(f"EEG: {out['eeg']}")
    if out["predictions"]:
        print(f"predictions: {out['predictions']}")
    return 0
