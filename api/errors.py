"""Every error leaves the API in one JSON shape (API.md), mapped here and only here.

``{"error": {"code", "message", "field"?}}``; 4xx for bad input, 503 with
``Retry-After`` when the database is unreachable, and a 500 whose body carries only
a request id (the traceback goes to the log, never to the client).
"""

from __future__ import annotations

import logging
import math
import uuid
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from api import georeport
from api.deps import get_settings
from geo import errors

log = logging.getLogger("wangge.api")

STATUS: list[tuple[type[errors.WanggeError], int]] = [
    (errors.TooLarge, 413),
    (errors.Busy, 503),
    (errors.RateLimited, 429),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.InvalidInput, 400),
    (errors.Unavailable, 503),
    (errors.SetupError, 503),
    (errors.WanggeError, 400),
]

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    problems: list[str] | None = None


class ErrorBody(BaseModel):
    """The one error shape of the platform's own APIs (API.md)."""

    error: ErrorDetail


ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 503)
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": HTTP_CODES[status].replace("_", " ")}
    for status in ERROR_STATUSES
}


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, str] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _shaped(
    request: Request,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error in the shape of the API that was called: Open311's list under /open311/, else ours."""
    if request.url.path.startswith("/open311/"):
        return georeport.error(status, message, request.url.path, headers)
    return error_response(status, code, message, field, headers)


def _unavailable(request: Request) -> Response:
    retry = str(get_settings(request).retry_after_s)
    return _shaped(
        request,
        503,
        "database_unavailable",
        "the database is unreachable; retry shortly",
        headers={"Retry-After": retry},
    )


def _field_of(loc: tuple[object, ...] | list[object]) -> str | None:
    parts = [str(p) for p in loc if p not in ("query", "body", "path", "header")]
    return ".".join(parts) or None


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into the JSON error shape."""

    @app.exception_handler(errors.WanggeError)
    async def _domain(request: Request, exc: errors.WanggeError) -> Response:
        status = next(code for cls, code in STATUS if isinstance(exc, cls))
        if status == 503 and not isinstance(exc, errors.Busy):
            return _unavailable(request)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, errors.RateLimited):
            headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
        if request.url.path.startswith("/open311/"):
            return _shaped(request, status, exc.code, exc.message, exc.field, headers)
        return JSONResponse({"error": exc.as_dict()}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = _field_of(tuple(first.get("loc", ())))
        message = str(first.get("msg", "invalid request"))
        if field:
            message = f"{field}: {message}"
        return _shaped(request, 422, "invalid_request", message, field)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such path: {request.url.path}"
        return _shaped(request, exc.status_code, code, message, headers=dict(exc.headers or {}))

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            log.warning("database unavailable: %s", type(exc.orig).__name__)
            return _unavailable(request)
        if isinstance(exc.orig, psycopg.DataError):  # a value the database cannot hold: the input's fault
            reason = str(exc.orig).strip().splitlines()[0][:200]
            return _shaped(request, 400, "invalid_input", f"a value was refused by the database: {reason}")
        return _internal(request, exc)

    @app.exception_handler(RecursionError)
    async def _nested(request: Request, exc: RecursionError) -> Response:  # json.loads of a deep body
        return _shaped(request, 400, "invalid_input", "the body is nested too deeply", "body")

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, exc: PoolTimeout) -> Response:
        return _unavailable(request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return _internal(request, exc)


def _internal(request: Request, exc: Exception) -> Response:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:12]
    log.error("unhandled error, request %s", request_id, exc_info=exc)
    return _shaped(request, 500, "internal_error", f"internal error; quote request id {request_id}")
