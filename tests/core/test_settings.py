"""Settings come from ``BANSHUI_*`` variables; a bad one stops start-up by name."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from banshui.core.settings import (
    Settings,
    SettingsError,
    load_secret_key,
    load_settings,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No BANSHUI_* of the machine leaks in, and ./var is the test's own."""
    for name in list(os.environ):
        if name.startswith("BANSHUI_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def key_text(length: int = 32) -> str:
    return base64.b64encode(os.urandom(length)).decode()


def test_without_variables_the_defaults_hold() -> None:
    settings = load_settings()

    assert settings.driver == "http"
    assert settings.database_url.startswith("sqlite:")
    assert settings.lease_seconds == 600


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BANSHUI_DRIVER", "chrome"),
        ("BANSHUI_DRIVER", ""),
        ("BANSHUI_DATABASE_URL", "mysql://root@localhost/banshui"),
        ("BANSHUI_DATABASE_URL", "banshui.db"),
        ("BANSHUI_LEASE_SECONDS", "ten minutes"),
        ("BANSHUI_LEASE_SECONDS", "0"),
        ("BANSHUI_LEASE_SECONDS", "-600"),
        ("BANSHUI_LEASE_SECONDS", "864000"),
        ("BANSHUI_SIMULATOR", "maybe"),
        ("BANSHUI_SIMULATOR_URL", "localhost:8001"),
    ],
)
def test_a_bad_value_stops_load_settings_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as refused:
        load_settings()

    message = str(refused.value)
    assert message.startswith(f"{variable}: ")
    assert len(message) > len(variable) + 2, "the message says what is wrong"
    assert "\n" not in message


def test_good_values_are_read_from_the_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BANSHUI_DRIVER", "browser")
    monkeypatch.setenv("BANSHUI_DATABASE_URL", f"sqlite:///{tmp_path / 'b.db'}")
    monkeypatch.setenv("BANSHUI_LEASE_SECONDS", "120")

    settings = load_settings()

    assert (settings.driver, settings.lease_seconds) == ("browser", 120)
    assert settings.database_url == f"sqlite:///{tmp_path / 'b.db'}"


def test_the_secret_key_is_generated_into_a_0600_file_on_first_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BANSHUI_VAR_DIR", str(tmp_path / "state"))

    key = load_secret_key(load_settings())

    path = tmp_path / "state" / "secret.key"
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(path.read_text().strip()) == key


def test_the_generated_key_is_reused_on_the_next_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BANSHUI_VAR_DIR", str(tmp_path / "state"))
    first = load_secret_key(load_settings())
    written = (tmp_path / "state" / "secret.key").read_text()

    again = load_secret_key(load_settings())

    assert again == first
    assert (tmp_path / "state" / "secret.key").read_text() == written


def test_the_default_var_dir_is_relative_to_where_banshui_runs(
    clean_environment: Path,
) -> None:
    load_secret_key(load_settings())

    assert (clean_environment / "var" / "secret.key").exists()


def test_a_key_from_the_variable_is_used_and_no_file_is_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = key_text()
    monkeypatch.setenv("BANSHUI_SECRET_KEY", text)
    monkeypatch.setenv("BANSHUI_VAR_DIR", str(tmp_path / "state"))

    key = load_secret_key(load_settings())

    assert key == base64.b64decode(text)
    assert not (tmp_path / "state" / "secret.key").exists()


@pytest.mark.parametrize(
    "value",
    [key_text(16), key_text(33), "not base64 at all!", ""],
    ids=["16-bytes", "33-bytes", "not-base64", "empty"],
)
def test_a_bad_secret_key_is_refused_by_name_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BANSHUI_SECRET_KEY", value)

    with pytest.raises(SettingsError) as refused:
        load_secret_key(load_settings())

    message = str(refused.value)
    assert message.startswith("BANSHUI_SECRET_KEY: ")
    assert not value or value not in message


def test_a_bad_secret_key_stops_load_settings_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSHUI_SECRET_KEY", key_text(16))

    with pytest.raises(SettingsError, match=r"^BANSHUI_SECRET_KEY: "):
        load_settings()


def test_the_secret_key_file_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = key_text()
    path = tmp_path / "banshui.key"
    path.write_text(text + "\n")
    monkeypatch.setenv("BANSHUI_SECRET_KEY_FILE", str(path))

    assert load_secret_key(load_settings()) == base64.b64decode(text)


@pytest.mark.parametrize(
    "content", [None, key_text(24)], ids=["missing", "wrong-length"]
)
def test_a_bad_secret_key_file_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "banshui.key"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("BANSHUI_SECRET_KEY_FILE", str(path))

    with pytest.raises(SettingsError, match=r"^BANSHUI_SECRET_KEY_FILE: "):
        load_secret_key(load_settings())


def test_settings_made_in_code_take_overrides_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSHUI_DRIVER", "browser")

    assert load_settings(driver="http").driver == "http"
    assert isinstance(load_settings(), Settings)
