"""``banshui user add`` and ``user password``: the password comes from a prompt
or standard input, never from an argument; the operator can then sign in to the
console."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner, Result

from banshui.audit.models import AuditEntry
from banshui.cli.main import app
from banshui.core.db import Database
from banshui.operators.models import Operator
from banshui.operators.passwords import password_matches

PASSWORD = "Console-pass-2026"
NEW_PASSWORD = "Brand-new-pass-2027"


def banshui(
    folder: Path, database_url: str, *arguments: str, stdin: str = ""
) -> Result:
    """The command in this process (no interpreter start-up), on its own database."""
    environment = {
        "BANSHUI_DATABASE_URL": database_url,
        "BANSHUI_VAR_DIR": str(folder / "var"),
        "COLUMNS": "100",
    }
    return CliRunner().invoke(app, list(arguments), input=stdin, env=environment)


def test_an_operator_of_a_tenant_is_added_with_the_password_from_stdin(
    tmp_path: Path, database_url: str
) -> None:
    assert banshui(tmp_path, database_url, "tenant", "add", "示例集团").exit_code == 0

    added = banshui(
        tmp_path,
        database_url,
        "user", "add", "王五", "--role", "operator", "--tenant", "示例集团", "--json",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    listed = banshui(tmp_path, database_url, "user", "list", "--json")

    assert added.exit_code == 0, added.stderr
    made = json.loads(added.stdout)
    assert (made["name"], made["role"], made["tenant"]) == (
        "王五",
        "operator",
        "示例集团",
    )
    assert PASSWORD not in added.stdout + added.stderr
    assert [row["name"] for row in json.loads(listed.stdout)] == ["王五"]
    assert PASSWORD not in listed.stdout


def test_a_platform_admin_has_no_tenant(tmp_path: Path, database_url: str) -> None:
    added = banshui(
        tmp_path, database_url, "user", "add", "钱七", "--role", "admin", stdin=PASSWORD
    )

    assert added.exit_code == 0, added.stderr
    assert "钱七" in added.stdout and "admin" in added.stdout


def test_a_password_is_never_taken_as_an_argument(
    tmp_path: Path, database_url: str
) -> None:
    refused = banshui(
        tmp_path,
        database_url,
        "user",
        "add",
        "王五",
        "--role",
        "viewer",
        "--password",
        PASSWORD,
    )

    assert refused.exit_code != 0
    assert "--password" in refused.stderr


def test_a_wrong_role_a_weak_password_or_an_unknown_tenant_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    role = banshui(
        tmp_path, database_url, "user", "add", "王五", "--role", "boss", stdin=PASSWORD
    )
    weak = banshui(
        tmp_path, database_url, "user", "add", "王五", "--role", "viewer", stdin="short"
    )
    tenant = banshui(
        tmp_path, database_url,
        "user", "add", "王五", "--role", "viewer", "--tenant", "无此租户",
        stdin=PASSWORD,
    )  # fmt: skip
    empty = banshui(
        tmp_path, database_url, "user", "add", "王五", "--role", "viewer", stdin=""
    )

    assert role.exit_code == 1 and "admin, operator or viewer" in role.stderr
    assert weak.exit_code == 1
    assert "the password must be 10–128 characters, not 5 (password)" in weak.stderr
    assert tenant.exit_code == 1 and "无此租户" in tenant.stderr
    assert empty.exit_code == 1 and "standard input" in empty.stderr
    listed = banshui(tmp_path, database_url, "user", "list", "--json")
    assert json.loads(listed.stdout) == []


async def stored(database_url: str, name: str) -> tuple[str, list[str]]:
    """The operator's password hash, and who reset a password (audit actors)."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            hashed = await session.scalar(
                select(Operator.password_hash).where(Operator.name == name)
            )
            actors = await session.scalars(
                select(AuditEntry.actor).where(
                    AuditEntry.action == "operator.password_reset"
                )
            )
            assert hashed is not None
            return hashed, list(actors)
    finally:
        await db.close()


def test_a_forgotten_password_is_reset_on_the_machine_from_stdin(
    tmp_path: Path, database_url: str
) -> None:
    banshui(
        tmp_path, database_url, "user", "add", "钱七", "--role", "admin", stdin=PASSWORD
    )

    reset = banshui(
        tmp_path, database_url, "user", "password", "钱七", stdin=NEW_PASSWORD + "\n"
    )
    unknown = banshui(
        tmp_path, database_url, "user", "password", "无此人", stdin=NEW_PASSWORD
    )

    assert reset.exit_code == 0, reset.stderr
    assert "钱七" in reset.stderr
    assert NEW_PASSWORD not in reset.stdout + reset.stderr
    assert unknown.exit_code == 1 and "无此人" in unknown.stderr
    hashed, actors = asyncio.run(stored(database_url, "钱七"))
    assert password_matches(hashed, NEW_PASSWORD)
    assert actors == ["cli"]


def _header(shown: str) -> list[str]:
    """The column names of the table a command printed."""
    line = next(line for line in shown.splitlines() if "┃" in line)
    return [cell.strip() for cell in line.split("┃")[1:-1]]


def test_user_list_shows_the_columns_user_add_prints_with_the_role_label(
    tmp_path: Path, database_url: str
) -> None:
    added = banshui(
        tmp_path, database_url, "user", "add", "钱七", "--role", "admin", stdin=PASSWORD
    )
    listed = banshui(tmp_path, database_url, "user", "list")

    assert added.exit_code == 0 and listed.exit_code == 0, listed.stderr
    assert "role_label" in _header(added.stdout)
    assert _header(listed.stdout) == _header(added.stdout)
    assert "管理员" in listed.stdout
