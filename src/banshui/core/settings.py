"""Settings from ``BANSHUI_*`` variables; a bad value stops start-up by name."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KEY_BYTES = 32


class SettingsError(Exception):
    """A setting that cannot be used; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANSHUI_", extra="ignore")

    database_url: str = "sqlite:///./var/banshui.db"
    var_dir: Path = Path("./var")
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    # The chat robot's bearer token; without one, /hooks/chat answers 503.
    chat_token: SecretStr | None = None
    chat_token_file: Path | None = None
    driver: Literal["http", "browser"] = "http"
    simulator: Literal["on", "off"] = "on"
    simulator_url: str | None = None
    # With the simulator embedded, seed both sides with the demo cast.
    sandbox: Literal["on", "off"] = "on"
    public_url: str = "http://127.0.0.1:8000"
    lease_seconds: int = Field(default=600, ge=10, le=86_400)
    code_timeout_seconds: float = Field(default=90.0, gt=0, le=3_600)
    code_skew_seconds: float = Field(default=5.0, ge=0, le=120)
    login_deadline_seconds: float = Field(default=600.0, gt=0, le=86_400)
    lease_sweep_seconds: float = Field(default=1.0, gt=0, le=60)
    # Idle live sessions are probed this often, so the bureau keeps them (§5.8).
    keepalive_seconds: float = Field(default=240.0, gt=0, le=86_400)
    # How long a bureau code lives: a number whose awaited code did not come gets
    # no new code for this long, since the late one may still arrive (§5.6).
    code_valid_seconds: float = Field(default=300.0, ge=0, le=3_600)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("simulator_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @property
    def simulator_embedded(self) -> bool:
        return self.simulator == "on" and self.simulator_url is None


def load_settings(**overrides: object) -> Settings:
    """Read the environment, turning pydantic's report into one sentence."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = "BANSHUI_" + str(first["loc"][0]).upper()
        raise SettingsError(f"{name}: {first['msg']}") from None

    # A key that was given is checked now, so a bad one stops start-up by name;
    # a missing one is only generated when the runtime is built.
    if settings.secret_key is not None or settings.secret_key_file is not None:
        load_secret_key(settings)
    return settings


def load_secret_key(settings: Settings) -> bytes:
    """The AES-GCM key: from the variable, from its file, or made on first run."""
    if settings.secret_key is not None:
        return _decode_key(settings.secret_key.get_secret_value(), "BANSHUI_SECRET_KEY")

    if settings.secret_key_file is not None:
        return _read_key_file(settings.secret_key_file, "BANSHUI_SECRET_KEY_FILE")

    path = settings.var_dir / "secret.key"
    if not path.exists():
        _write_new_key(path)
    return _read_key_file(path, "the generated key file")


def _decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(f"{name}: is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise SettingsError(f"{name}: must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


def _read_key_file(path: Path, name: str) -> bytes:
    try:
        text = path.read_text()
    except OSError as error:
        raise SettingsError(f"{name}: cannot read {path}: {error.strerror}") from None
    return _decode_key(text, name)


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(encoded + "\n")
