"""``bci stream synthetic``: publish a synthetic headset (EEG + cue markers) on LSL until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bci.errors import BCIError

__all__ = ["register", "run_synthetic"]


def _line_freq(value: str) -> float | None:
    if value.lower() in {"none", "off", "0"}:
        return None
    return float(value)


def register(subparsers: Any) -> None:
    """Add the ``stream`` subcommand (kinds: ``synthetic``) to the ``bci`` command."""
    st = subparsers.add_parser("stream", help="publish a stream on LSL")
    st_sub = st.add_subparsers(dest="stream_kind", metavar="KIND", required=True)
    s = st_sub.add_parser(
        "synthetic",
        help="a synthetic headset (EEG + markers) until Ctrl-C",
        description="Publish a synthetic EEG headset (and its cue markers) on LSL.",
    )
    s.add_argument("--headset", default="openbci-cyton", help="headset preset name")
    s.add_argument("--name", default="bci-synthetic", help="EEG stream name")
    s.add_argument("--seed", type=int, default=None, help="random seed (reproducible)")
    s.add_argument("--source-id", default=None, help="LSL source id")
    s.add_argument(
        "--paradigm",
        default=None,
        help="cue this paradigm's trials in a loop (the brain follows the cues)",
    )
    # Generator options: only the ones given override the generator's defaults.
    s.add_argument("--erd-depth", type=float, default=argparse.SUPPRESS, help="ERD depth in [0, 1)")
    s.add_argument("--snr", type=float, default=argparse.SUPPRESS, help="rhythm amplitude scale")
    s.add_argument(
        "--line-freq",
        type=_line_freq,
        default=argparse.SUPPRESS,
        help="mains frequency in Hz (50, 60), or 'none'",
    )
    s.add_argument("--blink-rate", type=float, default=argparse.SUPPRESS, help="blinks per second")
    s.add_argument("--chunk-s", type=float, default=1 / 32, help="push period (s)")
    s.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    s.set_defaults(func=run_synthetic)


def run_synthetic(args: argparse.Namespace) -> int:
    """Publish until Ctrl-C or ``--duration``; 2 on a usage or configuration error."""
    from bci.streams.synthetic_outlet import SyntheticOutlet

    given = vars(args)
    kwargs: dict[str, Any] = {
        k: given[k] for k in ("erd_depth", "snr", "line_freq", "blink_rate") if k in given
    }
    auto_cues = args.paradigm is not None
    try:
        outlet = SyntheticOutlet(
            headset=args.headset,
            name=args.name,
            seed=args.seed,
            source_id=args.source_id,
            paradigm=args.paradigm,
            auto_cues=auto_cues,
            chunk_s=args.chunk_s,
            **kwargs,
        )
    except BCIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in outlet.headset.warnings():
        print(f"warning: {warning}", flush=True)
    print(
        f"EEG stream {outlet.name!r}: {len(outlet.ch_names)} ch @ {outlet.sfreq:g} Hz "
        f"({outlet.headset.name}: {', '.join(outlet.ch_names)}), source_id "
        f"{outlet.source_id!r}",
        flush=True,
    )
    cues = " with automatic cues" if auto_cues else ""
    print(f"Marker stream {outlet.marker_name!r}{cues}. Ctrl-C to stop.", flush=True)
    outlet.run_forever(args.duration)
    return 0
