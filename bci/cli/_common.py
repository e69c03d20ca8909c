"""What several subcommands share: logging set-up and the LSL / BLAS set-up of a service."""

from __future__ import annotations

import logging
import sys
from typing import Any

__all__ = ["apply_lsl", "base_and_token", "configure_logging"]


def configure_logging(level: str) -> None:
    """Log to stderr at ``level`` (the CLI configures logging; library code never does)."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def apply_lsl(settings: Any) -> None:
    """Configure LSL from ``settings`` and limit BLAS to one thread (before serving)."""
    from threadpoolctl import threadpool_limits

    from bci.streams.lsl import configure_lsl

    configure_lsl(settings.lsl_loopback, settings.lsl_config)
    # Decoding works on small matrices: one BLAS thread is fastest and leaves the other core
    # to the acquisition and the web server (multithreaded BLAS measured 5-20x slower here).
    threadpool_limits(1)


def base_and_token(settings: Any) -> tuple[str, str]:
    """The service URL and its API token; warns when the service is reachable from the LAN."""
    from bci.config import is_loopback, service_token

    if not is_loopback(settings.host):
        print(
            f"WARNING: serving on {settings.host}: other machines can reach this service. "
            "Every request needs the token; put TLS in front (README, Security).",
            file=sys.stderr,
        )
    return f"http://{settings.host}:{settings.port}", service_token(settings)
