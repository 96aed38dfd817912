"""``banshui source list``, ``rotate-secret`` and ``remove``, with the webhook on HTTP.

SmsForwarder's requests are signed here, apart from banshui's own code, as
docs/gateways.md says the app signs them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import os
import subprocess
import sys
import time
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select

from banshui.audit.models import AuditEntry
from banshui.demo.cast import S1, S2
from banshui.sms.models import Source
from banshui.sms.sources import add_source
from conftest import Stack

PUBLIC = "https://banshui.example.com"
OLD = "zhangsan-redmi-secret-1"
NEW = "zhangsan-redmi-secret-2"
HOOK = "/hooks/sms/smsforwarder/zhangsan-redmi"
# Each request its own millisecond: SmsForwarder's signature is its nonce.
_TICKS = itertools.count()


async def banshui(
    stack: Stack, *arguments: str, stdin: str = "", **variables: str
) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it on the server's machine.

    In a thread: the server shares the test's event loop, and its writes must
    go on while the command waits for its turn to write.
    """
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")},
        "BANSHUI_DATABASE_URL": stack.settings.database_url,
        "BANSHUI_VAR_DIR": str(stack.settings.var_dir),
        "COLUMNS": "200",
        **variables,
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "banshui", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def json_of(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def post_sms(
    stack: Stack, secret: str, code: str, hook: str = HOOK
) -> httpx.Response:
    sent = int(time.time() * 1000) + next(_TICKS)
    digest = hmac.new(
        secret.encode(), f"{sent}\n{secret}".encode(), hashlib.sha256
    ).digest()
    body = {
        "from": "12366",
        "org_content": f"【中国税务】您的登录验证码：{code}，请确认是本人操作。",
        "timestamp": sent,
        "sign": quote(base64.b64encode(digest).decode(), safe=""),
    }
    return await stack.http.post(hook, json=body)


async def zhangs_phone(stack: Stack) -> Source:
    runtime = stack.runtime
    return await add_source(
        runtime.db, runtime.vault, runtime.clock,
        kind="smsforwarder", name="zhangsan-redmi", secret=OLD, number=S1,
    )  # fmt: skip


async def audit(stack: Stack) -> list[AuditEntry]:
    async with stack.runtime.db.session() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def test_source_list_shows_each_gateway_and_its_last_sms_never_its_secret(
    stack: Stack,
) -> None:
    phone = await zhangs_phone(stack)
    slots = ["--sim-slot", f"1={S1}", "--sim-slot", f"2={S2}"]
    office = ("android-gateway", "office", "--secret", "office-phone-secret-01")
    json_of(await banshui(stack, "source", "add", *office, *slots, "--json"))
    assert (await post_sms(stack, OLD, "418207")).status_code == 200

    done = await banshui(stack, "source", "list", "--json", BANSHUI_PUBLIC_URL=PUBLIC)

    zhang, office_row = json_of(done)
    assert zhang["kind"] == "smsforwarder" and zhang["name"] == "zhangsan-redmi"
    assert zhang["webhook_path"] == HOOK
    assert zhang["webhook_url"] == PUBLIC + HOOK
    assert (zhang["number"], zhang["sim_slots"]) == (S1, {})
    assert zhang["created_at"].endswith("+00:00")
    assert zhang["last_received_at"] is not None and zhang["removed_at"] is None
    assert office_row["sim_slots"] == {"1": S1, "2": S2}
    assert office_row["last_received_at"] is None
    for secret in (OLD, phone.secret_sealed, "office-phone-secret-01"):
        assert secret not in done.stdout + done.stderr


async def test_source_list_prints_a_table_for_people(stack: Stack) -> None:
    await zhangs_phone(stack)

    done = await banshui(stack, "source", "list")

    assert done.returncode == 0, done.stderr
    assert "zhangsan-redmi" in done.stdout and S1 in done.stdout
    assert HOOK in done.stdout and "never" in done.stdout
    assert OLD not in done.stdout


async def test_after_rotate_secret_a_webhook_signed_with_the_old_one_is_refused(
    stack: Stack,
) -> None:
    await zhangs_phone(stack)
    # The server now remembers the source, with the old secret.
    assert (await post_sms(stack, OLD, "418207")).status_code == 200

    done = await banshui(stack, "source", "rotate-secret", "zhangsan-redmi", stdin=NEW)

    assert done.returncode == 0, done.stderr
    refused = await post_sms(stack, OLD, "562913")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "bad_signature"
    accepted = await post_sms(stack, NEW, "730162")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"ok": True, "stored": 1}


