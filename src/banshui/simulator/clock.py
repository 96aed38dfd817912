"""The bureau's clock: real time unless the admin API pins or moves it."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def wall_now() -> datetime:
    """Real time, for what happens outside the bureau (a phone receiving an SMS)."""
    return datetime.now(UTC)


def bureau_day(moment: datetime) -> date:
    """The Asia/Shanghai calendar day a moment falls on: the day R3 counts by."""
    return moment.astimezone(SHANGHAI).date()


class SimClock:
    """Follows real time by default; tests pin it and move it instead of sleeping."""

    def __init__(self, source: Callable[[], datetime] = wall_now) -> None:
        self._source = source
        self._pinned: datetime | None = None
        self._offset = timedelta()

    @property
    def pinned(self) -> bool:
        return self._pinned is not None

    def now(self) -> datetime:
        base = self._pinned if self._pinned is not None else self._source()
        return (base + self._offset).astimezone(SHANGHAI)

    def pin(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("the clock can only be pinned to a time with an offset")

        self._pinned = at
        self._offset = timedelta()

    def unpin(self) -> None:
        self._pinned = None
        self._offset = timedelta()

    def advance(self, seconds: float) -> None:
        self._offset += timedelta(seconds=seconds)
