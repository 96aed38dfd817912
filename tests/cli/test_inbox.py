"""``banshui inbox`` and ``banshui number pin``, run as a operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from banshui.core.settings import Settings
from banshui.demo.cast import S1, S2, seed_banshui
from banshui.numbers.models import Number
from banshui.query.pins import pin_matches
from banshui.runtime import Runtime, build_runtime
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.sources import find_source


def environment(machine: Runtime) -> dict[str, str]:
    return {
        **os.environ,
        "BANSHUI_DATABASE_URL": machine.settings.database_url,
        "BANSHUI_VAR_DIR": str(machine.settings.var_dir),
        "COLUMNS": "200",
    }


def banshui(
    machine: Runtime, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own command, fixed arguments)
        [sys.executable, "-m", "banshui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment(machine),
        timeout=60,
        check=False,
    )


@pytest.fixture
async def machine(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    """The operator's machine: a database with the cast, as the CLI finds it."""
    settings = Settings(database_url=database_url, var_dir=tmp_path)
    runtime = build_runtime(settings)
    await seed_banshui(runtime)
    try:
        yield runtime
    finally:
        await runtime.close()


async def receive(
    runtime: Runtime, text: str, identity: str, sender: str = "12366"
) -> None:
    source = await find_source(runtime.db, "smsforwarder", "sim-s1")
    sms = ReceivedSms(sender=sender, text=text, identity=identity, number=S1)
    await runtime.inbox.store(source, Verified(None, ""), [sms])


async def test_inbox_json_lists_the_latest_sms_with_their_codes(
    machine: Runtime,
) -> None:
    await receive(machine, "【中国税务】您的登录验证码：305118，请确认。", "a")
    await receive(machine, "【中国税务】您的登录验证码：418207，请确认。", "b")
    await receive(machine, "【顺丰】您的快件已签收。", "c")

    done = banshui(machine, "inbox", S1, "--json", "--limit", "2")

    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [sms["code"] for sms in listed] == [None, "418207"]
    assert listed[1]["kind"] == "bureau_login"
    assert listed[1]["sender"] == "12366"
    assert {sms["number"] for sms in listed} == {S1}


async def test_inbox_prints_a_table_for_people(
    machine: Runtime,
) -> None:
    await receive(machine, "【中国税务】您的登录验证码：418207，[请确认]。", "a")

    done = banshui(machine, "inbox", f"+86 {S1}")

    assert done.returncode == 0, done.stderr
    assert "418207" in done.stdout
    assert "[请确认]" in done.stdout


async def test_inbox_never_sends_an_sms_s_control_characters_to_the_terminal(
    machine: Runtime,
) -> None:
    painted = "【通知】\x1b[2J\x1b[31m已清屏\x9b0m\r覆盖\u202e倒序"
    await receive(machine, painted, "a", sender="\x1b]0;title\x07")

    table = banshui(machine, "inbox", S1)
    listed = banshui(machine, "inbox", S1, "--json")

    assert table.returncode == 0, table.stderr
    for raw in ("\x1b", "\x9b", "\r", "\x07", "\u202e"):
        assert raw not in table.stdout and raw not in listed.stdout
    assert "\\x1b[2J" in table.stdout and "\\x9b0m" in table.stdout
    # JSON escapes them instead: a reader gets the text exactly as received.
    assert json.loads(listed.stdout)[0]["text"] == painted


async def test_inbox_marks_a_bureau_text_from_another_sender(
    machine: Runtime,
) -> None:
    await receive(machine, "【中国税务】您的登录验证码：418207，请确认。", "a")
    await receive(
        machine, "【中国税务】您的登录验证码：730162，请确认。", "b", "13912345678"
    )

    table = banshui(machine, "inbox", S1)
    listed = banshui(machine, "inbox", S1, "--json")

    assert [sms["from_bureau"] for sms in json.loads(listed.stdout)] == [False, True]
    assert table.stdout.count("NOT from a bureau sender") == 1


async def test_inbox_names_a_bad_number(machine: Runtime) -> None:
    done = banshui(machine, "inbox", "12345", "--json")

    assert done.returncode == 1
    assert done.stdout == ""
    assert "(number)" in done.stderr


async def test_number_pin_stores_only_a_hash_of_the_pin(
    machine: Runtime,
) -> None:
    done = banshui(machine, "number", "pin", S1, "--json", stdin="270415\n")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"number": S1, "pin_set": True}
    async with machine.db.session() as session:
        stored = await session.scalar(select(Number).where(Number.msisdn == S1))
    assert stored is not None and stored.pin_hash is not None
    assert "270415" not in stored.pin_hash
    assert pin_matches(stored.pin_hash, "270415")
    assert not pin_matches(stored.pin_hash, "906906")


async def test_number_pin_refuses_the_old_shared_password(
    machine: Runtime,
) -> None:
    done = banshui(machine, "number", "pin", S2, stdin="906906\n")

    assert done.returncode == 1
    assert "error: the PIN is too easy to guess: choose another (pin)" in done.stderr
    async with machine.db.session() as session:
        stored = await session.scalar(select(Number).where(Number.msisdn == S2))
    assert stored is not None and stored.pin_hash is None


async def test_number_pin_refuses_a_short_pin_in_a_sentence_naming_it(
    machine: Runtime,
) -> None:
    done = banshui(machine, "number", "pin", S2, stdin="2704\n")

    assert done.returncode == 1
    assert "error: the PIN must be 6–64 characters, not 4 (pin)" in done.stderr


async def test_number_pin_refuses_a_number_banshui_does_not_know(
    machine: Runtime,
) -> None:
    done = banshui(machine, "number", "pin", "13912345678", stdin="270415\n")

    assert done.returncode == 1
    assert "(number)" in done.stderr
