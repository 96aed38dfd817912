"""Checking a channel's settings as given on the command line (``key=value``)."""

from __future__ import annotations

from banshui.core.errors import InvalidInput


def only(config: dict[str, str], allowed: set[str]) -> dict[str, str]:
    """The settings, stripped; an unknown key is refused by name."""
    for key in sorted(config):
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise InvalidInput(
                f"{key!r} is not a setting of this channel (known: {known})",
                field=f"config.{key}",
            )
    return {key: value.strip() for key, value in config.items()}


def required(config: dict[str, str], key: str) -> str:
    value = config.get(key, "")
    if not value:
        raise InvalidInput(f"{key} is required", field=f"config.{key}")
    return value


def http_url(value: str, key: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) > 1000:
        raise InvalidInput(
            f"{key} must be an http:// or https:// URL", field=f"config.{key}"
        )
    return value.rstrip("/")


def need_secret(secret: str | None, what: str) -> str:
    if not secret:
        raise InvalidInput(f"give {what} as the secret", field="secret")
    return secret


def no_secret(secret: str | None, why: str) -> None:
    if secret:
        raise InvalidInput(f"this channel takes no secret: {why}", field="secret")
