"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from bci import __version__
from bci.api.errors import install_error_handlers
from bci.api.routes import dashboard, models, recordings, sessions, synthetic, system, ws
from bci.config import Settings, get_settings
from bci.online.manager import SessionManager

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

API_DESCRIPTION = """
Real-time EEG decoding. Bind an LSL stream with `POST /sessions`, then read decisions on
`WS /ws/sessions/{id}`: JSON text frames of type `prediction`
(`{type, session_id, index, t, probabilities, label, model_id, latency_ms, compute_ms}`),
`status`, `marker`, `model`, `cue`, `calibration`, `mu_suppression`, `signal`; the full
contract (AsyncAPI 3.0) is `GET /asyncapi.json`. Send `{"type": "event", "value": "..."}` to
stamp an app event on the LSL clock. All times are LSL clock seconds.
"""


def create_app(
    settings: Settings | None = None,
    manager: SessionManager | None = None,
    on_startup: Callable[[SessionManager], None] | None = None,
) -> FastAPI:
    """Build the app.

    Parameters
    ----------
    settings : Settings or None
        Defaults to the environment's settings.
    manager : SessionManager or None
        A manager to serve (tests inject one); a new one is made otherwise.
    on_startup : callable or None
        Run (in a worker thread) once the engine is started, e.g. the demo's setup.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mgr = manager or SessionManager(settings)
        app.state.manager = mgr
        app.state.settings = settings
        mgr.engine.start()
        if on_startup is not None:
            await run_in_threadpool(on_startup, mgr)
        try:
            yield
        finally:
            await run_in_threadpool(mgr.close)

    app = FastAPI(
        title="bci",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for r in (
        system.router,
        sessions.router,
        models.router,
        recordings.router,
        synthetic.router,
        ws.router,
    ):
        app.include_router(r)
    app.include_router(dashboard.router)  # the pages at / and /demo, after the API routes
    return app
