"""SmsForwarder's webhook through the real app over HTTP: store once, then acknowledge.

Requests are signed here, apart from banshui's own code, as docs/gateways.md says the
app signs them: ``urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from banshui.core.db import Database
from banshui.demo.cast import S1
from banshui.sms.models import InboundSms, Source
from banshui.sms.sources import add_source
from conftest import Stack, stack_on_a_fresh_database
from databases import Databases

# One server for the module, a fresh source (张三's phone) for each test.
pytestmark = pytest.mark.asyncio(loop_scope="module")
_PHONES = itertools.count(1)

SECRET = "zhangsan-redmi-7f3a9c1e"
SENDER = "12366"
SMS = "【中国税务】您的登录验证码：418207，请确认是本人操作。"
OTHER_SMS = "【中国税务】您的登录验证码：906113，请确认是本人操作。"
RECEIVED = "2026-03-14 10:00:01"


def now_ms() -> int:
    return int(time.time() * 1000)


def sign(timestamp: int, secret: str = SECRET) -> str:
    message = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return quote(base64.b64encode(digest).decode(), safe="")


def templated(text: str, received: str) -> str:
    """The app's default ``content``: sender, SMS, SIM slot, receive time, device."""
    return "\n".join([SENDER, text, f"SIM1_中国电信_{S1}", received, "张三的红米"])


def form(
    timestamp: int | None = None, text: str = SMS, received: str = RECEIVED
) -> dict[str, str]:
    sent = now_ms() if timestamp is None else timestamp
    return {
        "from": SENDER,
        "content": templated(text, received),
        "timestamp": str(sent),
        "sign": sign(sent),
    }


@dataclass(frozen=True)
class Phone:
    """张三's phone running SmsForwarder, registered as a source tied to S1."""

    source: Source
    hook: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> AsyncIterator[Stack]:
    folder = tmp_path_factory.mktemp("hooks")
    async with stack_on_a_fresh_database(databases, folder) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def phone(stack: Stack) -> Phone:
    runtime = stack.runtime
    name = f"zhangsan-redmi-{next(_PHONES)}"
    source = await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="smsforwarder",
        name=name,
        secret=SECRET,
        number=S1,
        actor="test",
    )
    return Phone(source, f"/hooks/sms/smsforwarder/{name}")


async def stored(stack: Stack, phone: Phone) -> list[InboundSms]:
    async with stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(InboundSms)
            .where(InboundSms.source_id == phone.source.id)
            .order_by(InboundSms.id)
        )
        return list(rows)


