"""Each gateway's webhook through the real app over HTTP, as docs/gateways.md says.

SMS Gateway for Android, Twilio and the generic format: a valid request is stored
once, a tampered one is refused and counted, a replay is refused where the scheme
can tell, a retry is answered with success and stored once, and two identical
texts with different ids are both kept. Requests are signed here, apart from
banshui's code: Twilio's with Twilio's own ``RequestValidator``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from banshui.core.clock import ManualClock
from banshui.demo.cast import S1
from banshui.sms.extraction import extract
from banshui.sms.models import InboundSms, Source
from banshui.sms.sources import add_source
from conftest import Stack, running_stack, stack_on_a_fresh_database
from databases import Databases

# One server for the module, a fresh source for each test.
pytestmark = pytest.mark.asyncio(loop_scope="module")
_SOURCES = itertools.count(1)

SECRET = "zhangsan-gateway-secret-5e2b"
SENDER = "12366"
SMS = "【中国税务】您的登录验证码：418207，请确认是本人操作，5分钟内有效。"
CODE = "418207"


@dataclass(frozen=True)
class Post:
    """One signed webhook request, as the gateway sends it."""

    headers: dict[str, str]
    content: bytes


class Wire(Protocol):
    """How one gateway puts an SMS on the wire."""

    kind: str

    def post(self, url: str, sms_id: str, attempt: int = 1, text: str = SMS) -> Post:
        """The SMS named ``sms_id``; a later ``attempt`` is the gateway's retry."""
        ...

    def replay(self, url: str, sms_id: str, sent: Post) -> Post | None:
        """A replay of ``sent`` that the scheme can tell, or None if it cannot."""
        ...


def _android_signature(body: bytes, timestamp: str) -> str:
    return hmac.new(SECRET.encode(), body + timestamp.encode(), "sha256").hexdigest()


class AndroidWire:
    kind = "android-gateway"

    def __init__(self, now: float | None = None) -> None:
        self.now = now

    def post(self, url: str, sms_id: str, attempt: int = 1, text: str = SMS) -> Post:
        envelope = {
            "deviceId": "zhangsan-pixel-0001",
            "event": "sms:received",
            # A retry gets a new delivery id and a fresh timestamp, same payload.
            "id": f"delivery-{sms_id}-{attempt}",
            "webhookId": "hook-1",
            "payload": {
                "messageId": sms_id,
                "message": text,
                "sender": SENDER,
                "recipient": None,
                "simNumber": 1,
                "receivedAt": "2026-03-14T10:00:01.000+08:00",
            },
        }
        return self.signed(json.dumps(envelope).encode())

    def signed(self, body: bytes, age: int = 0) -> Post:
        stamp = str(int(self.now or time.time()) - age)
        headers = {
            "content-type": "application/json",
            "x-timestamp": stamp,
            "x-signature": _android_signature(body, stamp),
        }
        return Post(headers, body)

    def replay(self, url: str, sms_id: str, sent: Post) -> Post | None:
        # Captured and sent again once its timestamp has left the window.
        return self.signed(sent.content, age=301)


class TwilioWire:
    kind = "twilio"

    def post(self, url: str, sms_id: str, attempt: int = 1, text: str = SMS) -> Post:
        sid = "SM" + hashlib.md5(sms_id.encode()).hexdigest()  # noqa: S324
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": "AC0123456789abcdef0123456789abcdef",
            "From": SENDER,
            "To": f"+86{S1}",
            "Body": text,
            "NumSegments": "1",
            "NumMedia": "0",
            "FromCity": "",
            "ApiVersion": "2010-04-01",
        }
        signature = RequestValidator(SECRET).compute_signature(url, params)
        headers = {
            "content-type": "application/x-www-form-urlencoded; charset=UTF-8",
            "x-twilio-signature": signature,
        }
        return Post(headers, urlencode(params).encode())

    def replay(self, url: str, sms_id: str, sent: Post) -> Post | None:
        return None  # no timestamp, no nonce: a replay is a retry


class GenericWire:
    kind = "generic"

    def __init__(self, name: str) -> None:
        self.name = name

    def post(self, url: str, sms_id: str, attempt: int = 1, text: str = SMS) -> Post:
        body = {
            "id": sms_id,
            "number": S1,
            "sender": SENDER,
            "text": text,
            "sent_at": "2026-03-14T10:00:01+08:00",
        }
        return generic_post(self.name, url, json.dumps(body).encode())

    def replay(self, url: str, sms_id: str, sent: Post) -> Post | None:
        return sent  # the very same request, nonce and all


