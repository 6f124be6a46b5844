"""Exception handlers: every error leaves the service as an RFC 9457 problem document."""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import (
    PROBLEM_JSON,
    PROBLEM_TYPE_BASE,
    BadRequest,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    PlacerError,
    ServiceUnavailable,
)

_logger = logging.getLogger(__name__)

_BY_STATUS: dict[int, type[PlacerError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    422: InvalidInput,
}


def problem_response(error: PlacerError, request: Request) -> JSONResponse:
    """Render ``error`` with its headers, as ``application/problem+json``."""
    return JSONResponse(
        error.problem(instance=request.url.path),
        status_code=error.status,
        headers=error.headers,
        media_type=PROBLEM_JSON,
    )


def field_path(location: Sequence[int | str]) -> str:
    """``("body", "capacity", "cpu")`` → ``capacity.cpu``; ``("query", "limit")`` → ``limit``."""
    sources = ("body", "query", "header", "path")
    parts = list(location[1:] if location and location[0] in sources else location)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _validation_error(exc: RequestValidationError) -> PlacerError:
    errors: list[dict[str, Any]] = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return BadRequest("the request body is not valid JSON", field="body")
    details = [
        {"field": field_path(error.get("loc", ())) or "body", "message": error.get("msg", "")}
        for error in errors
    ]
    first = details[0] if details else {"field": "body", "message": "invalid request"}
    return InvalidInput(
        f"{first['field']}: {first['message']}", field=first["field"], extra={"errors": details}
    )


async def _handle_placer_error(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(cast(PlacerError, exc), request)


async def _handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(_validation_error(cast(RequestValidationError, exc)), request)


async def _handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    http_error = cast(StarletteHTTPException, exc)
    headers = dict(http_error.headers or {})
    error_type = _BY_STATUS.get(http_error.status_code)
    if error_type is not None:
        return problem_response(error_type(str(http_error.detail), headers=headers), request)
    body = {
        "type": PROBLEM_TYPE_BASE + "http-error",
        "title": HTTPStatus(http_error.status_code).phrase,
        "status": http_error.status_code,
        "detail": str(http_error.detail),
    }
    return JSONResponse(body, http_error.status_code, headers=headers, media_type=PROBLEM_JSON)


async def _handle_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, sa_exc.DBAPIError) and not _is_connection_failure(exc):
        return await _handle_unexpected(request, exc)
    _logger.warning("database unavailable", extra={"error": type(exc).__name__})
    error = ServiceUnavailable("the database is unavailable; retry later")
    error.headers["Retry-After"] = "5"
    return problem_response(error, request)


def _is_connection_failure(exc: sa_exc.DBAPIError) -> bool:
    return exc.connection_invalidated or isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError
    )


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    _logger.error("unhandled error", exc_info=exc)
    error = PlacerError("an unexpected error occurred; the request id identifies it in the logs")
    return problem_response(error, request)


def install_error_handlers(app: FastAPI) -> None:
    """Register one handler per family of errors; nothing reaches the client as a stack trace."""
    app.add_exception_handler(PlacerError, _handle_placer_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(sa_exc.DBAPIError, _handle_database_unavailable)
    app.add_exception_handler(sa_exc.TimeoutError, _handle_database_unavailable)
    app.add_exception_handler(OSError, _handle_database_unavailable)
    app.add_exception_handler(TimeoutError, _handle_database_unavailable)
    app.add_exception_handler(Exception, _handle_unexpected)
