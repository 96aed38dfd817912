"""The ``banshui`` command, run as a person or a script runs it: in a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BUREAU_SMS = "【中国税务】您的登录验证码：418207，请确认是本人操作。"
BANK_SMS = "【招商银行】您的验证码为123456，5分钟内有效。"
NOTICE_SMS = "【中国税务】您本月的增值税申报期截止至15日，请按时申报。"


def banshui(
    folder: Path, database_url: str, *arguments: str, stdin: str = "", **variables: str
) -> subprocess.CompletedProcess[str]:
    """``python -m banshui …`` on that database, with its var dir in ``folder``."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("BANSHUI_")
    }
    environment |= {
        "BANSHUI_DATABASE_URL": database_url,
        "BANSHUI_VAR_DIR": str(folder / "var"),
        "COLUMNS": "80",  # an 80-column terminal, whatever runs pytest
        **variables,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "banshui", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=folder,
        timeout=60,
        check=False,
    )


def said(finished: subprocess.CompletedProcess[str]) -> str:
    """Standard error as one line: the console wraps long messages."""
    return " ".join(finished.stderr.split())


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_parse_reads_lines_and_prints_code_and_kind_for_each(
    tmp_path: Path, database_url: str
) -> None:
    lines = f"{BUREAU_SMS}\n\n{BANK_SMS}\n{NOTICE_SMS}\n"

    finished = banshui(tmp_path, database_url, "parse", stdin=lines)

    assert finished.returncode == 0, finished.stderr
    parsed = [(row["code"], row["kind"]) for row in json_lines(finished.stdout)]
    assert parsed == [
        ("418207", "bureau_login"),
        ("123456", "verification"),
        (None, "notice"),
    ]


def test_parse_jsonl_reads_the_text_field(tmp_path: Path, database_url: str) -> None:
    rows = [{"id": "s1", "text": BUREAU_SMS}, {"text": NOTICE_SMS}]
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)

    finished = banshui(tmp_path, database_url, "parse", "--jsonl", stdin=lines)

    assert finished.returncode == 0, finished.stderr
    parsed = [(row["code"], row["kind"]) for row in json_lines(finished.stdout)]
    assert parsed == [("418207", "bureau_login"), (None, "notice")]


def test_parse_jsonl_names_the_line_that_is_not_json(
    tmp_path: Path, database_url: str
) -> None:
    lines = json.dumps({"text": BANK_SMS}) + "\n" + "{not json\n"

    finished = banshui(tmp_path, database_url, "parse", "--jsonl", stdin=lines)

    assert finished.returncode != 0
    assert "line 2" in said(finished)


def test_tenant_add_prints_the_api_key_once_and_refuses_the_same_name(
    tmp_path: Path, database_url: str
) -> None:
    made = banshui(tmp_path, database_url, "tenant", "add", "示例集团", "--json")
    again = banshui(tmp_path, database_url, "tenant", "add", "示例集团", "--json")

    assert made.returncode == 0, made.stderr
    tenant = json.loads(made.stdout)
    assert tenant["name"] == "示例集团"
    assert str(tenant["api_key"]).startswith("bsk_")
    assert again.returncode != 0
    assert again.stdout == ""
    assert "示例集团" in said(again) and "exists already" in said(again)
    assert "Traceback" not in again.stderr


def test_source_add_prints_the_webhook_url_as_json(
    tmp_path: Path, database_url: str
) -> None:
    finished = banshui(
        tmp_path,
        database_url,
        "source",
        "add",
        "smsforwarder",
        "zhangsan-redmi",
        "--secret",
        "zhangsan-redmi-7f3a9c1e",
        "--number",
        "+86 199 1234 0001",
        "--json",
    )

    assert finished.returncode == 0, finished.stderr
    source = json.loads(finished.stdout)
    assert source["webhook_url"] == (
        "http://127.0.0.1:8000/hooks/sms/smsforwarder/zhangsan-redmi"
    )
    assert "zhangsan-redmi-7f3a9c1e" not in finished.stdout + finished.stderr


def test_source_add_prints_the_whole_webhook_url_for_a_person(
    tmp_path: Path, database_url: str
) -> None:
    finished = banshui(
        tmp_path,
        database_url,
        "source",
        "add",
        "smsforwarder",
        "zhangsan-redmi",
        "--secret",
        "zhangsan-redmi-7f3a9c1e",
        "--number",
        "19912340001",
    )

    assert finished.returncode == 0, finished.stderr
    assert "/hooks/sms/smsforwarder/zhangsan-redmi" in finished.stdout


def test_source_add_without_a_number_is_refused_naming_it(
    tmp_path: Path, database_url: str
) -> None:
    finished = banshui(
        tmp_path,
        database_url,
        "source",
        "add",
        "smsforwarder",
        "zhangsan-redmi",
        "--secret",
        "zhangsan-redmi-7f3a9c1e",
    )

    assert finished.returncode != 0
    assert finished.stdout == ""
    assert "(number)" in said(finished)
    assert "Traceback" not in finished.stderr


@pytest.mark.sqlite_only
def test_serve_with_two_workers_on_sqlite_refuses_and_says_postgresql(
    tmp_path: Path, database_url: str
) -> None:
    finished = banshui(tmp_path, database_url, "serve", "--workers", "2", "--port", "0")

    assert finished.returncode != 0
    assert "PostgreSQL" in said(finished)
    assert "Traceback" not in finished.stderr


def test_a_bad_setting_stops_a_command_with_its_name_not_a_traceback(
    tmp_path: Path, database_url: str
) -> None:
    short_key = "c2hvcnQ="  # base64 of 5 bytes

    finished = banshui(
        tmp_path,
        database_url,
        "tenant",
        "add",
        "示例集团",
        BANSHUI_SECRET_KEY=short_key,
    )

    assert finished.returncode != 0
    assert "BANSHUI_SECRET_KEY" in said(finished)
    assert short_key not in finished.stderr
    assert "Traceback" not in finished.stderr
