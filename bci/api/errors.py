"""The one place where ``bci`` errors become HTTP statuses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bci import errors as E

__all__ = ["install_error_handlers", "status_for"]

# Most specific first: the first matching class wins.
_STATUS: list[tuple[type[E.BCIError], int]] = [
    (E.NotFoundError, 404),
    (E.StreamNotFoundError, 404),
    (E.StreamMismatchError, 409),
    (E.ModelMismatchError, 409),
    (E.SessionStateError, 409),
    (E.LSLUnavailableError, 503),
    (E.CommandTimeoutError, 503),
    (E.UnknownNameError, 422),
    (E.SignalError, 422),
    (E.ConfigError, 422),
    (E.DataError, 422),
    (E.DecoderError, 422),
    (E.StreamError, 502),
    (E.BCIError, 400),
]


def status_for(exc: E.BCIError) -> int:
    for cls, code in _STATUS:
        if isinstance(exc, cls):
            return code
    return 400


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, E.BCIError)  # registered for BCIError only
    return JSONResponse(
        status_code=status_for(exc),
        content={"error": type(exc).__name__, "detail": str(exc)},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(E.BCIError, _handle)
