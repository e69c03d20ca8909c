"""``bci replay FILE``: publish a recording as live LSL streams with its markers."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bci.errors import BCIError

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``replay`` subcommand to the ``bci`` command's subparsers."""
    s = subparsers.add_parser(
        "replay",
        help="publish a recording as live LSL streams",
        description="Publish a recording (XDF, FIF, EDF/BDF, GDF, BrainVision, OpenBCI or "
        "muselsl CSV) as live LSL streams with its markers.",
    )
    s.add_argument("file", help="the recording to replay")
    s.add_argument("--speed", default="1", help="1 (real time), N (N times faster) or max")
    s.add_argument("--loop", action="store_true", help="start again at the end, forever")
    s.add_argument("--name", default=None, help="EEG stream name (default replay-<file>)")
    s.add_argument("--source-id", default=None, help="LSL source id of the EEG stream")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Replay until the end (or Ctrl-C with ``--loop``); 2 when the recording cannot be read."""
    from bci.streams.replay import Replay

    try:
        replay = Replay(
            args.file, name=args.name, speed=args.speed, loop=args.loop, source_id=args.source_id
        )
    except BCIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rec = replay.recording
    extra = f" and {', '.join(replay.extra_names)}" if replay.extra_names else ""
    print(
        f"Publishing {replay.name!r} ({rec.n_channels} ch @ {rec.sfreq:g} Hz, "
        f"{rec.duration:.1f} s) and {replay.marker_name!r} ({len(rec.markers)} markers)"
        f"{extra} at speed {replay.speed}{' in a loop' if replay.loop else ''}. Ctrl-C stops.",
        flush=True,
    )
    if replay.speed == "max":
        print(f"Waiting for a reader of {replay.name!r}...", flush=True)
    t0 = time.monotonic()
    try:
        with replay:
            replay.run_forever(consumer_timeout=None)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    print(f"Pushed {replay.n_pushed} samples in {time.monotonic() - t0:.1f} s", flush=True)
    return 0
