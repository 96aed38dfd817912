"""The chat robot's bearer token, from its variable or its file, checked at start-up."""

from __future__ import annotations

import hmac

from banshui.core.settings import Settings, SettingsError

MIN_TOKEN = 16


def load_chat_token(settings: Settings) -> str | None:
    """The token, or None when the robot is not configured; a bad one stops start."""
    if settings.chat_token is not None:
        return _checked(settings.chat_token.get_secret_value(), "BANSHUI_CHAT_TOKEN")

    path = settings.chat_token_file
    if path is None:
        return None
    try:
        text = path.read_text()
    except OSError as error:
        raise SettingsError(
            f"BANSHUI_CHAT_TOKEN_FILE: cannot read {path}: {error.strerror}"
        ) from None
    return _checked(text, "BANSHUI_CHAT_TOKEN_FILE")


def token_matches(expected: str, given: str) -> bool:
    """Compared in constant time."""
    return hmac.compare_digest(expected.encode(), given.encode())


def _checked(text: str, name: str) -> str:
    token = text.strip()
    if len(token) < MIN_TOKEN:
        raise SettingsError(f"{name}: must be at least {MIN_TOKEN} characters")
    return token
