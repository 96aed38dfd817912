"""The three roles and what each may do, within its tenant or platform-wide."""

from __future__ import annotations

from enum import StrEnum

from banshui.core.errors import InvalidInput


class Role(StrEnum):
    """admin: everything, users too; operator: onboarding work; viewer: reads."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
LABELS = {Role.ADMIN: "管理员", Role.OPERATOR: "操作员", Role.VIEWER: "查看者"}


def validate_role(value: str, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not admin, operator or viewer", field=field
        ) from None


def may(role: Role, needed: Role) -> bool:
    """Whether ``role`` is ``needed`` or above it."""
    return RANK[role] >= RANK[needed]
