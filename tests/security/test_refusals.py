"""Every way in refuses a wrong key, an altered request and a replay, and counts it.

For each gateway format and the provider API: a request signed with the wrong
secret, one altered after signing and one replayed or stale (where the scheme
can tell) is refused with 401, stores nothing, and adds one to
``banshui_refused_total{gateway, reason}`` in ``/metrics``. Where the scheme
cannot tell a replay from a retry (Twilio, and SMS Gateway for Android inside
its window), the replay is answered with success and changes nothing. The chat
robot refuses a wrong token and a sender not allowed, the API a wrong key.

The unit tests of each scheme (tests/sms/test_*.py, tests/provider/
test_signature.py) try the edge cases; here each refusal is seen end to end.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from sqlalchemy import func, select

from banshui.demo.cast import S1, A
from banshui.numbers.models import Number
from security.conftest import CHAT_TOKEN, Door, World
from security.wire import (
    Signed,
    android,
    banshui_signed,
    generic,
    now_ms,
    smsforwarder,
    twilio,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

SMS = "【中国税务】您的登录验证码：{code}，请确认是本人操作，5分钟内有效。"
WRONG = "not-the-gateway-secret-9b2e"


def genuine(door: Door, code: str, *, secret: str | None = None) -> Signed:
    """A request of the door's gateway carrying one SMS, named by its code."""
    text = SMS.format(code=code)
    key = secret or door.secret
    match door.kind:
        case "smsforwarder":
            return smsforwarder(door.url, door.secret, text, sign_secret=key)
        case "android-gateway":
            return android(door.url, key, text, message_id=f"m-{code}")
        case "twilio":
            return twilio(door.url, key, text, sid=f"SM{code}{'0' * 26}", to=S1)
        case _:
            return generic(door.url, door.name, key, text, f"g-{code}", S1)


def altered(request: Signed, code: str) -> Signed:
    """The same request with another code in its SMS, signature untouched."""
    if request.headers["content-type"].startswith("application/json"):
        document = json.loads(request.content)
        payload = document.get("payload", document)
        field = "message" if "message" in payload else "text"
        payload[field] = payload[field].replace(code, "000000")
        content = json.dumps(document, ensure_ascii=False).encode()
    else:
        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        field = "content" if "content" in form else "Body"
        form[field] = form[field].replace(code, "000000")
        content = urlencode(form).encode()
    assert content != request.content
    return Signed(request.method, request.url, request.headers, content)


def stale(door: Door, code: str) -> Signed | None:
    """A correctly signed request from outside the window, if the scheme has one."""
    text = SMS.format(code=code)
    match door.kind:
        case "smsforwarder":
            stamp = now_ms() - 601_000
            return smsforwarder(door.url, door.secret, text, stamp=stamp)
        case "android-gateway":
            return android(door.url, door.secret, text, f"m-{code}", age=301)
        case "generic":
            return generic(
                door.url, door.name, door.secret, text, f"g-{code}", S1, age=301
            )
    return None  # Twilio signs no time


def codes() -> str:
    return f"{secrets.randbelow(900_000) + 100_000}"


async def assert_refused(
    world: World, door_kind: str, reason: str, request: Signed
) -> httpx.Response:
    before = await world.refused(door_kind, reason)
    answer = await world.send(request)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "bad_signature"
    assert await world.refused(door_kind, reason) == before + 1
    return answer


@pytest.fixture(params=["smsforwarder", "android-gateway", "twilio", "generic"])
def door(world: World, request: pytest.FixtureRequest) -> Door:
    return world.doors[str(request.param)]


async def test_a_request_signed_with_another_secret_is_refused_and_counted(
    world: World, door: Door
) -> None:
    before = len(await world.stored(door))

    await assert_refused(
        world, door.kind, "bad_signature", genuine(door, codes(), secret=WRONG)
    )

    assert len(await world.stored(door)) == before


async def test_a_request_altered_after_signing_is_refused_and_counted(
    world: World, door: Door
) -> None:
    code = codes()
    original = genuine(door, code)
    # SmsForwarder signs only its timestamp: an altered copy is told apart
    # only once the original was seen, as a used sign with other content.
    reason = "bad_signature"
    if door.kind == "smsforwarder":
        assert (await world.send(original)).status_code == 200
        reason = "replay"
    before = [row.text for row in await world.stored(door)]

    await assert_refused(world, door.kind, reason, altered(original, code))

    assert [row.text for row in await world.stored(door)] == before
    assert all("000000" not in text for text in before)


async def test_a_stale_request_is_refused_where_the_scheme_signs_a_time(
    world: World, door: Door
) -> None:
    request = stale(door, codes())
    if request is None:
        pytest.skip(f"{door.kind} signs no time: a late request is a retry")
    before = len(await world.stored(door))

    await assert_refused(world, door.kind, "stale", request)

    assert len(await world.stored(door)) == before


