"""``bci serve``: the HTTP/WebSocket API for any LSL EEG stream."""

from __future__ import annotations

import argparse
from typing import Any

from bci import __version__
from bci.cli._common import apply_lsl, base_and_token

__all__ = ["add_server_options", "register", "run"]


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--host``, ``--port``, ``--config``: the options of every command that serves the API."""
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--config", default=None, help="settings TOML file")


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand to the ``bci`` command's subparsers."""
    s = subparsers.add_parser("serve", help="serve the HTTP/WebSocket API for any LSL EEG stream")
    add_server_options(s)
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    from bci.api import create_app
    from bci.api.server import make_server
    from bci.config import load_settings

    settings = load_settings(args.config, host=args.host, port=args.port)
    apply_lsl(settings)
    app = create_app(settings)
    base, token = base_and_token(settings)
    print(
        f"bci {__version__} serving on {base} (API docs at {base}/docs)\n"
        f"  API token:  {token}\n"
        f"              send 'Authorization: Bearer <token>'; WebSocket: ?token=<token>\n"
        f"  dashboard:  {base}/#token={token}",
        flush=True,
    )
    make_server(app, settings.host, settings.port, settings.log_level.lower()).run()
    return 0
