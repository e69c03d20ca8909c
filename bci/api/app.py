"""The FastAPI application factory."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bci import __version__
from bci.api.contract import install_contract
from bci.api.errors import install_error_handlers
from bci.api.limits import BodyLimitMiddleware
from bci.api.routes import dashboard, models, recordings, sessions, synthetic, system, ws
from bci.api.security import LOOPBACK_ORIGIN_REGEX, Guard, GuardMiddleware, require_token
from bci.config import Settings, get_settings, is_loopback, service_token
from bci.errors import ConfigError
from bci.online.manager import SessionManager
from bci.online.service import MAX_MODEL_BYTES, BCIService

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

API_DESCRIPTION = """
Real-time EEG decoding. Bind an LSL stream with `POST /sessions`, then read decisions on
`WS /ws/sessions/{id}`: JSON text frames of type `prediction`
(`{type, session_id, index, t, probabilities, label, model_id, latency_ms, compute_ms}`),
`status`, `marker`, `model`, `cue`, `calibration`, `mu_suppression`, `signal`; the full
contract (AsyncAPI 3.0) is `GET /asyncapi.json`. Send `{"type": "event", "value": "..."}` to
stamp an app event on the LSL clock. All times are LSL clock seconds.

Authentication: `Authorization: Bearer <token>` on every mutating request (and on reads when
the service is bound off loopback); on the WebSocket `?token=<token>` or the subprotocol entry
`bearer.<token>`. `bci serve` prints the token.
"""


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


class FiniteJSONResponse(JSONResponse):
    """Strict JSON (``allow_nan=False``): an undefined number (a failed fit's CV score) is
    ``null`` rather than the invalid token ``NaN`` or a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            _finite(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")


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
    token_file = settings.data_dir / "token"
    if not is_loopback(settings.host) and settings.token is None and not token_file.exists():
        raise ConfigError(
            f"Refusing to serve on {settings.host} (reachable from other machines) without "
            f"a token chosen beforehand: set BCI_TOKEN (16+ characters), or start once on "
            f"127.0.0.1 to generate {token_file}"
        )
    guard = Guard.from_settings(settings, service_token(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = BCIService(settings, manager)
        app.state.service = service
        app.state.manager = service.manager  # for in-process callers (demo, tests)
        service.start()
        if on_startup is not None:
            await run_in_threadpool(on_startup, service.manager)
        try:
            yield
        finally:
            await run_in_threadpool(service.close)

    app = FastAPI(
        title="bci",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        default_response_class=FiniteJSONResponse,
    )
    app.state.settings = settings
    app.state.guard = guard
    install_error_handlers(app)
    auth = [Depends(require_token)]
    for r in (
        system.router,
        sessions.router,
        models.router,
        recordings.router,
        synthetic.router,
    ):
        app.include_router(r, dependencies=auth)
    app.include_router(ws.router)  # checks the token itself (query or subprotocol)
    app.include_router(dashboard.router)  # the pages at / and /demo, after the API routes
    install_contract(app, guard)
    app.add_middleware(
        BodyLimitMiddleware,
        default=settings.max_body_bytes,
        per_route={("POST", "/models"): MAX_MODEL_BYTES},
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.allowed_origins),
        allow_origin_regex=LOOPBACK_ORIGIN_REGEX,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    app.add_middleware(GuardMiddleware, guard=guard)  # outermost: Host and Origin first
    return app
