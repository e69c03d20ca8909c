"""``bci train FILE --events T1=left,T2=right``: a decoder from a recording, stored as a model.

See :mod:`bci.evaluation.train` for what happens to the file; this module only parses the
arguments, stores the model under ``BCI_DATA_DIR/models`` and prints its card.
"""

from __future__ import annotations

import argparse
from typing import Any

from bci.errors import DataError

__all__ = ["register", "run"]


def _band(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.replace(",", "-").split("-"))
    except ValueError:
        raise DataError(f"--band: expected LOW-HIGH in Hz (e.g. 8-30), got {text!r}") from None
    if not 0 <= lo < hi:
        raise DataError(f"--band: need 0 <= LOW < HIGH, got {text!r}")
    return lo, hi


def register(subparsers: Any) -> None:
    """Add ``bci train`` to the ``bci`` command."""
    p = subparsers.add_parser(
        "train",
        help="train a decoder on a recording's own markers and store it as a .bcimodel",
    )
    p.add_argument("file", help="XDF, FIF, EDF/BDF, GDF, BrainVision, OpenBCI/muselsl CSV")
    p.add_argument("--events", required=True, help="MARKER=CLASS pairs: T1=left,T2=right")
    p.add_argument("--pipeline", default="ts-lr")
    p.add_argument("--tmin", type=float, default=0.5, help="trial start after the marker (s)")
    p.add_argument("--tmax", type=float, default=2.5, help="trial end after the marker (s)")
    p.add_argument("--band", default=None, help="LOW-HIGH Hz (default: the pipeline's)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--config", default=None, help="settings TOML file (where models live)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, store, print the card's essentials; returns the exit code."""
    from pathlib import Path

    from bci.cli.evaluate import parse_events
    from bci.config import load_settings
    from bci.decoders.store import ModelStore
    from bci.evaluation.train import train_from_recording

    model = train_from_recording(
        args.file,
        parse_events(args.events),
        pipeline=args.pipeline,
        tmin=args.tmin,
        tmax=args.tmax,
        band=None if args.band is None else _band(args.band),
        cv=args.folds,
        seed=args.seed,
    )
    settings = load_settings(args.config)
    path = ModelStore(Path(settings.data_dir) / "models").save(model)
    score = "n/a" if model.cv_score is None else f"{model.cv_score:.3f}"
    trials = model.source["trials"] if model.source else {}
    print(
        f"model {model.model_id}: {model.pipeline_name} on {model.n_trials} trials {trials}, "
        f"{len(model.ch_names)} ch @ {model.sfreq:g} Hz, band {model.band[0]:g}-"
        f"{model.band[1]:g} Hz, window {model.window_s:g} s, CV {model.cv_metric} {score}\n"
        f"stored: {path}"
    )
    return 0
