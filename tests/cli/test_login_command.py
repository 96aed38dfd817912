"""``banshui login`` for an account whose code goes to a person's phone (R6): the
code typed at the terminal's prompt, or given with ``banshui type-code``."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from banshui.accounts.models import Person
from banshui.accounts.service import Registry, Service
from banshui.demo.cast import ZHANG_SAN, A
from conftest import Sandbox

REAL_PHONE = ZHANG_SAN.real_phone
SECONDS = 60
# Wide lines, and no colour codes between the words the tests look for.
ENVIRONMENT = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}


async def _phone_account(sandbox: Sandbox) -> int:
    """张三's account on his own phone: its code reaches him, not banshui."""
    runtime = sandbox.stack.runtime
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    async with runtime.db.session() as session:
        zhang = await session.scalar(
            select(Person.id).where(Person.name == ZHANG_SAN.name)
        )
    assert zhang is not None
    await registry.give_number(zhang, REAL_PHONE, is_sub_number=False, actor="test")
    services = [Service(A.tax_id, "03", "receive")]
    account = await registry.add_account(
        sandbox.tenant_id, zhang, REAL_PHONE, services, "phone", actor="test"
    )
    return account.id


async def _code_sent_to(sandbox: Sandbox, phone: str) -> str:
    """The code of the bureau's SMS to the phone, once there is one."""
    async with asyncio.timeout(SECONDS):
        while True:
            response = await sandbox.stack.sim.get(
                "/admin/outbox", params={"phone": phone}
            )
            sent = response.json()["sms"]
            if sent:
                found = re.search(r"[0-9]{6}", sent[-1]["text"])
                assert found is not None, sent[-1]["text"]
                return found.group()
            await asyncio.sleep(0.05)


def _banshui(sandbox: Sandbox, *args: str) -> list[str]:
    server = ["--server", sandbox.stack.url, "--api-key", sandbox.api_key]
    return [sys.executable, "-m", "banshui", *args, *server]


async def _login_of_phone_account(
    sandbox: Sandbox, tmp_path: Path, stdin: int, stderr: int
) -> asyncio.subprocess.Process:
    account = str(await _phone_account(sandbox))
    login = ["login", A.tax_id, "--business", "receive", "--account-id", account]
    command = _banshui(sandbox, *login, "--json")
    return await asyncio.create_subprocess_exec(
        *command,
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        cwd=tmp_path,
        env=ENVIRONMENT,
    )


def _stop(process: asyncio.subprocess.Process) -> None:
    # A command left following a login would hold the server open at its end.
    if process.returncode is None:
        process.kill()


class Terminal:
    """The person's side of the command's terminal: what it shows, what they type."""

    def __init__(self, side: int) -> None:
        self.side = side
        self.shown = ""
        os.set_blocking(side, False)

    async def showing(self, text: str, times: int = 1) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(SECONDS):
                while self.read().count(text) < times:
                    readable = asyncio.Event()
                    loop.add_reader(self.side, readable.set)
                    try:
                        await readable.wait()
                    finally:
                        loop.remove_reader(self.side)
        except TimeoutError:
            shown = f"never shown {times}×: {text!r}\n{self.shown}"
            raise AssertionError(shown) from None

    def type(self, line: str) -> None:
        os.write(self.side, f"{line}\n".encode())

    def read(self) -> str:
        while True:
            try:
                chunk = os.read(self.side, 4096)
            except (BlockingIOError, OSError):  # nothing yet, or the command ended
                return self.shown
            if not chunk:
                return self.shown
            self.shown += chunk.decode(errors="replace")


async def test_banshui_login_on_a_terminal_asks_for_the_code_and_sends_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    side, its_end = pty.openpty()
    process = await _login_of_phone_account(sandbox, tmp_path, its_end, its_end)
    os.close(its_end)
    terminal = Terminal(side)
    prompt = "the code sent to 138****8000:"
    try:
        # A mistyped code first: the server refuses it and the prompt comes again.
        await terminal.showing(prompt)
        terminal.type("12ab56")
        await terminal.showing(prompt, times=2)
        terminal.type(await _code_sent_to(sandbox, REAL_PHONE))
        stdout, _ = await asyncio.wait_for(process.communicate(), SECONDS)
    finally:
        _stop(process)
        shown = terminal.read()
        os.close(side)

    assert process.returncode == 0, shown
    # The prompts went to the terminal: standard output holds the JSON alone.
    assert stdout.startswith(b"{") and stdout.endswith(b"}\n"), stdout
    login = json.loads(stdout)
    assert (login["status"], login["number"], login["sms_used"]) == (
        "succeeded",
        REAL_PHONE,
        1,
    )
    assert "refused: must be the 6 digits of the bureau's code" in shown


