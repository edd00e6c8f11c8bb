"""The one JSON error body every failure answers with: ``{"error": {"code", "message", "field"}}``.

Built here only, for the app's exception handlers and for the body-size guard, which answers from below the
app (:mod:`policytag.serving.api.limits`), so that a client parses one shape whatever refused its request.

Example:
    >>> error_body(413, "request body over 10 bytes", "body")
    {'error': {'code': 413, 'message': 'request body over 10 bytes', 'field': 'body'}}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["add_error_handlers", "error_body", "error_response"]

#: How many validation problems a 422 message lists (the first one also names the field).
_MAX_LISTED = 5


def error_body(status: int, message: str, field: str | None = None) -> dict[str, Any]:
    """The error body: the status again, a message for people and the request field at fault (or None)."""
    return {"error": {"code": status, "message": message, "field": field}}


def error_response(
    status: int, message: str, field: str | None = None, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    """:func:`error_body` as a response (also a plain ASGI app, for middleware that answers by itself)."""
    return JSONResponse(error_body(status, message, field), status, headers=headers)


def _field(loc: Any) -> str:
    return ".".join(str(x) for x in loc)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    # A route names the field with ``detail={"message": ..., "field": ...}``; a plain string detail names none.
    assert isinstance(exc, StarletteHTTPException)
    detail: Any = exc.detail
    message, field = (
        (detail.get("message", ""), detail.get("field")) if isinstance(detail, dict) else (str(detail), None)
    )
    return error_response(exc.status_code, message, field, headers=dict(exc.headers or {}))


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    parts = [f"{_field(e.get('loc', ()))}: {e.get('msg', '')}" for e in errors[:_MAX_LISTED]]
    return error_response(422, "; ".join(parts), _field(first.get("loc", ())))


def add_error_handlers(app: FastAPI) -> None:
    """Answer HTTP errors and request validation errors with :func:`error_body`."""
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
