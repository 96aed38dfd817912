"""The provider API's bodies are as strict as the rest of the API's: no NUL, no
coercion ("3" is not a number), no unknown field; each a 422 naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from api.shape import assert_error
from banshui.demo.cast import S1
from banshui.sms.models import Source
from provider.conftest import Provider, claims_path

SOURCES = "/api/v1/provider/sources"
SOURCE = {
    "kind": "smsforwarder",
    "name": "fapiaoyun-phone",
    "secret": "a long enough gateway secret",
    "number": S1,
}


async def _sources(provider: Provider) -> int:
    async with provider.stack.runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Source)) or 0)


async def _post(provider: Provider, path: str, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    request = provider.signed(provider.fapiaoyun, "POST", path, raw)
    return await provider.stack.http.send(request)


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        ({"name": "fapiaoyun\x00phone"}, "name"),
        ({"sim_slots": {"1": f"{S1}\x00"}}, "sim_slots"),
        ({"name": 3}, "name"),
        ({"number": 19912340001}, "number"),
        ({"numbers": [S1]}, "numbers"),
    ],
    ids=["nul-in-name", "nul-in-slot", "number-for-name", "int-for-number", "unknown"],
)
async def test_a_bad_source_body_is_a_422_naming_the_field_and_writes_nothing(
    provider: Provider, changed: dict[str, Any], field: str
) -> None:
    before = await _sources(provider)

    answer = await _post(provider, SOURCES, {**SOURCE, **changed})

    error = assert_error(answer, 422, "invalid", field)
    if "\x00" in json.dumps(changed, ensure_ascii=False):
        assert "NUL" in error["message"]
    assert await _sources(provider) == before


@pytest.mark.parametrize(
    ("changed", "field", "said"),
    [
        ({"wait_seconds": "3"}, "wait_seconds", "valid number"),
        ({"wait_seconds": True}, "wait_seconds", "valid number"),
        ({"after": 1767225600}, "after", "datetime"),
        ({"wait": 3}, "wait", "not permitted"),
    ],
    ids=["string-for-wait", "bool-for-wait", "number-for-after", "unknown"],
)
async def test_a_bad_claim_body_is_a_422_naming_the_field_and_claims_nothing(
    provider: Provider, changed: dict[str, Any], field: str, said: str
) -> None:
    await provider.receive("418207")
    after = provider.clock.now().isoformat()

    answer = await _post(provider, claims_path(S1), {"after": after, **changed})

    error = assert_error(answer, 422, "invalid", field)
    assert said in error["message"]
    # The code is still there for a claim that asks properly.
    claimed = await provider.claim(provider.fapiaoyun)
    assert claimed.json()["code"] == "418207"
