"""A lone surrogate is refused where it comes in, never met later as a 500.

JSON may spell ``"\\ud800"``, which decodes to text no UTF-8 encoder takes:
PostgreSQL, a sealed secret, a log line or the answer itself would fail on
it. The API, the provider API and every JSON gateway answer it with a 422
naming the field and saying the text is not valid Unicode; nothing is written.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.rows import login_rows
from api.shape import assert_error
from banshui.demo.cast import S1
from banshui.sms.models import Source
from security.conftest import World
from security.wire import android, banshui_signed

pytestmark = pytest.mark.asyncio(loop_scope="module")

LONE = "\ud800"
# A valid 统一社会信用代码 in 深圳 that the demo cast does not use.
SPARE_TAX_ID = "91440300MA5FE0050Q"
SMS = "【中国税务】您的登录验证码：418207，请确认是本人操作。"


def auth(world: World) -> dict[str, str]:
    return {
        "authorization": f"Bearer {world.api_key}",
        "content-type": "application/json",
    }


def escaped(body: dict[str, Any]) -> bytes:
    """The body as a sender writes it: the surrogate as a JSON escape."""
    return json.dumps(body, ensure_ascii=True).encode()


async def written(world: World) -> list[Any]:
    """What a refused request must not change: logins, registry, sources."""
    found: list[Any] = [await login_rows(world.stack.runtime)]
    for path in ("/api/v1/enterprises", "/api/v1/persons"):
        answer = await world.http.get(path, headers=auth(world))
        assert answer.status_code == 200, answer.text
        found.append(answer.json())
    async with world.stack.runtime.db.session() as session:
        found.append(await session.scalar(select(func.count()).select_from(Source)))
    return found


def assert_not_unicode(answer: httpx.Response, field: str | None) -> None:
    error = assert_error(answer, 422, "invalid", field)
    assert "not valid Unicode" in error["message"], error


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/logins",
            {"tax_id": f"91440300MA5FA001{LONE}", "business": "receive"},
            "tax_id",
        ),
        (
            "/api/v1/enterprises",
            {"tax_id": SPARE_TAX_ID, "name": f"甲{LONE}乙"},
            "name",
        ),
        (
            "/api/v1/persons",
            {"name": "张九", "id_number": "44030519900101123X", "password": LONE},
            "password",
        ),
        (
            "/api/v1/logins",
            {"tax_id": SPARE_TAX_ID, "business": "receive", LONE: 1},
            None,
        ),
    ],
    ids=["login-tax-id", "enterprise-name", "person-password", "field-name"],
)
async def test_a_lone_surrogate_in_an_api_body_is_a_422_naming_its_field(
    world: World, path: str, body: dict[str, Any], field: str | None
) -> None:
    before = await written(world)

    answer = await world.http.post(path, content=escaped(body), headers=auth(world))

    assert_not_unicode(answer, field)
    assert await written(world) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/provider/sources",
            {"kind": "generic", "name": f"g{LONE}", "secret": "s" * 32, "number": S1},
            "name",
        ),
        (
            "/api/v1/provider/sources",
            {
                "kind": "generic",
                "name": "g",
                "secret": "s" * 32,
                "sim_slots": {LONE: S1},
            },
            "sim_slots",
        ),
        (
            f"/api/v1/provider/numbers/{S1}/claims",
            {"after": f"2026-03-14T10:00:00+08:00{LONE}"},
            "after",
        ),
    ],
    ids=["source-name", "source-slot-name", "claim-after"],
)
async def test_a_lone_surrogate_in_a_provider_body_is_a_422_naming_its_field(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    before = await written(world)
    content = escaped(body)
    signed = banshui_signed(
        "POST", world.stack.url + path, world.app_key, world.app_secret, content
    )

    answer = await world.http.post(path, content=content, headers=signed.headers)

    assert_not_unicode(answer, field)
    assert await written(world) == before


async def test_a_generic_sms_with_a_lone_surrogate_is_a_422_on_text_storing_nothing(
    world: World,
) -> None:
    door = world.doors["generic"]
    sms = {
        "id": "g-surrogate-1",
        "number": S1,
        "sender": "12366",
        "text": SMS + LONE,
        "sent_at": "2026-03-14T10:00:01+08:00",
    }
    signed = banshui_signed("POST", door.url, door.name, door.secret, escaped(sms))

    answer = await world.send(signed)

    # Signed rightly, so refused for its text, in the one shape, not as a 500.
    assert_not_unicode(answer, "text")
    assert await world.stored(door) == []


async def test_an_android_gateway_sms_with_a_lone_surrogate_is_a_422_on_its_message(
    world: World,
) -> None:
    door = world.doors["android-gateway"]
    signed = android(door.url, door.secret, SMS + LONE, message_id="m-surrogate-1")

    answer = await world.send(signed)

    # A dotted field: the one shape, without assert_error's test for a second
    # sentence, which takes the dot for a full stop.
    assert answer.status_code == 422, answer.text
    assert answer.json() == {
        "error": {
            "code": "invalid",
            "message": "payload.message: is not valid Unicode text (it holds a lone "
            "surrogate)",
            "field": "payload.message",
        }
    }
    assert await world.stored(door) == []
