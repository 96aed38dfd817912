"""``banshui customer``, ``banshui bind`` and ``banshui number`` as subprocesses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from banshui.core.clock import shanghai_day
from chat.world import REAL_PHONE, SUB_NUMBER, TAX_ID, banshui_cli


def _customer_add(folder: Path, database_url: str) -> dict[str, Any]:
    made = banshui_cli(folder, database_url, "customer", "add", "示例号商", "--json")
    assert made.returncode == 0, made.stderr
    created: dict[str, Any] = json.loads(made.stdout)
    return created


def _bind_text(customer: dict[str, Any], secret: str | None = None) -> str:
    fields = [TAX_ID, customer["app_key"], secret or customer["app_secret"]]
    return "#".join(["绑定小号", *fields, REAL_PHONE, SUB_NUMBER])


def test_customer_add_json_prints_the_app_key_and_secret_and_list_never_does(
    tmp_path: Path, database_url: str
) -> None:
    created = _customer_add(tmp_path, database_url)

    listed = banshui_cli(tmp_path, database_url, "customer", "list", "--json")

    assert set(created) == {"id", "name", "app_key", "app_secret"}
    assert len(created["app_secret"]) >= 32
    assert json.loads(listed.stdout)[0]["app_key"] == created["app_key"]
    assert created["app_secret"] not in listed.stdout


def test_bind_succeeds_with_the_printed_credentials_and_names_a_wrong_secret(
    tmp_path: Path, database_url: str
) -> None:
    created = _customer_add(tmp_path, database_url)

    wrong = banshui_cli(
        tmp_path, database_url, "bind", _bind_text(created, secret="WRONG" * 8)
    )
    bound = banshui_cli(tmp_path, database_url, "bind", _bind_text(created))

    assert wrong.returncode == 1
    assert wrong.stdout.strip() == "绑定失败：appsecret 与 appkey 不匹配"
    assert bound.returncode == 0, bound.stdout + bound.stderr
    assert bound.stdout.splitlines()[0] == "绑定小号成功"
    assert created["app_secret"] not in bound.stdout


def test_number_list_shows_the_binding_masked_with_the_service_end_warning(
    tmp_path: Path, database_url: str
) -> None:
    created = _customer_add(tmp_path, database_url)
    assert (
        banshui_cli(tmp_path, database_url, "bind", _bind_text(created)).returncode == 0
    )
    ends_on = shanghai_day(datetime.now(UTC)) + timedelta(days=10)
    banshui_cli(
        tmp_path,
        database_url,
        "number",
        "service-ends",
        SUB_NUMBER,
        ends_on.isoformat(),
    )

    listed = banshui_cli(tmp_path, database_url, "number", "list", "--json")

    [row] = json.loads(listed.stdout)
    assert row["number"] == SUB_NUMBER
    assert row["customer"] == "示例号商"
    assert row["bound_phone"] == "138****8000"
    assert row["tax_id"] == TAX_ID
    assert row["service_ends_on"] == ends_on.isoformat()
    assert row["warning"] == "服务 10 天后到期"
    assert REAL_PHONE not in listed.stdout
