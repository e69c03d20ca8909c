"""The ``bci`` command."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import platform
import sys
from collections.abc import Sequence
from typing import Any

from bci import __version__
from bci.errors import BCIError

__all__ = ["main"]

logger = logging.getLogger("bci")

# Subcommands that live with their feature: module with register(subparsers).
_PLUGINS = (
    "bci.evaluation.cli",
    "bci.analysis.cli",
    "bci.decoders.store_cli",
    "bci.calibrate_cli",
    "bci.datasets.bids",
)


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def _sys_info(args: argparse.Namespace) -> int:
    from importlib.metadata import PackageNotFoundError, version

    from bci.streams.lsl import liblsl_status

    info: dict[str, Any] = {
        "bci": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {},
    }
    for pkg in (
        "numpy",
        "scipy",
        "mne",
        "pyriemann",
        "scikit-learn",
        "pylsl",
        "fastapi",
        "uvicorn",
        "pydantic",
        "pyxdf",
    ):
        try:
            info["packages"][pkg] = version(pkg)
        except PackageNotFoundError:
            info["packages"][pkg] = "not installed"
    info["liblsl"] = liblsl_status()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"bci {info['bci']} on Python {info['python']} ({info['platform']})")
    for k, v in info["packages"].items():
        print(f"  {k:<14} {v}")
    lsl = info["liblsl"]
    if lsl["found"]:
        print(f"  liblsl         found, version {lsl['library_version']} ({lsl['library_info']})")
        print(f"  LSL config     {lsl['config'] or 'liblsl defaults (LAN multicast)'}")
    else:
        print(f"  liblsl         NOT FOUND\n\n{lsl['error']}")
        return 1
    return 0


def _serve(args: argparse.Namespace) -> int:
    from bci.api import create_app
    from bci.api.server import make_server
    from bci.config import load_settings

    settings = load_settings(args.config, host=args.host, port=args.port)
    _apply_lsl(settings)
    app = create_app(settings)
    base, token = _base_and_token(settings)
    print(
        f"bci {__version__} serving on {base} (API docs at {base}/docs)\n"
        f"  API token:  {token}\n"
        f"              send 'Authorization: Bearer <token>'; WebSocket: ?token=<token>\n"
        f"  dashboard:  {base}/#token={token}",
        flush=True,
    )
    make_server(app, settings.host, settings.port, settings.log_level.lower()).run()
    return 0


def _base_and_token(settings: Any) -> tuple[str, str]:
    """The service URL and its token; warns when the service is reachable from the LAN."""
    from bci.config import is_loopback, service_token

    if not is_loopback(settings.host):
        print(
            f"WARNING: serving on {settings.host}: other machines can reach this service. "
            "Every request needs the token; put TLS in front (README, Security).",
            file=sys.stderr,
        )
    return f"http://{settings.host}:{settings.port}", service_token(settings)


def _apply_lsl(settings: Any) -> None:
    from threadpoolctl import threadpool_limits

    from bci.streams.lsl import configure_lsl

    configure_lsl(settings.lsl_loopback, settings.lsl_config)
    # Decoding works on small matrices: one BLAS thread is fastest and leaves the other core
    # to the acquisition and the web server (multithreaded BLAS measured 5-20x slower here).
    threadpool_limits(1)


def _demo(args: argparse.Namespace) -> int:
    from bci.api import create_app
    from bci.api.server import make_server
    from bci.config import load_settings
    from bci.headsets import get_headset
    from bci.online.demo import setup_demo

    settings = load_settings(args.config, host=args.host, port=args.port)
    _apply_lsl(settings)
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
        base, token = _base_and_token(settings)
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


def _stream_synthetic(args: argparse.Namespace) -> int:
    from bci.streams.synthetic_outlet import main as synth_main

    argv = ["--headset", args.headset, "--name", args.name]
    if args.seed is not None:
        argv += ["--seed", str(args.seed)]
    if args.paradigm:
        argv += ["--paradigm", args.paradigm, "--auto-cues"]
    return int(synth_main(argv) or 0)


def _replay(args: argparse.Namespace) -> int:
    from bci.streams.replay import main as replay_main

    argv = [args.file, "--speed", args.speed]
    if args.loop:
        argv.append("--loop")
    if args.name:
        argv += ["--name", args.name]
    return int(replay_main(argv) or 0)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bci", description=__doc__)
    p.add_argument("--version", action="version", version=f"bci {__version__}")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("sys-info", help="versions, and whether liblsl can be loaded")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_sys_info)

    for name, func, helptext in (
        ("serve", _serve, "serve the HTTP/WebSocket API for any LSL EEG stream"),
        ("demo", _demo, "synthetic headset + calibrated decoder + live session + API"),
    ):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("--host", default=None)
        s.add_argument("--port", type=int, default=None)
        s.add_argument("--config", default=None, help="settings TOML file")
        if name == "demo":
            s.add_argument("--headset", default="openbci-cyton")
            s.add_argument("--name", default="bci-demo", help="LSL stream name")
            s.add_argument("--seed", type=int, default=7)
            s.add_argument("--pipeline", default="ts-lr")
        s.set_defaults(func=func)

    st = sub.add_parser("stream", help="publish a stream on LSL")
    st_sub = st.add_subparsers(dest="stream_kind", metavar="KIND", required=True)
    s = st_sub.add_parser("synthetic", help="a synthetic headset (EEG + markers) until Ctrl-C")
    s.add_argument("--headset", default="openbci-cyton")
    s.add_argument("--name", default="bci-synthetic")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument(
        "--paradigm",
        default=None,
        help="cue this paradigm's trials in a loop (the brain follows the cues)",
    )
    s.set_defaults(func=_stream_synthetic)

    s = sub.add_parser("replay", help="publish a recording as live LSL streams")
    s.add_argument("file")
    s.add_argument("--speed", default="1", help="1 (real time), N (N times faster) or max")
    s.add_argument("--loop", action="store_true")
    s.add_argument("--name", default=None)
    s.set_defaults(func=_replay)

    for mod in _PLUGINS:
        importlib.import_module(mod).register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _configure_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except BCIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
