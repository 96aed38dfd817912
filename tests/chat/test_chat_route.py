"""POST /hooks/chat over the real app: token, allowed senders, then the command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from banshui.chat.senders import allow, deny
from banshui.chat.token import load_chat_token
from banshui.core.settings import Settings, SettingsError
from conftest import Stack, running_stack

from .world import SUB_NUMBER, audit_actions, bind_text, new_customer, row_counts

TOKEN = "chat-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SENDER = "运维小王"


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    """The one error shape of DESIGN §4."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"]
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "field"}
    assert body["error"]["code"] == code
    error: dict[str, str] = body["error"]
    return error


def chat_refusals() -> float:
    value = REGISTRY.get_sample_value("banshui_refusals_total", {"face": "chat"})
    return value or 0.0


@pytest.fixture
async def robot(tmp_path: Path, database_url: str) -> AsyncIterator[Stack]:
    async with running_stack(
        tmp_path, database_url=database_url, simulator="off", chat_token=TOKEN
    ) as running:
        yield running


async def test_without_a_token_the_robot_answers_503_not_configured(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BANSHUI_CHAT_TOKEN", raising=False)
    monkeypatch.delenv("BANSHUI_CHAT_TOKEN_FILE", raising=False)
    async with running_stack(
        tmp_path, database_url=database_url, simulator="off"
    ) as running:
        replied = await running.http.post(
            "/hooks/chat", json={"sender": SENDER, "text": "查询小号#13188888888"}
        )

    error = assert_error(replied, 503, "not_configured")
    assert "BANSHUI_CHAT_TOKEN" in error["message"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN}],
)
async def test_a_wrong_or_missing_token_is_a_401_and_counted(
    robot: Stack, headers: dict[str, str]
) -> None:
    await allow(robot.runtime.db, robot.runtime.clock, SENDER, actor="test")
    customer = await new_customer(robot.runtime)
    before, refusals = await row_counts(robot.runtime), chat_refusals()

    replied = await robot.http.post(
        "/hooks/chat",
        json={"sender": SENDER, "text": bind_text(customer)},
        headers=headers,
    )

    assert_error(replied, 401, "unauthorized")
    assert await row_counts(robot.runtime) == before
    assert chat_refusals() == refusals + 1


async def test_a_sender_not_allowed_is_a_403_and_nothing_changes(robot: Stack) -> None:
    customer = await new_customer(robot.runtime)
    before, refusals = await row_counts(robot.runtime), chat_refusals()

    replied = await robot.http.post(
        "/hooks/chat",
        json={"sender": "路人甲", "text": bind_text(customer)},
        headers=AUTH,
    )

    error = assert_error(replied, 403, "forbidden")
    assert error["field"] == "sender"
    assert await row_counts(robot.runtime) == before
    assert chat_refusals() == refusals + 1


async def test_an_allowed_sender_binds_and_is_the_audited_actor(robot: Stack) -> None:
    await allow(robot.runtime.db, robot.runtime.clock, SENDER, actor="test")
    customer = await new_customer(robot.runtime)

    replied = await robot.http.post(
        "/hooks/chat",
        json={"sender": SENDER, "text": "@对话机器人 " + bind_text(customer)},
        headers=AUTH,
    )

    assert replied.status_code == 200, replied.text
    assert list(replied.json()) == ["text"]
    assert replied.json()["text"].startswith("绑定小号成功")
    assert customer.app_secret not in replied.text
    assert (SENDER, "number.bound", f"number:{SUB_NUMBER}") in await audit_actions(
        robot.runtime
    )


async def test_a_refused_command_is_answered_in_chat_with_a_200(robot: Stack) -> None:
    await allow(robot.runtime.db, robot.runtime.clock, SENDER, actor="test")
    customer = await new_customer(robot.runtime)

    replied = await robot.http.post(
        "/hooks/chat",
        json={"sender": SENDER, "text": bind_text(customer, app_secret="WRONG")},
        headers=AUTH,
    )

    assert replied.status_code == 200
    assert replied.json() == {"text": "绑定失败：appsecret 与 appkey 不匹配"}


async def test_a_denied_sender_is_refused_again(robot: Stack) -> None:
    runtime = robot.runtime
    await allow(runtime.db, runtime.clock, SENDER, actor="test")
    await deny(runtime.db, runtime.clock, SENDER, actor="test")

    replied = await robot.http.post(
        "/hooks/chat", json={"sender": SENDER, "text": "查询小号#1"}, headers=AUTH
    )

    assert_error(replied, 403, "forbidden")


async def test_a_body_without_a_sender_is_a_422_on_that_field(robot: Stack) -> None:
    replied = await robot.http.post("/hooks/chat", json={"text": "x"}, headers=AUTH)

    assert assert_error(replied, 422, "invalid")["field"] == "sender"


def test_the_token_may_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "chat.token"
    path.write_text(TOKEN + "\n")

    settings = Settings(chat_token_file=path)

    assert load_chat_token(settings) == TOKEN


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"chat_token": "short"}, "BANSHUI_CHAT_TOKEN"),
        (
            {"chat_token_file": Path("/nonexistent/chat.token")},
            "BANSHUI_CHAT_TOKEN_FILE",
        ),
    ],
)
def test_a_bad_token_stops_start_up_naming_the_variable(
    values: dict[str, object], variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BANSHUI_CHAT_TOKEN", raising=False)

    with pytest.raises(SettingsError, match=f"^{variable}:"):
        load_chat_token(Settings(**values))  # type: ignore[arg-type]
