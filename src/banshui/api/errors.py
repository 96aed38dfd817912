"""One error shape everywhere: ``{"error": {"code", "message", "field"?}}``.

Pages (the console, the query page) answer a path that does not exist and an
error nobody expected with a page of their own instead; the API never does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from banshui.core.errors import BanshuiError, TooManyRequests
from banshui.core.surrogates import LoneSurrogate

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}

# A page for a request to a page's path: its status (404 or 500) decides which.
PageError = Callable[[Request, int], Response]

# The faces that answer JSON; every other path is a page.
JSON_PATHS = (
    "/api/",
    "/hooks/",
    "/healthz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/redoc",
    "/static/",
    "/sim/",
)


def error_response(
    status: int, code: str, message: str, field: str | None = None
) -> JSONResponse:
    body = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status)


def install(app: FastAPI, page_error: PageError | None = None) -> None:
    """The handlers; with ``page_error``, pages answer a 404 and a 500 with it."""
    app.add_exception_handler(BanshuiError, _banshui_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error_of(page_error))  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error_of(page_error))


def is_page(request: Request) -> bool:
    path = request.url.path
    return not any(
        path.startswith(prefix) or path == prefix.rstrip("/") for prefix in JSON_PATHS
    )


async def _banshui_error(_request: Request, error: BanshuiError) -> JSONResponse:
    response = error_response(error.status, error.code, error.message, error.field)
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _validation_error(
    _request: Request, error: RequestValidationError
) -> JSONResponse:
    first = error.errors()[0]
    field = _field_of(tuple(first.get("loc", ())))
    if first.get("type") == "json_invalid":
        return error_response(422, "invalid_json", "the body is not valid JSON")
    if first.get("type") == "string_unicode":
        # pydantic's own refusal of a lone surrogate, said as a Body says it.
        return error_response(422, "invalid", LoneSurrogate(field).message, field)
    message = str(first.get("msg", "is invalid"))
    sentence = f"{field}: {message}" if field else message
    return error_response(422, "invalid", sentence, field)


def _field_of(location: tuple[Any, ...]) -> str | None:
    """A body's path to the field, or a query parameter's name alone."""
    if location[:1] == ("query",):
        # Not query.status.1: the caller named the parameter, not its place.
        return str(location[1]) if len(location) > 1 else None
    return ".".join(str(part) for part in location if part != "body") or None


def _http_error_of(
    page_error: PageError | None,
) -> Callable[[Request, HTTPException], Awaitable[Response]]:
    async def http_error(request: Request, error: HTTPException) -> Response:
        if page_error is not None and error.status_code == 404 and is_page(request):
            return page_error(request, 404)
        if error.status_code == 400 and error.__cause__ is not None:
            unread = _unread_body(error.__cause__)
            if unread is not None:
                return unread
        code = _HTTP_CODES.get(error.status_code, "error")
        message = str(error.detail) if error.detail else code.replace("_", " ")
        return error_response(error.status_code, code, message)

    return http_error


def _unread_body(cause: BaseException) -> Response | None:
    """FastAPI's 400 for a JSON body it could not read, in the documented shape.

    FastAPI answers any failure to read a body with its own 400: the body limit
    refusing a chunked body as it comes in, JSON nested deeper than the parser
    recurses, bytes that are not UTF-8.
    """
    if isinstance(cause, BanshuiError):
        return error_response(cause.status, cause.code, cause.message, cause.field)
    if isinstance(cause, RecursionError | UnicodeDecodeError):
        return error_response(422, "invalid_json", "the body is not valid JSON")
    return None


def _unexpected_error_of(
    page_error: PageError | None,
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def unexpected_error(request: Request, error: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        if page_error is not None and is_page(request):
            # Nothing of the error on the page: it is in the log.
            return page_error(request, 500)
        return error_response(500, "internal", "something went wrong on the server")

    return unexpected_error