def generic_post(name: str, url: str, body: bytes, nonce: str | None = None) -> Post:
    """Signed as docs/gateways.md says, apart from ``banshui.signing``."""
    stamp = str(int(time.time()))
    nonce = nonce or secrets.token_urlsafe(18)
    path = "/" + url.split("/", 3)[3]
    digest = hashlib.sha256(body).hexdigest()
    canonical = f"POST\n{path}\n{stamp}\n{nonce}\n{digest}".encode()
    headers = {
        "content-type": "application/json",
        "x-banshui-key": name,
        "x-banshui-timestamp": stamp,
        "x-banshui-nonce": nonce,
        "x-banshui-signature": hmac.new(
            SECRET.encode(), canonical, "sha256"
        ).hexdigest(),
    }
    return Post(headers, body)


@dataclass(frozen=True)
class Gateway:
    """A source of one kind, tied to S1, and how its gateway signs."""

    source: Source
    url: str
    wire: Wire

    async def send(self, stack: Stack, post: Post) -> httpx.Response:
        return await stack.http.post(
            self.url, content=post.content, headers=post.headers
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> AsyncIterator[Stack]:
    folder = tmp_path_factory.mktemp("hooks")
    async with stack_on_a_fresh_database(databases, folder) as running:
        yield running


async def register(
    stack: Stack, kind: str, public_url: str | None = None
) -> tuple[Source, str]:
    runtime = stack.runtime
    name = f"zhangsan-{next(_SOURCES)}"
    source = await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind=kind,
        name=name,
        secret=SECRET,
        number=S1,
        public_url=public_url,
        actor="test",
    )
    return source, f"{stack.url}/hooks/sms/{kind}/{name}"


@pytest_asyncio.fixture(
    loop_scope="module", params=["android-gateway", "twilio", "generic"]
)
async def gateway(stack: Stack, request: pytest.FixtureRequest) -> Gateway:
    kind: str = request.param
    source, url = await register(stack, kind)
    wires: dict[str, Wire] = {
        "android-gateway": AndroidWire(),
        "twilio": TwilioWire(),
        "generic": GenericWire(source.name),
    }
    return Gateway(source, url, wires[kind])


async def stored(stack: Stack, source: Source) -> list[InboundSms]:
    async with stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(InboundSms)
            .where(InboundSms.source_id == source.id)
            .order_by(InboundSms.id)
        )
        return list(rows)


async def signature_failures(stack: Stack, source: Source) -> float:
    text = (await stack.http.get("/metrics")).text
    name = re.escape(source.name)
    pattern = rf'^banshui_signature_failures_total\{{source="{name}"\}} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def assert_acknowledged(response: httpx.Response, kind: str) -> None:
    assert response.status_code == 200, response.text
    if kind == "twilio":
        assert response.headers["content-type"].startswith("text/xml")
        assert response.text == "<Response/>"
    else:
        assert response.json()["ok"] is True


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_a_signed_sms_is_stored_once_with_its_code(
    stack: Stack, gateway: Gateway
) -> None:
    answer = await gateway.send(stack, gateway.wire.post(gateway.url, "sms-1"))

    assert_acknowledged(answer, gateway.wire.kind)
    [row] = await stored(stack, gateway.source)
    extraction = extract(SMS)
    assert (row.number, row.sender, row.text) == (S1, SENDER, SMS)
    assert (row.code, row.kind) == (CODE, extraction.kind.value)
    assert row.code == extraction.code


async def test_a_tampered_request_is_refused_counted_and_stores_nothing(
    stack: Stack, gateway: Gateway
) -> None:
    genuine = gateway.wire.post(gateway.url, "sms-1")
    tampered = Post(genuine.headers, genuine.content.replace(CODE.encode(), b"000000"))
    failures = await signature_failures(stack, gateway.source)

    answer = await gateway.send(stack, tampered)

    assert_refused(answer, 401, "bad_signature")
    assert await stored(stack, gateway.source) == []
    assert await signature_failures(stack, gateway.source) == failures + 1