async def signature_failures(stack: Stack, phone: Phone) -> float:
    text = (await stack.http.get("/metrics")).text
    name = re.escape(phone.source.name)
    pattern = rf'^banshui_signature_failures_total\{{source="{name}"\}} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def assert_refused(response: httpx.Response, status: int) -> dict[str, Any]:
    """Refused in the one error shape, with a one-line message."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) <= {"code", "message", "field"}
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", error["code"])
    assert error["message"] and "\n" not in error["message"]
    return error


async def test_a_signed_sms_is_stored_once_with_its_code_and_kind(
    stack: Stack, phone: Phone
) -> None:
    answer = await stack.http.post(phone.hook, data=form())

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "stored": 1}
    [sms] = await stored(stack, phone)
    assert (sms.code, sms.kind) == ("418207", "bureau_login")
    assert (sms.number, sms.sender, sms.gateway_time) == (S1, SENDER, RECEIVED)


async def test_the_raw_sms_is_stored_without_the_template_lines(
    stack: Stack, phone: Phone
) -> None:
    await stack.http.post(phone.hook, data=form())

    [sms] = await stored(stack, phone)
    assert sms.text == SMS


async def test_a_json_body_with_the_raw_sms_is_stored_as_well(
    stack: Stack, phone: Phone
) -> None:
    sent = now_ms()
    body = {"from": SENDER, "org_content": SMS, "timestamp": sent, "sign": sign(sent)}

    answer = await stack.http.post(phone.hook, json=body)

    assert answer.status_code == 200, answer.text
    [sms] = await stored(stack, phone)
    assert (sms.text, sms.code) == (SMS, "418207")


async def test_an_acknowledged_sms_is_readable_from_a_new_database_session(
    stack: Stack, phone: Phone
) -> None:
    answer = await stack.http.post(phone.hook, data=form())
    assert answer.status_code == 200

    fresh = Database(stack.settings.database_url)
    try:
        async with fresh.session() as session:
            codes = list(
                await session.scalars(
                    select(InboundSms.code).where(
                        InboundSms.source_id == phone.source.id
                    )
                )
            )
    finally:
        await fresh.close()
    assert codes == ["418207"]


def _flip_one_character(value: str) -> str:
    first = "B" if value[0] != "B" else "C"
    return first + value[1:]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda fields: fields | {"sign": _flip_one_character(fields["sign"])},
        lambda fields: fields | {"sign": sign(int(fields["timestamp"]), "guessed")},
        lambda fields: fields | {"timestamp": str(int(fields["timestamp"]) + 1)},
        lambda fields: {k: v for k, v in fields.items() if k != "sign"},
    ],
    ids=["flipped", "other-secret", "other-timestamp", "no-sign"],
)
async def test_a_tampered_sign_is_a_401_that_stores_nothing_and_is_counted(
    stack: Stack, phone: Phone, tamper: Any
) -> None:
    before = await signature_failures(stack, phone)

    answer = await stack.http.post(phone.hook, data=tamper(form()))

    error = assert_refused(answer, 401)
    assert SECRET not in error["message"]
    assert await stored(stack, phone) == []
    assert await signature_failures(stack, phone) == before + 1


@pytest.mark.parametrize("offset_s", [-601, 601], ids=["stale", "from-the-future"])
async def test_a_timestamp_outside_the_600_s_window_is_a_401(
    stack: Stack, phone: Phone, offset_s: int
) -> None:
    answer = await stack.http.post(phone.hook, data=form(now_ms() + offset_s * 1000))

    assert_refused(answer, 401)
    assert await stored(stack, phone) == []


async def test_a_timestamp_nine_minutes_old_is_still_inside_the_window(
    stack: Stack, phone: Phone
) -> None:
    answer = await stack.http.post(phone.hook, data=form(now_ms() - 540_000))

    assert answer.status_code == 200, answer.text
    assert len(await stored(stack, phone)) == 1


async def test_the_apps_retry_of_the_same_request_is_acknowledged_and_stored_once(
    stack: Stack, phone: Phone
) -> None:
    fields = form()

    first = await stack.http.post(phone.hook, data=fields)
    again = await stack.http.post(phone.hook, data=fields)

    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["stored"], again.json()["stored"]) == (1, 0)
    assert len(await stored(stack, phone)) == 1


async def test_a_used_sign_with_other_content_is_a_replay_and_refused(
    stack: Stack, phone: Phone
) -> None:
    captured = form()
    await stack.http.post(phone.hook, data=captured)
    before = await signature_failures(stack, phone)

    replay = captured | {"content": templated(OTHER_SMS, RECEIVED)}
    answer = await stack.http.post(phone.hook, data=replay)

    assert_refused(answer, 401)
    assert [sms.code for sms in await stored(stack, phone)] == ["418207"]
    assert await signature_failures(stack, phone) == before + 1


async def test_two_identical_texts_received_at_different_times_are_both_kept(
    stack: Stack, phone: Phone
) -> None:
    sent = now_ms()

    first = await stack.http.post(phone.hook, data=form(sent, received=RECEIVED))
    twin = await stack.http.post(
        phone.hook, data=form(sent + 1500, received="2026-03-14 10:00:03")
    )

    assert (first.status_code, twin.status_code) == (200, 200)
    kept = await stored(stack, phone)
    assert [sms.text for sms in kept] == [SMS, SMS]
    assert [sms.gateway_time for sms in kept] == [RECEIVED, "2026-03-14 10:00:03"]


async def test_sms_told_apart_only_by_where_a_line_break_falls_are_both_kept(
    stack: Stack, phone: Phone
) -> None:
    def raw(sender: str, text: str, sent: int) -> dict[str, str]:
        return {
            "from": sender,
            "org_content": text,
            "receive_time": RECEIVED,
            "timestamp": str(sent),
            "sign": sign(sent),
        }

    sent = now_ms()
    first = raw(f"{SENDER}\nA", "B", sent)
    second = raw(SENDER, "A\nB", sent + 1)

    answers = [await stack.http.post(phone.hook, data=f) for f in (first, second)]
    retry = await stack.http.post(phone.hook, data=second)

    assert [answer.json() for answer in answers] == [{"ok": True, "stored": 1}] * 2
    assert retry.json() == {"ok": True, "stored": 0}
    kept = await stored(stack, phone)
    assert [(sms.sender, sms.text) for sms in kept] == [
        (f"{SENDER}\nA", "B"),
        (SENDER, "A\nB"),
    ]


async def test_a_multipart_form_is_read_by_its_text_fields_alone(
    stack: Stack, phone: Phone
) -> None:
    attached = {"attachment": ("screenshot.png", b"\x89PNG\r\n", "image/png")}

    answer = await stack.http.post(phone.hook, data=form(), files=attached)

    assert answer.json() == {"ok": True, "stored": 1}
    [sms] = await stored(stack, phone)
    assert (sms.sender, sms.text) == (SENDER, SMS)


async def test_an_sms_text_sent_as_a_file_is_no_text_and_stores_nothing(
    stack: Stack, phone: Phone
) -> None:
    fields = form()
    text = fields.pop("content").encode()

    answer = await stack.http.post(
        phone.hook, data=fields, files={"content": ("sms.txt", text, "text/plain")}
    )

    assert assert_refused(answer, 422)["field"] == "content"
    assert await stored(stack, phone) == []


@pytest.mark.parametrize(
    "path",
    ["/hooks/sms/smsforwarder/nobody-phone", "/hooks/sms/pigeon/zhangsan-redmi-1"],
    ids=["unknown-source", "unknown-kind"],
)
async def test_an_unknown_source_is_a_404(
    stack: Stack, phone: Phone, path: str
) -> None:
    answer = await stack.http.post(path, data=form())

    assert assert_refused(answer, 404)["code"] == "not_found"
    assert await stored(stack, phone) == []


async def test_a_body_over_64_kib_is_a_413_that_stores_nothing(
    stack: Stack, phone: Phone
) -> None:
    fields = form(text=SMS + "x" * 64 * 1024)

    answer = await stack.http.post(phone.hook, data=fields)

    assert_refused(answer, 413)
    assert await stored(stack, phone) == []


async def metric(stack: Stack, pattern: str) -> float:
    found = re.search(pattern, (await stack.http.get("/metrics")).text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_metrics_count_sms_received_per_source_and_codes_extracted(
    stack: Stack, phone: Phone
) -> None:
    name = re.escape(phone.source.name)
    received = rf'^banshui_sms_received_total\{{source="{name}"\}} (\S+)$'
    codes = r'^banshui_codes_extracted_total\{kind="bureau_login"\} (\S+)$'
    codes_before = await metric(stack, codes)

    await stack.http.post(phone.hook, data=form())
    await stack.http.post(phone.hook, data=form())  # the app's retry: not counted

    assert await metric(stack, received) == 1.0
    assert await metric(stack, codes) == codes_before + 1


async def test_the_webhook_is_matched_before_any_other_route(stack: Stack) -> None:
    # Every SMS comes in here: no walk through the API's routes before it.
    first = stack.app.router.routes[0]

    assert getattr(first, "path", None) == "/hooks/sms/{kind}/{name}"


async def test_methods_the_webhook_does_not_take_are_a_405(
    stack: Stack, phone: Phone
) -> None:
    deleted = await stack.http.delete(phone.hook)
    head = await stack.http.head(phone.hook)

    assert assert_refused(deleted, 405)["code"] == "method_not_allowed"
    assert head.status_code == 405
    assert await stored(stack, phone) == []


async def test_the_webhook_is_not_in_the_openapi_schema(stack: Stack) -> None:
    paths = (await stack.http.get("/openapi.json")).json()["paths"]

    assert [path for path in paths if path.startswith("/hooks/sms")] == []
