"""What several subcommands share: logging set-up and the LSL / BLAS set-up of a service."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["apply_lsl", "configure_logging"]


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
