"""docs/gateways.md's test requests, pasted into a shell against a real server."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from conftest import Stack

ROOT = Path(__file__).resolve().parents[2]
GATEWAYS = ROOT / "docs" / "gateways.md"
EXAMPLE = re.compile(r"<!-- example: ([\w-]+) -->\n```sh\n(.*?)```", re.DOTALL)
# Where the examples expect `make run`, and the number and sender they use.
MAKE_RUN = "http://127.0.0.1:8000"
NUMBER = "19912340009"
ANSWERS = {
    "smsforwarder": '{"ok":true,"stored":1}',
    "android-gateway": '{"ok":true,"stored":1}',
    "twilio": "<Response/>",
    "generic": '{"ok":true,"stored":1}',
}


def examples() -> dict[str, str]:
    return dict(EXAMPLE.findall(GATEWAYS.read_text()))


def environment(stack: Stack) -> dict[str, str]:
    """A second terminal on the server's machine, with the virtualenv on PATH."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")}
    return kept | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "BANSHUI_DATABASE_URL": stack.settings.database_url,
        "BANSHUI_VAR_DIR": str(stack.settings.var_dir),
    }


async def pasted(script: str, stack: Stack, *, stop_at_error: bool = True) -> str:
    """What the shell printed; the example is run as it is, but for the port."""
    options = ["-euo", "pipefail"] if stop_at_error else []
    shell = await asyncio.create_subprocess_exec(
        "bash",
        *options,
        "-c",
        script.replace(MAKE_RUN, stack.url),
        env=environment(stack),
        cwd=stack.settings.var_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(shell.communicate(), timeout=60)
    assert shell.returncode == 0, out.decode()
    return out.decode()


def test_the_gateways_page_has_one_tested_example_for_each_gateway() -> None:
    found = examples()

    assert list(found) == list(ANSWERS)
    for kind, script in found.items():
        assert f"banshui source add {kind} " in script
        assert f"{MAKE_RUN}/hooks/sms/{kind}/" in script


@pytest.mark.parametrize("kind", list(ANSWERS))
async def test_each_example_stores_its_test_sms_and_spends_none_of_the_day(
    kind: str, stack: Stack
) -> None:
    printed = await pasted(examples()[kind], stack)

    assert printed.rstrip().splitlines()[-1] == ANSWERS[kind]
    [sms] = await stack.runtime.inbox.latest(NUMBER)
    assert (sms.sender, sms.text) == ("10690000", "banshui test: your code is 246810")
    assert (sms.code, sms.kind, sms.from_bureau) == ("246810", "verification", False)
    assert await stack.runtime.inbox.spent_today(NUMBER) == 0


@pytest.mark.parametrize("kind", ["android-gateway", "twilio", "generic"])
async def test_an_example_pasted_again_sends_the_same_sms_stored_once(
    kind: str, stack: Stack
) -> None:
    await pasted(examples()[kind], stack)

    printed = await pasted(examples()[kind], stack, stop_at_error=False)

    assert "exists already" in printed  # said by the `source add` line
    assert printed.rstrip().splitlines()[-1] == ANSWERS[kind].replace("1}", "0}")
    assert len(await stack.runtime.inbox.latest(NUMBER)) == 1
