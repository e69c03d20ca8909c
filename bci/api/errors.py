"""The one place where errors become HTTP responses, all in one error model.

Every :class:`bci.errors.BCIError` maps to a status here (most specific class first); request
validation (422), HTTP errors raised by the framework (401, 403, 404, 405, 413) and the
``OPTIONS`` answer use the same body, :class:`ErrorOut`.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bci import errors as E

__all__ = ["ErrorOut", "error_response", "install_error_handlers", "responses", "status_for"]


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: str = Field(description="Error class, e.g. SessionNotFoundError, ValidationError")
    detail: str = Field(description="What went wrong and, for a state error, how to fix it")


# Most specific first: the first matching class wins.
_STATUS: list[tuple[type[E.BCIError], int]] = [
    (E.NotFoundError, 404),
    (E.StreamNotFoundError, 404),
    (E.StreamMismatchError, 409),
    (E.ModelMismatchError, 409),
    (E.ModelExistsError, 409),
    (E.SessionStateError, 409),
    (E.PayloadTooLargeError, 413),
    (E.ServiceBusyError, 503),
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

_HTTP_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    422: "ValidationError",
    503: "ServiceUnavailable",
}

_DESCRIPTIONS = {
    401: "Missing or wrong bearer token",
    403: "Origin or Host not allowed",
    404: "No such resource (or a path outside the served folders)",
    409: "The resource is not in a state that allows this",
    413: "Request body larger than its limit",
    422: "Invalid input: the field, what was expected and what came",
    502: "The LSL stream failed",
    503: "Busy (too many resolutions, uploads or trainings at once) or liblsl missing",
}


def status_for(exc: E.BCIError) -> int:
    """The HTTP status of a ``bci`` error."""
    for cls, code in _STATUS:
        if isinstance(exc, cls):
            return code
    return 400


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses a route gives."""
    return {c: {"model": ErrorOut, "description": _DESCRIPTIONS[c]} for c in codes}


def error_response(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content=ErrorOut(error=error, detail=detail).model_dump(),
        headers=headers,
    )


async def _bci_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, E.BCIError)  # registered for BCIError only
    code = status_for(exc)
    headers = {"Retry-After": "2"} if code == 503 else None
    return error_response(code, type(exc).__name__, str(exc), headers)


def _describe(err: dict[str, Any]) -> str:
    loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
    got = err.get("input")
    text = repr(got)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{loc}: {err.get('msg', 'invalid')} (got {text})"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = "; ".join(_describe(e) for e in exc.errors()[:10])
    return error_response(422, "ValidationError", detail or "invalid request")


def allowed_methods(request: Request, fallback: str = "") -> list[str]:
    """Every method the API documents at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    path = request.url.path
    for template, ops in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            methods |= {m.upper() for m in ops}
    if not methods:
        methods = {m.strip() for m in fallback.split(",") if m.strip()}
    methods.discard("HEAD")  # FastAPI routes do not answer HEAD: do not offer it
    return sorted(methods | {"OPTIONS"})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allow = ", ".join(allowed_methods(request, headers.get("Allow", "")))
        headers["Allow"] = allow
        if request.method == "OPTIONS":  # not a CORS preflight: say what the path supports
            return Response(status_code=204, headers=headers)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        # FastAPI's answer to a body that is not UTF-8 JSON: invalid input, like any other
        return error_response(422, "ValidationError", "body: not valid UTF-8 JSON")
    name = _HTTP_NAMES.get(exc.status_code, "HTTPError")
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No such route: see /docs for the API"
    return error_response(exc.status_code, name, detail, headers or None)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(E.BCIError, _bci_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
