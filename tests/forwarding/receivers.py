"""Stand-ins for the services banshui forwards to, on real sockets at 127.0.0.1.

Each kit checks what the real service checks — basic auth, the DingTalk and
Feishu signatures (recomputed here, apart from banshui's code), banshui's own
webhook signature — and answers the way that service answers. A receiver can be
told to fail first, or to hang on a request, and counts what it accepted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from banshui.serving import bound_socket
from banshui.signing import SignatureInvalid, read_signed, verify

BOUND_PHONE = "13800138000"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-auth-token-zhangsan-7c1d"
TWILIO_FROM = "+15005550006"
ANDROID_USER = "zhangsan-phone"
ANDROID_PASSWORD = "android-gateway-pass-93kq"
WEBHOOK_SECRET = "generic-webhook-secret-5f0e2b"
WECOM_KEY = "wecom-robot-key-0b7e4a91"
DINGTALK_TOKEN = "dingtalk-access-token-4e8c"
DINGTALK_SECRET = "SECdingtalk-robot-secret-a1b2c3"
FEISHU_HOOK = "feishu-hook-id-77e2d0c5"
FEISHU_SECRET = "feishu-robot-secret-d4e5f6"

SECRETS = (
    TWILIO_TOKEN,
    ANDROID_PASSWORD,
    WEBHOOK_SECRET,
    WECOM_KEY,
    DINGTALK_TOKEN,
    DINGTALK_SECRET,
    FEISHU_HOOK,
    FEISHU_SECRET,
)


class Refused(Exception):
    """What the service answers to a request it does not accept."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass(frozen=True)
class Delivery:
    """An accepted request: the text as it arrived, and its whole body."""

    text: str
    body: dict[str, Any]
    to: str | None = None


@dataclass
class Receiver:
    """One service: answers planned failures first, then accepts."""

    kit: Kit
    now: Callable[[], datetime]
    url: str = ""
    planned: list[Response] = field(default_factory=list)
    # Hold the next request unanswered until ``released`` (a send cut short).
    hold_next: bool = False
    held: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    requests: int = 0
    accepted: list[Delivery] = field(default_factory=list)

    def fail_next(self, *answers: Response) -> None:
        self.planned.extend(answers)

    async def handle(self, request: Request) -> Response:
        self.requests += 1
        body = await request.body()
        if self.hold_next:
            self.hold_next = False
            self.held.set()
            await self.released.wait()
            # The sender gave up on this request long ago: it counts for nothing.
            return Response("gone", status_code=503)
        if self.planned:
            return self.planned.pop(0)
        try:
            delivery = self.kit.check(request, body, self.now())
        except Refused as refused:
            return refused.response
        self.accepted.append(delivery)
        return self.kit.ok()


@dataclass(frozen=True)
class Kit:
    """What one kind of service checks and answers; ``config`` points at it."""

    kind: str
    secret: str | None
    config: Callable[[str], dict[str, str]]
    check: Callable[[Request, bytes, datetime], Delivery]
    ok: Callable[[], Response]
    # The service's answer to a request it refuses for good (HTTP 4xx).
    refusal: Callable[[], Response]


def _basic(request: Request) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise Refused(Response("no basic auth", status_code=401))
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return user, password


def _json(body: bytes) -> dict[str, Any]:
    value = json.loads(body)
    assert isinstance(value, dict)
    return value


# SMS Gateway for Android: POST {base}/message, basic auth, textMessage JSON.
def _android_check(request: Request, body: bytes, now: datetime) -> Delivery:
    if _basic(request) != (ANDROID_USER, ANDROID_PASSWORD):
        raise Refused(JSONResponse({"message": "Unauthorized"}, status_code=401))
    assert request.url.path == "/android/message"
    payload = _json(body)
    return Delivery(
        payload["textMessage"]["text"], payload, to=payload["phoneNumbers"][0]
    )


ANDROID = Kit(
    kind="android-gateway",
    secret=ANDROID_PASSWORD,
    config=lambda base: {"base_url": f"{base}/android", "user": ANDROID_USER},
    check=_android_check,
    ok=lambda: JSONResponse({"id": "m1", "state": "Pending"}, status_code=202),
    refusal=lambda: JSONResponse({"message": "invalid phone"}, status_code=400),
)


# Twilio: POST /2010-04-01/Accounts/{sid}/Messages.json, basic auth, form.
def _twilio_check(request: Request, body: bytes, now: datetime) -> Delivery:
    if _basic(request) != (TWILIO_SID, TWILIO_TOKEN):
        raise Refused(
            JSONResponse({"code": 20003, "message": "Authenticate"}, status_code=401)
        )
    assert request.url.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
    assert form["From"] == TWILIO_FROM
    return Delivery(form["Body"], form, to=form["To"])


TWILIO = Kit(
    kind="twilio",
    secret=TWILIO_TOKEN,
    config=lambda base: {
        "account_sid": TWILIO_SID,
        "from": TWILIO_FROM,
        "base_url": base,
    },
    check=_twilio_check,
    ok=lambda: JSONResponse({"sid": "SM" + "0" * 32, "status": "queued"}, 201),
    refusal=lambda: JSONResponse(
        {"code": 21211, "message": "The 'To' number is not a valid phone number."},
        status_code=400,
    ),
)