async def test_the_new_secret_works_at_once_though_the_server_remembered_the_old(
    stack: Stack,
) -> None:
    await zhangs_phone(stack)
    assert (await post_sms(stack, OLD, "418207")).status_code == 200

    done = await banshui(stack, "source", "rotate-secret", "zhangsan-redmi", stdin=NEW)

    assert done.returncode == 0, done.stderr
    accepted = await post_sms(stack, NEW, "730162")
    assert accepted.status_code == 200, accepted.text
    assert (await post_sms(stack, OLD, "562913")).status_code == 401


async def test_rotate_secret_takes_it_as_an_option_and_never_prints_or_audits_it(
    stack: Stack,
) -> None:
    await zhangs_phone(stack)

    done = await banshui(
        stack, "source", "rotate-secret", "zhangsan-redmi", "--secret", NEW, "--json"
    )

    assert json_of(done) == {
        "id": 1,
        "kind": "smsforwarder",
        "name": "zhangsan-redmi",
        "secret_rotated": True,
    }
    assert NEW not in done.stdout + done.stderr
    entries = await audit(stack)
    assert (entries[-1].action, entries[-1].subject) == (
        "source.secret_rotated",
        "zhangsan-redmi",
    )
    assert NEW not in repr([(e.subject, e.detail) for e in entries])
    assert (await post_sms(stack, NEW, "418207")).status_code == 200


async def test_a_short_secret_is_refused_naming_it_and_the_old_one_still_works(
    stack: Stack,
) -> None:
    await zhangs_phone(stack)

    done = await banshui(
        stack, "source", "rotate-secret", "zhangsan-redmi", stdin="short"
    )

    assert done.returncode == 1
    assert "(secret)" in done.stderr and "short" not in done.stderr
    assert (await post_sms(stack, OLD, "418207")).status_code == 200


async def test_a_removed_source_is_refused_as_an_unknown_one_and_its_sms_stay(
    stack: Stack,
) -> None:
    await zhangs_phone(stack)
    assert (await post_sms(stack, OLD, "418207")).status_code == 200

    done = await banshui(stack, "source", "remove", "zhangsan-redmi", "--json")

    removed = json_of(done)
    assert removed["name"] == "zhangsan-redmi" and removed["removed_at"]
    answer = await post_sms(stack, OLD, "562913")
    unknown = await post_sms(stack, OLD, "562913", "/hooks/sms/smsforwarder/nobody")
    assert answer.status_code == unknown.status_code == 404
    assert answer.json()["error"]["code"] == unknown.json()["error"]["code"]
    inbox = json_of(await banshui(stack, "inbox", S1, "--json"))
    assert [sms["code"] for sms in inbox] == ["418207"]
    listed = json_of(await banshui(stack, "source", "list", "--json"))
    assert listed[0]["removed_at"] == removed["removed_at"]
    actions = [(e.action, e.subject) for e in await audit(stack)]
    assert ("source.removed", "zhangsan-redmi") in actions


async def test_removing_an_unknown_source_says_so_naming_the_field(
    stack: Stack,
) -> None:
    done = await banshui(stack, "source", "remove", "nobody-phone")

    assert done.returncode == 1
    assert done.stdout == ""
    assert "nobody-phone" in done.stderr and "(name)" in done.stderr
    assert "Traceback" not in done.stderr
