"""``banshui forward``: set up a channel and a route, follow the queue, retry.

The commands run against the database of a running banshui, as an operator on
the machine would run them; no secret ever reaches their output or the logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from banshui.cli.main import app
from banshui.core.clock import ManualClock
from banshui.demo.cast import S1
from forwarding.conftest import Forwarding, forwarding_stack, seed_phone
from forwarding.receivers import (
    BOUND_PHONE,
    SECRETS,
    TWILIO,
    TWILIO_TOKEN,
    WECOM,
    WECOM_KEY,
    Receiver,
)

pytestmark = pytest.mark.parametrize("kit", ["twilio"], indirect=True)


@pytest.fixture
async def operator(
    tmp_path: Path, clock: ManualClock, database_url: str, receiver: Receiver
) -> AsyncIterator[Forwarding]:
    async with forwarding_stack(tmp_path, clock, database_url) as forwarding:
        await seed_phone(forwarding.stack, clock)
        yield forwarding


async def banshui(forwarding: Forwarding, *args: str, stdin: str = "") -> Result:
    """The command line, in a thread: it runs its own event loop."""
    settings = forwarding.stack.settings
    env = {
        "BANSHUI_DATABASE_URL": settings.database_url,
        "BANSHUI_VAR_DIR": str(settings.var_dir),
        "COLUMNS": "250",
    }
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, app, list(args), input=stdin, env=env
    )
    for secret in SECRETS:
        assert secret not in result.output
    return result


async def test_an_operator_sets_up_follows_and_retries_a_forward(
    operator: Forwarding, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    config = [f"--config={k}={v}" for k, v in TWILIO.config(receiver.url).items()]
    added = await banshui(
        operator, "forward", "channel", "add", "twilio", "zhangsan-out",
        "--secret", TWILIO_TOKEN, *config, "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["secret"] == "sealed"

    routed = await banshui(
        operator, "forward", "route", "add", S1, "--channel", "zhangsan-out",
        "--to", BOUND_PHONE, "--json",
    )  # fmt: skip
    assert routed.exit_code == 0, routed.output
    assert json.loads(routed.stdout)["destination"] == "138****8000"

    receiver.fail_next(TWILIO.refusal())
    with caplog.at_level(logging.INFO):
        await operator.deliver()
        failed = await operator.until("failed")

    listed = await banshui(operator, "forward", "list", "--status", "failed", "--json")
    (row,) = json.loads(listed.stdout)
    assert row["id"] == failed.id
    assert row["number"] == S1
    assert row["destination"] == "138****8000"
    assert row["last_error"].startswith("the receiver answered HTTP 400")
    assert "text" not in row and "code" not in row

    shown = await banshui(operator, "forward", "list")
    assert "failed" in shown.stdout and "HTTP 400" in shown.stdout

    retried = await banshui(operator, "forward", "retry", str(failed.id))
    assert retried.exit_code == 0, retried.output
    # The command line reads the system clock: banshui's clock catches up to it.
    operator.clock.set(datetime.now(UTC))
    operator.worker.wake()
    await operator.until("sent", attempts=1)
    assert len(receiver.accepted) == 1

    for secret in SECRETS:
        assert secret not in caplog.text


async def test_a_secret_from_standard_input_is_sealed_and_never_listed(
    operator: Forwarding, receiver: Receiver
) -> None:
    config = [f"--config={k}={v}" for k, v in WECOM.config(receiver.url).items()]
    await banshui(
        operator, "forward", "channel", "add", "wecom", "ops-group", *config,
    )  # fmt: skip
    added = await banshui(
        operator, "forward", "channel", "add", "dingtalk", "ops-ding",
        "--config", "url=https://oapi.dingtalk.example/robot/send?access_token=t0k3n",
        "--secret", "-", stdin="SECdingtalk-robot-secret-a1b2c3\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output

    listed = await banshui(operator, "forward", "channel", "list", "--json")
    channels = {c["name"]: c for c in json.loads(listed.stdout)}
    assert channels["ops-group"] == {
        "id": channels["ops-group"]["id"],
        "kind": "wecom",
        "name": "ops-group",
        "config": {},
        "secret": "sealed",
    }
    assert "t0k3n" not in listed.stdout
    assert (
        WECOM_KEY not in (await banshui(operator, "forward", "channel", "list")).stdout
    )


async def test_bad_input_is_one_line_naming_the_field_and_changes_nothing(
    operator: Forwarding, receiver: Receiver
) -> None:
    refused = await banshui(
        operator, "forward", "channel", "add", "twilio", "zhangsan-out",
        "--config", "account_sid=AC1", "--secret", TWILIO_TOKEN,
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "(config.account_sid)" in refused.stderr

    malformed = await banshui(
        operator, "forward", "channel", "add", "wecom", "x", "--config", "url"
    )
    assert malformed.exit_code == 1
    assert "KEY=VALUE" in malformed.stderr

    unknown = await banshui(operator, "forward", "list", "--status", "lost")
    assert unknown.exit_code == 1
    assert "(status)" in unknown.stderr

    listed = await banshui(operator, "forward", "channel", "list", "--json")
    assert json.loads(listed.stdout) == []