async def test_a_replay_is_refused_where_the_scheme_can_tell(
    stack: Stack, gateway: Gateway
) -> None:
    first = gateway.wire.post(gateway.url, "sms-1")
    await gateway.send(stack, first)
    replay = gateway.wire.replay(gateway.url, "sms-1", first)
    if replay is None:
        pytest.skip(f"{gateway.wire.kind} cannot tell a replay from a retry")

    answer = await gateway.send(stack, replay)

    assert_refused(answer, 401, "bad_signature")
    assert len(await stored(stack, gateway.source)) == 1


async def test_a_retry_is_answered_with_success_and_stored_once(
    stack: Stack, gateway: Gateway
) -> None:
    first = await gateway.send(stack, gateway.wire.post(gateway.url, "sms-1"))
    retry = await gateway.send(stack, gateway.wire.post(gateway.url, "sms-1", 2))

    assert_acknowledged(first, gateway.wire.kind)
    assert_acknowledged(retry, gateway.wire.kind)
    assert len(await stored(stack, gateway.source)) == 1


async def test_identical_texts_with_different_ids_are_both_kept(
    stack: Stack, gateway: Gateway
) -> None:
    await gateway.send(stack, gateway.wire.post(gateway.url, "sms-1"))
    await gateway.send(stack, gateway.wire.post(gateway.url, "sms-2"))

    rows = await stored(stack, gateway.source)
    assert [row.text for row in rows] == [SMS, SMS]


async def test_a_signed_but_malformed_sms_is_a_422_naming_the_field(
    stack: Stack, gateway: Gateway
) -> None:
    post = gateway.wire.post(gateway.url, "sms-1", text="")
    if gateway.wire.kind == "twilio":
        pytest.skip("a Twilio message may have no text (a picture message)")

    answer = await gateway.send(stack, post)

    assert_refused(answer, 422, "invalid")
    assert answer.json()["error"]["field"] in ("payload.message", "text")
    assert await stored(stack, gateway.source) == []


async def test_android_events_other_than_a_received_sms_are_acknowledged(
    stack: Stack,
) -> None:
    source, url = await register(stack, "android-gateway")
    body = {"deviceId": "zhangsan-pixel-0001", "event": "system:ping", "id": "p1"}
    post = AndroidWire().signed(json.dumps(body).encode())

    answer = await stack.http.post(url, content=post.content, headers=post.headers)

    assert_acknowledged(answer, "android-gateway")
    assert answer.json()["stored"] == 0
    assert await stored(stack, source) == []


async def test_an_android_retry_two_days_later_is_stored_once(
    tmp_path: Path, database_url: str
) -> None:
    clock = ManualClock(datetime(2026, 3, 14, 2, 0, 1, tzinfo=UTC))
    wire = AndroidWire(now=clock.now().timestamp())
    async with running_stack(tmp_path, clock=clock, database_url=database_url) as later:
        source, url = await register(later, "android-gateway")
        first = wire.post(url, "sms-1")
        await later.http.post(url, content=first.content, headers=first.headers)

        clock.advance(2 * 86_400)
        wire.now = clock.now().timestamp()
        retry = wire.post(url, "sms-1", attempt=9)
        answer = await later.http.post(
            url, content=retry.content, headers=retry.headers
        )

        assert_acknowledged(answer, "android-gateway")
        assert len(await stored(later, source)) == 1


async def test_twilio_is_checked_against_the_configured_public_url(
    stack: Stack,
) -> None:
    public = "https://banshui.example/hooks/sms/twilio/behind-proxy"
    source, url = await register(stack, "twilio", public_url=public)
    wire = TwilioWire()

    as_proxied = wire.post(url, "SM-internal")
    as_twilio_signed = wire.post(public, "SM-public")
    refused = await stack.http.post(
        url, content=as_proxied.content, headers=as_proxied.headers
    )
    accepted = await stack.http.post(
        url, content=as_twilio_signed.content, headers=as_twilio_signed.headers
    )

    assert_refused(refused, 401, "bad_signature")
    assert_acknowledged(accepted, "twilio")
    assert [row.text for row in await stored(stack, source)] == [SMS]


async def test_a_generic_request_with_another_source_name_as_key_is_refused(
    stack: Stack,
) -> None:
    source, url = await register(stack, "generic")
    body = GenericWire(source.name).post(url, "sms-1").content

    answer = await stack.http.post(
        url, content=body, headers=generic_post("lisi", url, body).headers
    )

    assert_refused(answer, 401, "bad_signature")
    assert await stored(stack, source) == []
