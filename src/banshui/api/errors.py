"""One error shape everywhere: ``{"error": {"code", "message", "field"?}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from banshui.core.errors import BanshuiError

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


def error_response(
    status: int, code: str, message: str, field: str | None = None
) -> JSONResponse:
    body = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status)


def install(app: FastAPI) -> None:
    app.add_exception_handler(BanshuiError, _banshui_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


async def _banshui_error(_request: Request, error: BanshuiError) -> JSONResponse:
    return error_response(error.status, error.code, error.message, error.field)


async def _validation_error(
    _request: Request, error: RequestValidationError
) -> JSONResponse:
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if part != "body"]
    field = ".".join(location) or None
    if first.get("type") == "json_invalid":
        return error_response(422, "invalid_json", "the body is not valid JSON")
    message = str(first.get("msg", "is invalid"))
    sentence = f"{field}: {message}" if field else message
    return error_response(422, "invalid", sentence, field)


async def _http_error(_request: Request, error: HTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(error.status_code, "error")
    message = str(error.detail) if error.detail else code.replace("_", " ")
    return error_response(error.status_code, code, message)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "something went wrong on the server")
