"""Settings from ``BANSHUI_*`` variables; a bad value stops start-up by name."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from banshui.core.private_files import private_dir

KEY_BYTES = 32
SIMULATOR_TOKEN_FILE = "simulator-admin-token"
# 12366 is the tax service hotline; the bureau's SP numbers end in it.
DEFAULT_BUREAU_SENDERS = ("12366", "106*12366")


class SettingsError(Exception):
    """A setting that cannot be used; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANSHUI_", extra="ignore")

    database_url: str = "sqlite:///./var/banshui.db"
    # PostgreSQL connections each process keeps open, and opens beyond them at
    # a peak; with two more of its own for LISTEN/NOTIFY (docs/deploy.md).
    database_pool_size: int = Field(default=5, ge=1, le=500)
    database_max_overflow: int = Field(default=10, ge=0, le=500)
    var_dir: Path = Path("./var")
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    # The chat robot's bearer token; without one, /hooks/chat answers 503.
    chat_token: SecretStr | None = None
    chat_token_file: Path | None = None
    driver: Literal["http", "browser"] = "http"
    # Region profiles (*.toml) to use instead of the shipped ones, which describe
    # the simulator's regions (drivers/profiles/).
    profiles_dir: Path | None = None
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
    # Whether this process runs the engine (logins, lease expiry, keep-alive):
    # off in API processes when ``banshui worker`` processes serve the logins.
    engine: Literal["on", "off"] = "on"
    # Login requests one engine process works on at once; more wait queued.
    engine_concurrency: int = Field(default=200, ge=1, le=10_000)
    # Server-sent event streams one tenant's API keys (or one console operator)
    # may hold open in one process; one more is answered 429.
    streams_per_tenant: int = Field(default=50, ge=1, le=100_000)
    # Reverse proxies believed about X-Forwarded-For: addresses or CIDRs, comma
    # separated. None by default, so no client can name its own address.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    # Senders whose SMS are the bureau's, comma separated; '*' stands for any
    # digits. A code from any other sender is kept but never used to log in.
    bureau_senders: Annotated[tuple[str, ...], NoDecode] = DEFAULT_BUREAU_SENDERS
    # The simulator's admin API answers only to this bearer token; without one, a
    # token is made into the var dir on first use.
    simulator_admin_token: SecretStr | None = None

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

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        networks = []
        for entry in value:
            try:
                networks.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (10.0.0.0/8)"
                ) from None
        return tuple(networks)

    @field_validator("simulator_admin_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("bureau_senders", mode="before")
    @classmethod
    def _sender_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("bureau_senders")
    @classmethod
    def _sender_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must name at least one sender, such as 12366")
        for pattern in value:
            if not pattern.strip("*").strip() or any(c in pattern for c in "?[] "):
                raise ValueError(
                    f"{pattern!r} is not a sender: write digits, with '*' for any"
                )
        return value

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

    # The var dir holds the key (and by default the database): its owner's only.
    private_dir(settings.var_dir)
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


def simulator_admin_token(settings: Settings) -> str:
    """The simulator's admin token: from the variable, or made into the var dir once.

    ``banshui serve`` and ``banshui sim`` on one machine share the var dir, and
    so the token; its file is the owner's alone.
    """
    if settings.simulator_admin_token is not None:
        return settings.simulator_admin_token.get_secret_value()

    private_dir(settings.var_dir)
    path = settings.var_dir / SIMULATOR_TOKEN_FILE
    if not path.exists():
        _write_new_secret(path, secrets.token_urlsafe(32))
    try:
        return path.read_text().strip()
    except OSError as error:
        raise SettingsError(f"cannot read {path}: {error.strerror}") from None


def _write_new_key(path: Path) -> None:
    _write_new_secret(path, base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode())


def _write_new_secret(path: Path, text: str) -> None:
    # O_EXCL: two processes starting at once must not write two different ones.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
