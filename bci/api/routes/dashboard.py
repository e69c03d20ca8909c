"""The dashboard: the live session view at ``/``, the feedback demo at ``/demo``, their files.

Plain HTML, CSS and ES modules from ``bci/api/static`` (no build step, nothing fetched from
the internet). The pages use only the public HTTP API and the session WebSocket.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from bci.errors import NotFoundError

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["dashboard"], include_in_schema=False)

# The pages change with the package; revalidate instead of caching stale modules.
_HEADERS = {"Cache-Control": "no-cache"}
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}


def _file(relative: str) -> FileResponse:
    root = STATIC_DIR.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.suffix not in _TYPES:
        raise NotFoundError(f"No dashboard file {relative!r}")
    return FileResponse(path, media_type=_TYPES[path.suffix], headers=_HEADERS)


@router.get("/")
def live_view() -> FileResponse:
    """The live session view: traces, quality, band power, probabilities, controls."""
    return _file("index.html")


@router.get("/demo")
def feedback_demo() -> FileResponse:
    """The feedback demo (``/demo?session=1``): a ball pushed by the class probabilities."""
    return _file("demo.html")


@router.get("/static/{path:path}")
def static_file(path: str) -> FileResponse:
    return _file(path)
