"""Reading posted form fields, with errors in Chinese that name the field."""

from __future__ import annotations

from starlette.datastructures import FormData

from banshui.core.errors import InvalidInput
from banshui.numbers.phones import normalize_mobile


def text(form: FormData, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def secret(form: FormData, name: str, limit: int = 200) -> str:
    """A password or secret: kept as typed, only bounded."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def required(form: FormData, name: str, label: str, limit: int = 200) -> str:
    value = text(form, name, limit)
    if not value:
        raise InvalidInput(f"请填写{label}。", field=name)
    return value


def checked(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "1", "true")


def mobile(form: FormData, name: str, label: str) -> str:
    value = required(form, name, label, 32)
    try:
        return normalize_mobile(value, field=name)
    except InvalidInput:
        raise InvalidInput(
            f"{label}应为 11 位中国大陆手机号码（可带 +86）。", field=name
        ) from None


def choice(form: FormData, name: str, label: str, allowed: dict[str, str]) -> str:
    value = text(form, name, 20)
    if value not in allowed:
        raise InvalidInput(f"请选择{label}。", field=name)
    return value


def identifier(form: FormData, name: str) -> int | None:
    value = text(form, name, 20)
    return int(value) if value.isdigit() else None
