"""``bci demo``: synthetic headset + calibrated decoder + live session + API, in one command."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bci.cli._common import apply_lsl, base_and_token
from bci.cli.serve import add_server_options

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand to the ``bci`` command's subparsers."""
    s = subparsers.add_parser(
        "demo", help="synthetic headset + calibrated decoder + live session + API"
    )
    add_server_options(s)
    s.add_argument("--headset", default="openbci-cyton")
    s.add_argument("--name", default="bci-demo", help="LSL stream name")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--pipeline", default="ts-lr")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the demo and serve until Ctrl-C."""
    from bci.api import create_app
    from bci.api.server import make_server
    from bci.config import load_settings
    from bci.headsets import get_headset
    from bci.online.demo import setup_demo

    settings = load_settings(args.config, host=args.host, port=args.port)
    apply_lsl(settings)
    headset = get_headset(args.headset)
    for w in headset.warnings():
        print(f"WARNING: {w}", file=sys.stderr)

    def startup(manager: Any) -> None:
        h = setup_demo(
            manager,
            headset=headset.name,
            seed=args.seed,
            stream_name=args.name,
            pipeline=args.pipeline,
        )
        m = h.model
        base, token = base_and_token(settings)
        sid = h.session.id
        auth = f"-H 'Authorization: Bearer {token}' "
        print(
            f"\nbci demo: synthetic headset {headset.name!r} publishing LSL stream "
            f"{h.stream_name!r} (+ '{h.stream_name}-markers')\n"
            f"  decoder {m.model_id}: {m.pipeline_name} on {m.n_trials} simulated trials, "
            f"CV {m.cv_metric} {m.cv_score:.3f}, calibrated in {h.calibration_s:.1f} s\n"
            f"  API token:        {token}\n"
            f"  live predictions: ws://{settings.host}:{settings.port}/ws/sessions/"
            f"{sid}?token={token}\n"
            f"  dashboard:        {base}/?session={sid}#token={token}\n"
            f"  feedback demo:    {base}/demo?session={sid}#token={token}\n"
            f"  session status:   {base}/sessions/{sid}\n"
            f"  API docs:         {base}/docs\n"
            f"  steer the brain:  curl -X PUT {base}/synthetic/{h.stream_name}/condition "
            f"{auth}-H 'content-type: application/json' "
            '-d \'{"condition": "imagine_left"}\'\n',
            flush=True,
        )

    app = create_app(settings, on_startup=startup)
    make_server(app, settings.host, settings.port, "warning").run()
    return 0
