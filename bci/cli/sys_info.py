"""``bci sys-info``: versions, and whether liblsl can be loaded."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from typing import Any

from bci import __version__

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``sys-info`` subcommand to the ``bci`` command's subparsers."""
    s = subparsers.add_parser("sys-info", help="versions, and whether liblsl can be loaded")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the versions and the liblsl status; 1 when liblsl cannot be loaded."""
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
