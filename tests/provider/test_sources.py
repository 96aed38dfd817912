"""A customer registers gateways for its own numbers through the provider API."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from banshui.demo.cast import S1, S2
from banshui.sms.models import Source
from banshui.sms.sources import remove_source

from .conftest import Provider

PATH = "/api/v1/provider/sources"


def _body(number: str, name: str = "fapiaoyun-phone") -> bytes:
    return json.dumps(
        {
            "kind": "smsforwarder",
            "name": name,
            "secret": "a long enough gateway secret",
            "number": number,
        }
    ).encode()


async def _sources(provider: Provider) -> int:
    async with provider.stack.runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Source)) or 0)


async def test_a_customer_registers_a_gateway_for_its_number_and_gets_its_url(
    provider: Provider,
) -> None:
    request = provider.signed(provider.fapiaoyun, "POST", PATH, _body(S1))

    answer = await provider.stack.http.send(request)

    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["webhook_url"].endswith("/hooks/sms/smsforwarder/fapiaoyun-phone")
    assert "secret" not in created
    listing = await provider.stack.http.send(
        provider.signed(provider.fapiaoyun, "GET", PATH)
    )
    assert [source["name"] for source in listing.json()] == ["fapiaoyun-phone"]


async def test_a_customer_cannot_register_a_gateway_for_another_customers_number(
    provider: Provider,
) -> None:
    before = await _sources(provider)

    answer = await provider.stack.http.send(
        provider.signed(provider.fapiaoyun, "POST", PATH, _body(S2))
    )

    assert answer.status_code == 404
    assert answer.json()["error"]["field"] == "number"
    assert await _sources(provider) == before


async def test_a_removed_gateway_is_no_longer_listed(provider: Provider) -> None:
    runtime = provider.stack.runtime
    for name in ("kept-phone", "gone-phone"):
        request = provider.signed(provider.fapiaoyun, "POST", PATH, _body(S1, name))
        assert (await provider.stack.http.send(request)).status_code == 201
    await remove_source(runtime.db, runtime.clock, "gone-phone")

    listing = await provider.stack.http.send(
        provider.signed(provider.fapiaoyun, "GET", PATH)
    )

    assert [source["name"] for source in listing.json()] == ["kept-phone"]


async def test_a_customer_sees_only_its_own_gateways(provider: Provider) -> None:
    await provider.stack.http.send(
        provider.signed(provider.other, "POST", PATH, _body(S2, "other-phone"))
    )

    listing = await provider.stack.http.send(
        provider.signed(provider.fapiaoyun, "GET", PATH)
    )

    assert listing.status_code == 200
    assert listing.json() == []


async def test_a_bad_field_is_named_and_nothing_is_written(provider: Provider) -> None:
    body = json.dumps({"kind": "smsforwarder", "name": "x", "secret": "short"}).encode()
    before = await _sources(provider)

    answer = await provider.stack.http.send(
        provider.signed(provider.fapiaoyun, "POST", PATH, body)
    )

    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "secret"
    assert await _sources(provider) == before
