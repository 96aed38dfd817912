"""The kinds of events a webhook may subscribe to, and how a pattern matches."""

from __future__ import annotations

from banshui.core.errors import InvalidInput

# Published by the registry, in the transaction of the change.
ACCOUNT_CREATED = "account.created"
ACCOUNT_CHANGED = "account.changed"
ACCOUNT_REMOVED = "account.removed"

KINDS = (
    ACCOUNT_CREATED,
    ACCOUNT_CHANGED,
    ACCOUNT_REMOVED,
    # Published by the engine through ``runtime.events``.
    "session.dropped",
    "quota.nearly_exhausted",
    "person.needed",
    "number.moved",
)
FAMILIES = tuple(sorted({kind.split(".")[0] for kind in KINDS}))
EVERYTHING = "*"


def validate_pattern(pattern: str, field: str) -> str:
    """A known kind, a family such as ``account.*``, or ``*`` for every kind."""
    if pattern in KINDS or pattern == EVERYTHING:
        return pattern
    family, dot, rest = pattern.partition(".")
    if dot and rest == "*" and family in FAMILIES:
        return pattern
    raise InvalidInput(
        f"{pattern!r} is not an event kind banshui publishes", field=field
    )


def matches(patterns: list[str], kind: str) -> bool:
    # Kinds the engine adds later reach ``*`` and their family's pattern.
    family = kind.split(".")[0]
    return any(p in (kind, EVERYTHING, f"{family}.*") for p in patterns)