async def test_banshui_type_code_gives_the_code_to_a_login_followed_elsewhere(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    pipe = asyncio.subprocess.PIPE
    process = await _login_of_phone_account(
        sandbox, tmp_path, asyncio.subprocess.DEVNULL, pipe
    )
    assert process.stderr is not None
    said: list[str] = []
    try:
        async with asyncio.timeout(SECONDS):
            while not any("banshui type-code" in line for line in said):
                said.append((await process.stderr.readline()).decode())
        login_id = said[0].split()[1].rstrip(":")

        code = await _code_sent_to(sandbox, REAL_PHONE)
        typed = await asyncio.create_subprocess_exec(
            *_banshui(sandbox, "type-code", login_id, code),
            stdout=pipe,
            stderr=pipe,
            cwd=tmp_path,
        )
        await asyncio.wait_for(typed.communicate(), SECONDS)
        stdout, _ = await asyncio.wait_for(process.communicate(), SECONDS)
    finally:
        _stop(process)

    assert typed.returncode == 0
    assert process.returncode == 0
    assert f"give it with: banshui type-code {login_id} CODE" in "".join(said)
    assert json.loads(stdout)["status"] == "succeeded"


async def test_banshui_type_code_for_a_login_not_waiting_for_one_fails_saying_so(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    login = await sandbox.client.ask_login(A.tax_id, "receive")
    async with asyncio.timeout(SECONDS):
        async for seen in sandbox.client.follow(login["id"]):
            if seen["status"] == "succeeded":
                break

    typed = await asyncio.create_subprocess_exec(
        *_banshui(sandbox, "type-code", login["id"], "123456"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=ENVIRONMENT,
    )
    stdout, stderr = await asyncio.wait_for(typed.communicate(), SECONDS)

    assert typed.returncode == 1
    assert stdout == b""
    assert "the login is not waiting for a typed code (it is succeeded)" in (
        stderr.decode()
    )


async def test_banshui_login_release_prints_the_login_as_released(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    command = _banshui(sandbox, "login", A.tax_id, "--business", "receive")
    pipe = asyncio.subprocess.PIPE
    process = await asyncio.create_subprocess_exec(
        *command,
        "--release",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=pipe,
        stderr=pipe,
        cwd=tmp_path,
        env=ENVIRONMENT,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), SECONDS)
    finally:
        _stop(process)

    assert process.returncode == 0, stderr.decode()
    progress = [line.strip() for line in stderr.decode().splitlines()]
    assert progress[-2:] == ["succeeded", "released"], progress
    rows = {
        cells[0]: cells[1:]
        for line in stdout.decode().splitlines()
        if len(cells := [cell.strip() for cell in line.split("│")[1:-1]]) == 2
    }
    assert rows["status"] == ["released"], stdout.decode()
    # The lease ended at the release: no time it would have run to is shown.
    assert rows["lease_expires_at"] == [""], stdout.decode()
    login_id = rows["id"][0]
    login = await sandbox.client.login(login_id)
    assert (login["status"], login["lease_expires_at"]) == ("released", None)


async def test_banshui_login_shows_each_status_change_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    command = _banshui(sandbox, "login", A.tax_id, "--business", "receive")
    pipe = asyncio.subprocess.PIPE
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=pipe,
        stderr=pipe,
        cwd=tmp_path,
        env=ENVIRONMENT,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), SECONDS)
    finally:
        _stop(process)

    assert process.returncode == 0, stderr.decode()
    # "login ID: queued" from the answer to the ask, then one line per change;
    # the stream's first event, the login as it is now, repeats nothing.
    first, *changes = [line.strip() for line in stderr.decode().splitlines()]
    statuses = [first.rsplit(": ", 1)[1], *changes]
    assert statuses[0] == "queued", statuses
    assert statuses[-1] == "succeeded", statuses
    assert len(statuses) == len(set(statuses)), statuses


async def test_banshui_login_takes_its_server_from_banshui_server(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    key = ["--api-key", sandbox.api_key]
    command = [sys.executable, "-m", "banshui", "login", A.tax_id, *key]
    environment = {**ENVIRONMENT, "BANSHUI_SERVER": sandbox.stack.url}
    pipe = asyncio.subprocess.PIPE
    process = await asyncio.create_subprocess_exec(
        *command,
        "--business",
        "receive",
        "--json",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=pipe,
        stderr=pipe,
        cwd=tmp_path,
        env=environment,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), SECONDS)
    finally:
        _stop(process)

    assert process.returncode == 0, stderr.decode()
    assert json.loads(stdout)["status"] == "succeeded"


def test_banshui_login_to_no_server_says_where_it_looked_and_how_to_name_another(
    tmp_path: Path,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{sock.getsockname()[1]}"
    command = [sys.executable, "-m", "banshui", "login", A.tax_id]
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [*command, "--business", "receive", "--api-key", "k"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**ENVIRONMENT, "BANSHUI_SERVER": nobody},
        timeout=SECONDS,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    assert f"cannot reach {nobody}" in done.stderr
    assert "--server or BANSHUI_SERVER" in done.stderr
