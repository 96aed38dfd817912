"""``banshui source add`` prints the webhook URL the server really answers to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select

from banshui.core.db import sync_url
from banshui.sms.models import Source

PUBLIC = "https://banshui.example.com"


def source_add(
    folder: Path, database_url: str, *arguments: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")},
        "BANSHUI_DATABASE_URL": database_url,
        "BANSHUI_VAR_DIR": str(folder / "var"),
        "COLUMNS": "200",
        **variables,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "banshui", "source", "add", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def stored_public_url(database_url: str, name: str) -> str | None:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            found = connection.execute(
                select(Source.public_url).where(Source.name == name)
            ).scalar_one()
    finally:
        engine.dispose()
    return found


def said(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join(done.stderr.split())


SMSFORWARDER = ("smsforwarder", "zhang-phone", "--secret", "zhang-phone-secret-01")
SMSFORWARDER_NUMBER = ("--number", "19912340001", "--json")
TWILIO = ("twilio", "twilio-cn", "--secret", "twilio-auth-token-0001", "--json")


def test_the_url_is_built_from_banshui_public_url_when_it_is_set(
    tmp_path: Path, database_url: str
) -> None:
    done = source_add(
        tmp_path,
        database_url,
        *SMSFORWARDER,
        *SMSFORWARDER_NUMBER,
        BANSHUI_PUBLIC_URL=PUBLIC,
    )

    assert done.returncode == 0, done.stderr
    url = json.loads(done.stdout)["webhook_url"]
    assert url == f"{PUBLIC}/hooks/sms/smsforwarder/zhang-phone"
    assert "BANSHUI_PUBLIC_URL" not in done.stderr


def test_without_banshui_public_url_the_printed_url_says_what_it_assumes(
    tmp_path: Path, database_url: str
) -> None:
    done = source_add(tmp_path, database_url, *SMSFORWARDER, *SMSFORWARDER_NUMBER)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["webhook_url"].startswith("http://127.0.0.1:8000/")
    assert "BANSHUI_PUBLIC_URL is not set" in said(done)


def test_a_twilio_source_without_a_known_public_url_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    done = source_add(tmp_path, database_url, *TWILIO, "--number", "19912340001")

    assert done.returncode == 1
    assert done.stdout == ""
    assert "--public-url" in said(done) and "BANSHUI_PUBLIC_URL" in said(done)
    assert "Traceback" not in done.stderr


def test_a_twilio_source_is_checked_against_exactly_the_url_printed_for_it(
    tmp_path: Path, database_url: str
) -> None:
    done = source_add(
        tmp_path,
        database_url,
        *TWILIO,
        "--number",
        "19912340001",
        BANSHUI_PUBLIC_URL=PUBLIC,
    )

    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)["webhook_url"]
    assert printed == f"{PUBLIC}/hooks/sms/twilio/twilio-cn"
    # Pinned on the source: a server started with another host or port still
    # checks Twilio's signature over this URL.
    assert stored_public_url(database_url, "twilio-cn") == printed


def test_an_explicit_public_url_wins_for_any_gateway(
    tmp_path: Path, database_url: str
) -> None:
    given = "https://proxy.example.com/in/zhang"

    done = source_add(
        tmp_path,
        database_url,
        *SMSFORWARDER,
        *SMSFORWARDER_NUMBER,
        "--public-url",
        given,
        BANSHUI_PUBLIC_URL=PUBLIC,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["webhook_url"] == given
    assert stored_public_url(database_url, "zhang-phone") == given