async def test_a_replay_is_refused_or_changes_nothing(world: World, door: Door) -> None:
    request = genuine(door, codes())
    assert (await world.send(request)).status_code == 200
    before = len(await world.stored(door))

    if door.kind == "generic":
        # Its nonce is single use: the same request again is a replay.
        await assert_refused(world, door.kind, "replay", request)
    else:
        # Indistinguishable from the gateway's own retry: acknowledged, no change.
        assert (await world.send(request)).status_code == 200

    assert len(await world.stored(door)) == before


async def test_a_webhook_for_an_unknown_source_is_a_404_and_counted(
    world: World, door: Door
) -> None:
    request = genuine(door, codes())
    url = request.url.rsplit("/", 1)[0] + "/nobody-here"
    before = await world.refused(door.kind, "unknown_source")

    answer = await world.send(Signed(request.method, url, request.headers, b"x"))

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert await world.refused(door.kind, "unknown_source") == before + 1


def claim(world: World, *, secret: str | None = None, **options: object) -> Signed:
    after = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    body = json.dumps({"after": after, "wait_seconds": 0}).encode()
    url = f"{world.stack.url}/api/v1/provider/numbers/{S1}/claims"
    return banshui_signed(
        "POST", url, world.app_key, secret or world.app_secret, body,
        **options,  # type: ignore[arg-type]
    )  # fmt: skip


async def provider_refusal(world: World, reason: str, request: Signed) -> str:
    before = await world.refused("provider", reason)
    answer = await world.send(request)
    assert answer.status_code == 401, answer.text
    assert await world.refused("provider", reason) == before + 1
    code: str = answer.json()["error"]["code"]
    return code


async def test_the_provider_api_refuses_a_wrong_secret_and_an_unknown_key(
    world: World,
) -> None:
    wrong = claim(world, secret="another-app-secret-0000000000")
    unknown_key = dict(claim(world).headers, **{"x-banshui-key": "nobody-key"})
    original = claim(world)

    assert await provider_refusal(world, "bad_signature", wrong) == "bad_signature"
    assert (
        await provider_refusal(
            world,
            "bad_signature",
            Signed(original.method, original.url, unknown_key, original.content),
        )
        == "bad_signature"
    )


async def test_the_provider_api_refuses_an_altered_a_stale_and_a_replayed_claim(
    world: World,
) -> None:
    request = claim(world)
    tampered = Signed(
        request.method, request.url, request.headers, request.content + b" "
    )
    first = await world.send(request)
    assert first.status_code in (200, 404), first.text  # a code, or no code yet

    assert await provider_refusal(world, "bad_signature", tampered) == "bad_signature"
    assert await provider_refusal(world, "stale", claim(world, age=301)) == (
        "stale_timestamp"
    )
    assert await provider_refusal(world, "replay", request) == "replayed_nonce"


async def chat(world: World, token: str, sender: str, text: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"}
    body = {"sender": sender, "text": text}
    return await world.http.post("/hooks/chat", json=body, headers=headers)


async def bound_numbers(world: World) -> int:
    async with world.stack.runtime.db.session() as session:
        found = await session.scalar(
            select(func.count(Number.id)).where(Number.tax_id.is_not(None))
        )
    return int(found or 0)


async def test_the_chat_robot_refuses_a_wrong_token_and_a_sender_not_allowed(
    world: World,
) -> None:
    command = f"绑定小号#{A.tax_id}#{world.app_key}#{world.app_secret}#13800138000#{S1}"
    bound = await bound_numbers(world)
    tokens = await world.refused("chat", "bad_token")
    senders = await world.refused("chat", "sender_not_allowed")

    wrong_token = await chat(world, "not-the-chat-token-0000", "ops-1", command)
    stranger = await chat(world, CHAT_TOKEN, "stranger@example", command)

    assert wrong_token.status_code == 401
    assert stranger.status_code == 403
    assert stranger.json()["error"]["field"] == "sender"
    assert await world.refused("chat", "bad_token") == tokens + 1
    assert await world.refused("chat", "sender_not_allowed") == senders + 1
    assert await bound_numbers(world) == bound


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer bsk_not-a-key", "Basic dXNlcjpwYXNz", "bsk_no-scheme"],
)
async def test_the_api_refuses_a_missing_or_wrong_key_and_counts_it(
    world: World, authorization: str
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    before = await world.refused("api", "bad_key")

    answer = await world.http.get("/api/v1/enterprises", headers=headers)

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"
    assert await world.refused("api", "bad_key") == before + 1
