"""The parts of one running banshui, built once and handed to every face."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from banshui.core.clock import Clock, SystemClock
from banshui.core.db import Database
from banshui.core.settings import Settings, load_secret_key
from banshui.core.vault import Vault
from banshui.events import Events, NoEvents
from banshui.sms.inbox import Inbox
from banshui.sms.notify import CodeNotifier


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    db: Database
    vault: Vault
    notifier: CodeNotifier
    inbox: Inbox
    extras: dict[str, object] = field(default_factory=dict)
    events: Events = field(default_factory=NoEvents)

    async def close(self) -> None:
        await self.db.close()


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    notifier = CodeNotifier()
    inbox = Inbox(
        db, clock, notifier, skew=timedelta(seconds=settings.code_skew_seconds)
    )
    return Runtime(
        settings=settings,
        clock=clock,
        db=db,
        vault=Vault(load_secret_key(settings)),
        notifier=notifier,
        inbox=inbox,
    )
