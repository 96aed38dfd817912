"""``banshui chat allow|deny|list`` as an operator runs them, against a live robot."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from conftest import running_stack

from .world import banshui_cli

TOKEN = "chat-token-for-cli-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_a_sender_allowed_on_the_command_line_may_command_the_robot(
    tmp_path: Path, database_url: str
) -> None:
    async with running_stack(
        tmp_path, database_url=database_url, simulator="off", chat_token=TOKEN
    ) as robot:
        body = {"sender": "运维小王", "text": "查询小号#13188888888"}
        refused = await robot.http.post("/hooks/chat", json=body, headers=AUTH)

        # In a thread: the server shares this event loop and must keep serving.
        allowed = await asyncio.to_thread(
            banshui_cli, tmp_path, database_url, "chat", "allow", "运维小王"
        )
        accepted = await robot.http.post("/hooks/chat", json=body, headers=AUTH)

    assert refused.status_code == 403
    assert allowed.returncode == 0, allowed.stderr
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"text": "查询失败：banshui 中没有小号 13188888888"}


def test_chat_list_shows_the_allowed_senders_and_deny_removes_them(
    tmp_path: Path, database_url: str
) -> None:
    assert (
        banshui_cli(tmp_path, database_url, "chat", "allow", "运维小王").returncode == 0
    )

    listed = banshui_cli(tmp_path, database_url, "chat", "list", "--json")
    denied = banshui_cli(tmp_path, database_url, "chat", "deny", "运维小王")

    assert [row["sender"] for row in json.loads(listed.stdout)] == ["运维小王"]
    assert json.loads(listed.stdout)[0]["allowed_by"] == "cli"
    assert denied.returncode == 0, denied.stderr
