"""``banshui tenant list`` and ``tenant rotate-key``, against a server over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import httpx
from sqlalchemy import select

from banshui.accounts.tenants import hash_key
from banshui.audit.models import AuditEntry
from banshui.demo.cast import COMPANIES, TENANT, seed_banshui
from conftest import Stack


async def banshui(stack: Stack, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it on the server's machine.

    In a thread: the server shares the test's event loop, and its writes must
    go on while the command waits for its turn to write.
    """
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")},
        "BANSHUI_DATABASE_URL": stack.settings.database_url,
        "BANSHUI_VAR_DIR": str(stack.settings.var_dir),
        "COLUMNS": "200",
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "banshui", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


async def enterprises(stack: Stack, api_key: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key}"}
    return await stack.http.get("/api/v1/enterprises", headers=headers)


def json_of(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_tenant_list_shows_each_tenant_with_its_enterprises_never_its_key(
    stack: Stack,
) -> None:
    seeded = await seed_banshui(stack.runtime)
    assert seeded.api_key is not None
    json_of(await banshui(stack, "tenant", "add", "另一集团", "--json"))

    done = await banshui(stack, "tenant", "list", "--json")

    listed = json_of(done)
    assert [(t["id"], t["name"], t["enterprises"]) for t in listed] == [
        (seeded.tenant_id, TENANT, len(COMPANIES)),
        (seeded.tenant_id + 1, "另一集团", 0),
    ]
    assert set(listed[0]) == {"id", "name", "created_at", "enterprises"}
    assert listed[0]["created_at"].endswith("+00:00")
    for secret in (seeded.api_key, hash_key(seeded.api_key)):
        assert secret not in done.stdout + done.stderr


async def test_tenant_list_prints_a_table_for_people(stack: Stack) -> None:
    await seed_banshui(stack.runtime)

    done = await banshui(stack, "tenant", "list")

    assert done.returncode == 0, done.stderr
    assert TENANT in done.stdout and "enterprises" in done.stdout
    assert "bsk_" not in done.stdout


async def test_after_rotate_key_the_old_key_is_refused_and_the_new_one_works(
    stack: Stack,
) -> None:
    seeded = await seed_banshui(stack.runtime)
    assert seeded.api_key is not None
    assert (await enterprises(stack, seeded.api_key)).status_code == 200

    done = await banshui(stack, "tenant", "rotate-key", TENANT, "--json")

    rotated = json_of(done)
    assert (rotated["id"], rotated["name"]) == (seeded.tenant_id, TENANT)
    old = await enterprises(stack, seeded.api_key)
    unknown = await enterprises(stack, "bsk_" + "x" * 43)
    assert old.status_code == unknown.status_code == 401
    assert old.json() == unknown.json()
    assert old.json()["error"]["code"] == "unauthorized"
    new = await enterprises(stack, rotated["api_key"])
    assert new.status_code == 200, new.text
    assert len(new.json()["enterprises"]) == len(COMPANIES)


async def test_rotate_key_by_id_prints_the_new_key_once_and_audits_without_it(
    stack: Stack,
) -> None:
    seeded = await seed_banshui(stack.runtime)

    done = await banshui(stack, "tenant", "rotate-key", str(seeded.tenant_id))

    assert done.returncode == 0, done.stderr
    [line] = [ln for ln in done.stdout.splitlines() if "API key (shown once)" in ln]
    api_key = line.split(": ", 1)[1].strip()
    assert (await enterprises(stack, api_key)).status_code == 200
    assert done.stdout.count(api_key) == 1 and api_key not in done.stderr
    async with stack.runtime.db.session() as session:
        entries = list(await session.scalars(select(AuditEntry)))
    assert ("tenant.key_rotated", TENANT) in [(e.action, e.subject) for e in entries]
    written = repr([(e.subject, e.detail) for e in entries])
    assert api_key not in written and hash_key(api_key) not in written


async def test_rotate_key_of_an_unknown_tenant_says_so_naming_the_field(
    stack: Stack,
) -> None:
    seeded = await seed_banshui(stack.runtime)
    assert seeded.api_key is not None

    done = await banshui(stack, "tenant", "rotate-key", "无此集团", "--json")

    assert done.returncode == 1
    assert done.stdout == ""
    assert "无此集团" in done.stderr and "(tenant)" in done.stderr
    assert "Traceback" not in done.stderr
    assert (await enterprises(stack, seeded.api_key)).status_code == 200
