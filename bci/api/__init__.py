"""The HTTP/WebSocket API (FastAPI). Nothing below this package imports FastAPI."""

from bci.api.app import create_app

__all__ = ["create_app"]
