"""One error shape for the whole product: a code, one sentence and maybe a field."""

from __future__ import annotations


class BanshuiError(Exception):
    """An error a caller can act on; its message never holds a secret."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, dict[str, str]]:
        body = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return {"error": body}


class InvalidInput(BanshuiError):
    status = 422
    code = "invalid"


class NotFound(BanshuiError):
    status = 404
    code = "not_found"


class Conflict(BanshuiError):
    status = 409
    code = "conflict"


class Unauthorized(BanshuiError):
    status = 401
    code = "unauthorized"


class Forbidden(BanshuiError):
    status = 403
    code = "forbidden"


class TooManyRequests(BanshuiError):
    """Turned away for a while; ``retry_after`` says for how many seconds."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
