"""The OpenAPI document: the security scheme and the error responses every route gives.

Routes declare their own 404/409/503; here every operation gets what the middleware and the
framework give whatever the route: 403 (foreign Origin or Host), 401 where the token is
required, 413 (a body past its limit, on any route), 422 where there is input, all with
:class:`ErrorOut`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from bci.api.errors import ErrorOut, responses
from bci.api.security import SAFE_METHODS, Guard

__all__ = ["install_contract"]

_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def _error(code: int) -> dict[str, Any]:
    entry = responses(code)[code]
    return {
        "description": entry["description"],
        "content": {"application/json": {"schema": _ERROR_REF}},
    }


def build_openapi(app: FastAPI, guard: Guard) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ErrorOut"] = ErrorOut.model_json_schema()
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "The token `bci serve` prints (also in BCI_DATA_DIR/token)",
        }
    }
    for ops in doc.get("paths", {}).values():
        for method, op in ops.items():
            res = op.setdefault("responses", {})
            secured = method.upper() not in SAFE_METHODS or not guard.reads_open
            if secured:
                op["security"] = [{"bearer": []}]
                res["401"] = _error(401)
            res["403"] = _error(403)
            has_input = bool(op.get("parameters")) or "requestBody" in op
            res["413"] = _error(413)  # any request may carry a body past the limit
            if has_input:
                res["422"] = _error(422)
            else:
                res.pop("422", None)
            for code, entry in res.items():
                if code.startswith(("4", "5")):
                    entry["content"] = {"application/json": {"schema": _ERROR_REF}}
    return doc


def install_contract(app: FastAPI, guard: Guard) -> None:
    """Serve the completed document at ``/openapi.json`` (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, guard)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