# banshui's generic webhook: verified with banshui.signing, as a receiver would.
def _webhook_check(request: Request, body: bytes, now: datetime) -> Delivery:
    headers = {key.lower(): value for key, value in request.headers.items()}
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        claimed = read_signed(headers)
        verify(WEBHOOK_SECRET, claimed, headers, "POST", path, body, now)
    except SignatureInvalid:
        raise Refused(Response("bad signature", status_code=401)) from None
    assert claimed.key == "banshui-test"
    payload = _json(body)
    return Delivery(payload["text"], payload)


WEBHOOK = Kit(
    kind="webhook",
    secret=WEBHOOK_SECRET,
    config=lambda base: {
        "url": f"{base}/hooks/banshui?tenant=1",
        "key": "banshui-test",
    },
    check=_webhook_check,
    ok=lambda: JSONResponse({"ok": True}),
    refusal=lambda: JSONResponse({"error": "unknown number"}, status_code=404),
)


# WeCom group robot: the key in the URL; errcode in a 200 answer.
def _wecom_check(request: Request, body: bytes, now: datetime) -> Delivery:
    if request.query_params.get("key") != WECOM_KEY:
        raise Refused(JSONResponse({"errcode": 93000, "errmsg": "invalid webhook url"}))
    payload = _json(body)
    assert payload["msgtype"] == "text"
    return Delivery(payload["text"]["content"], payload)


WECOM = Kit(
    kind="wecom",
    secret=None,
    config=lambda base: {"url": f"{base}/cgi-bin/webhook/send?key={WECOM_KEY}"},
    check=_wecom_check,
    ok=lambda: JSONResponse({"errcode": 0, "errmsg": "ok"}),
    refusal=lambda: JSONResponse({"errcode": 40008, "errmsg": "bad"}, status_code=400),
)


def dingtalk_sign(timestamp: str, secret: str) -> str:
    message = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(
        hmac.new(secret.encode(), message, hashlib.sha256).digest()
    ).decode()


# DingTalk robot: access_token, and timestamp (ms) + sign in the query.
def _dingtalk_check(request: Request, body: bytes, now: datetime) -> Delivery:
    query = request.query_params
    if query.get("access_token") != DINGTALK_TOKEN:
        raise Refused(JSONResponse({"errcode": 300001, "errmsg": "token is not exist"}))
    timestamp = query.get("timestamp", "")
    fresh = abs(int(timestamp or 0) / 1000 - now.timestamp()) < 3600
    if not fresh or query.get("sign") != dingtalk_sign(timestamp, DINGTALK_SECRET):
        raise Refused(JSONResponse({"errcode": 310000, "errmsg": "sign not match"}))
    payload = _json(body)
    assert payload["msgtype"] == "text"
    return Delivery(payload["text"]["content"], payload)


DINGTALK = Kit(
    kind="dingtalk",
    secret=DINGTALK_SECRET,
    config=lambda base: {"url": f"{base}/robot/send?access_token={DINGTALK_TOKEN}"},
    check=_dingtalk_check,
    ok=lambda: JSONResponse({"errcode": 0, "errmsg": "ok"}),
    refusal=lambda: JSONResponse({"errcode": 43001, "errmsg": "bad"}, status_code=403),
)


def feishu_sign(timestamp: str, secret: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


# Feishu robot: timestamp (s) + sign in the body; code in a 200 answer.
def _feishu_check(request: Request, body: bytes, now: datetime) -> Delivery:
    if request.url.path != f"/open-apis/bot/v2/hook/{FEISHU_HOOK}":
        raise Refused(JSONResponse({"code": 19001, "msg": "param invalid"}))
    payload = _json(body)
    timestamp = str(payload.get("timestamp", ""))
    fresh = abs(int(timestamp or 0) - now.timestamp()) < 3600
    if not fresh or payload.get("sign") != feishu_sign(timestamp, FEISHU_SECRET):
        raise Refused(JSONResponse({"code": 19021, "msg": "sign match fail"}))
    assert payload["msg_type"] == "text"
    return Delivery(payload["content"]["text"], payload)


FEISHU = Kit(
    kind="feishu",
    secret=FEISHU_SECRET,
    config=lambda base: {"url": f"{base}/open-apis/bot/v2/hook/{FEISHU_HOOK}"},
    check=_feishu_check,
    ok=lambda: JSONResponse({"code": 0, "msg": "success", "data": {}}),
    refusal=lambda: JSONResponse({"code": 9499, "msg": "Bad Request"}, 400),
)

KITS = {kit.kind: kit for kit in (ANDROID, TWILIO, WEBHOOK, WECOM, DINGTALK, FEISHU)}
ROBOTS = ("wecom", "dingtalk", "feishu")


@asynccontextmanager
async def receiving(kit: Kit, now: Callable[[], datetime]) -> AsyncIterator[Receiver]:
    """A receiver for ``kit`` serving on a fresh 127.0.0.1 port."""
    receiver = Receiver(kit=kit, now=now)
    app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])
    sock = bound_socket()
    host, port = sock.getsockname()[:2]
    receiver.url = f"http://{host}:{port}"
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.005)
        yield receiver
    finally:
        receiver.released.set()
        server.should_exit = True
        await task
        sock.close()
