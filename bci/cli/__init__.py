"""The ``bci`` command: one module per subcommand, registered here.

Each subcommand module defines ``register(subparsers)``, which adds its parser and sets
``func`` to its run function (``run(args) -> exit code``). Module level imports stay light
(argparse, :mod:`bci.errors`); the heavy ones (MNE, FastAPI, scikit-learn, pylsl) go inside
the run function, so ``bci --help`` starts fast.

Adding a subcommand is one new module plus one line: write ``bci/cli/train.py`` with
``register(subparsers)`` and ``run(args)``, then add ``train`` to the import and to
:data:`SUBCOMMANDS` below (the order there is the order in ``bci --help``). A subcommand with
actions of its own (``bci models build-population``) adds a sub-parser in its module's
``register`` (see :mod:`bci.cli.models`).

A subcommand raises :class:`~bci.errors.BCIError` for a user error: :func:`main` prints
``error: <message>`` and exits with 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from bci import __version__
from bci.cli import (
    calibrate,
    demo,
    erd,
    evaluate,
    export_bids,
    models,
    replay,
    serve,
    stream,
    sys_info,
    train,
)
from bci.cli._common import configure_logging
from bci.errors import BCIError

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

logger = logging.getLogger("bci")

#: The subcommand modules, in the order of ``bci --help``.
SUBCOMMANDS: tuple[ModuleType, ...] = (
    sys_info,
    serve,
    demo,
    stream,
    replay,
    evaluate,
    train,
    erd,
    models,
    calibrate,
    export_bids,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``bci`` argument parser with every subcommand of :data:`SUBCOMMANDS`."""
    p = argparse.ArgumentParser(prog="bci", description="The ``bci`` command.")
    p.add_argument("--version", action="version", version=f"bci {__version__}")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bci`` command; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    code : int
        The subcommand's code; 1 on a :class:`~bci.errors.BCIError`, 2 on a usage error or
        no subcommand, 130 on Ctrl-C.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    configure_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except BCIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
