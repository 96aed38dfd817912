"""Domain events other parts may act on (outbound webhooks, the console)."""

from __future__ import annotations

from typing import Any, Protocol


class Events(Protocol):
    async def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Record that ``kind`` happened; ``data`` holds no secret."""
        ...


class NoEvents:
    """Until something subscribes, events go nowhere."""

    async def publish(self, kind: str, data: dict[str, Any]) -> None:
        return None
