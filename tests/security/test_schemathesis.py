"""Schemathesis sends what ``/openapi.json`` allows, and more, to a running server.

``banshui serve`` runs as its own process on 127.0.0.1 with the embedded
simulator, the demo cast, the chat robot configured and a customer of the
number side. Every operation of the OpenAPI document is called
with generated data, authenticated as its callers are (tenant key, the
provider's signature, the chat token): no answer is a 5xx, and every answer
fits the schema and content type the document gives it. A few examples per
operation in ``make test``, many more in ``make check``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks
from sqlalchemy import update

from banshui.app import create_app
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings
from banshui.demo.cast import S1, seed_banshui
from banshui.numbers.customers import add_customer
from banshui.numbers.models import Number
from banshui.runtime import build_runtime
from security.conftest import CHAT_TOKEN, full_check
from security.served import Served
from security.wire import banshui_signed

pytestmark = pytest.mark.slow

EXAMPLES = 80 if full_check() else 2
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.response_schema_conformance,
    openapi_checks.content_type_conformance,
]


@dataclass(frozen=True)
class Running:
    url: str
    api_key: str
    app_key: str
    app_secret: str


class Credentials(requests.auth.AuthBase):
    """Each caller's credentials: the provider signs, the others bear a token."""

    def __init__(self, running: Running) -> None:
        self.running = running

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        path = urlsplit(request.url or "").path
        if path.startswith("/api/v1/provider"):
            body = request.body or b""
            raw = body.encode() if isinstance(body, str) else body
            signed = banshui_signed(
                request.method or "GET",
                str(request.url),
                self.running.app_key,
                self.running.app_secret,
                raw,
            )
            request.headers.update(
                {k: v for k, v in signed.headers.items() if k != "content-type"}
            )
        elif path == "/hooks/chat":
            request.headers["Authorization"] = f"Bearer {CHAT_TOKEN}"
        else:
            request.headers["Authorization"] = f"Bearer {self.running.api_key}"
        return request


async def _prepare(served: Served) -> tuple[str, str, str]:
    """The demo cast, and a customer holding S1 so the provider API has one."""
    await asyncio.to_thread(upgrade, served.database_url)
    runtime = build_runtime(served.settings())
    try:
        seeded = await seed_banshui(runtime)
        made = await add_customer(
            runtime.db, runtime.vault, runtime.clock, "schemathesis"
        )
        async with runtime.db.transaction() as session:
            await session.execute(
                update(Number)
                .where(Number.msisdn == S1)
                .values(customer_id=made.customer.id)
            )
    finally:
        await runtime.close()
    assert seeded.api_key is not None
    return seeded.api_key, made.customer.app_key, made.app_secret


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("schemathesis")
    extra = {
        "BANSHUI_SIMULATOR": "on",
        "BANSHUI_SANDBOX": "off",
        "BANSHUI_CHAT_TOKEN": CHAT_TOKEN,
    }
    served = Served(folder, extra=extra)
    api_key, app_key, app_secret = asyncio.run(_prepare(served))
    served.start_blocking()
    try:
        yield Running(served.url, api_key, app_key, app_secret)
    finally:
        served.stop_blocking()


@pytest.fixture(scope="module")
def session(running: Running) -> Iterator[requests.Session]:
    with requests.Session() as made:
        made.auth = Credentials(running)
        yield made


def _document() -> dict[str, Any]:
    """The OpenAPI document of an app built as the served one is (nothing runs)."""
    folder = Path(tempfile.mkdtemp(prefix="banshui-openapi-"))
    configured = Settings(
        database_url=f"sqlite:///{folder / 'banshui.db'}",
        var_dir=folder,
        secret_key=base64.b64encode(os.urandom(32)).decode(),
        chat_token=CHAT_TOKEN,
    )
    document: dict[str, Any] = create_app(configured).openapi()
    return document


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
# The coverage phase's boundary cases are many per operation: for make check.
schema.config.phases.coverage.enabled = full_check()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_operation_answers_a_5xx_or_outside_its_schema(
    case: schemathesis.Case, running: Running, session: requests.Session
) -> None:
    case.call_and_validate(base_url=running.url, session=session, checks=CHECKS)


def test_the_served_document_is_the_one_the_cases_came_from(running: Running) -> None:
    served = requests.get(f"{running.url}/openapi.json", timeout=10).json()

    assert served["paths"] == DOCUMENT["paths"]
