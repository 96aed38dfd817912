"""Signing in to the console over HTTP and posting its forms, as a browser would."""

from __future__ import annotations

import re
from types import TracebackType

import httpx

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = _TOKEN.search(page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


class Console:
    """One browser's worth of cookies on the console."""

    def __init__(self, url: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=30)
        self.csrf = ""

    async def __aenter__(self) -> Console:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.http.aclose()

    async def sign_in(self, name: str, password: str) -> httpx.Response:
        form = await self.http.get("/login")
        answer = await self.http.post(
            "/login",
            data={"csrf_token": csrf_of(form.text), "name": name, "password": password},
        )
        if answer.status_code == 303:
            page = await self.http.get("/logins")
            self.csrf = csrf_of(page.text)  # the sign-out form carries it
        return answer

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(path)

    async def post(
        self, path: str, data: dict[str, str] | None = None, csrf: bool = True
    ) -> httpx.Response:
        fields = dict(data or {})
        if csrf:
            fields["csrf_token"] = self.csrf
        return await self.http.post(path, data=fields)
