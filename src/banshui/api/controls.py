"""Request addresses holding control characters, refused before any route.

No id, tax id or source name holds a control character, and PostgreSQL cannot
store a NUL at all: a path with one (``/api/v1/enterprises/%00``) names nothing
and is a 404, and a query parameter holding a NUL is a 422 naming it (a query
may carry text, an SMS with its line breaks). The API and the webhooks answer in
the one error shape, pages with their own 404. Bodies are checked where they are
read: ``banshui.api.bodies`` and the console's ``ConsoleRoute``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from banshui.api.bodies import NUL, NUL_REFUSED
from banshui.api.errors import PageError, error_response, is_page

# C0 controls and DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_FOUND = "nothing is found at a path holding a control character"


class ControlCharacters:
    """ASGI middleware: no route sees a path or query parameter it cannot hold."""

    def __init__(self, app: ASGIApp, page_error: PageError | None = None) -> None:
        self.app = app
        self.page_error = page_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = self._refusal(scope)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        path: str = scope["path"]
        query: bytes = scope.get("query_string", b"")
        if _CONTROL.search(path):
            return self._not_found(scope)
        # Escaped or not (no letter in "%00": no case to fold).
        if b"%00" not in query and b"\x00" not in query:
            return None
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if NUL in name:
                return self._invalid(scope, f"the query string {NUL_REFUSED}", None)
            if NUL in value:
                return self._invalid(scope, f"{name}: {NUL_REFUSED}", name)
        return None

    def _not_found(self, scope: Scope) -> Response:
        request = Request(scope)
        if self.page_error is not None and is_page(request):
            return self.page_error(request, 404)
        return error_response(404, "not_found", _NOT_FOUND)

    def _invalid(self, scope: Scope, message: str, field: str | None) -> Response:
        # A page has no field to show the refusal under: its address is wrong.
        if self.page_error is not None and is_page(Request(scope)):
            return self.page_error(Request(scope), 404)
        return error_response(422, "invalid", message, field)
