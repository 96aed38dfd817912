"""The parts of one running banshui, built once and handed to every face."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from banshui.core.bells import Bells, bells_for
from banshui.core.clock import Clock, SystemClock
from banshui.core.db import Database, Pool
from banshui.core.settings import Settings, load_secret_key
from banshui.core.streams import OpenStreams
from banshui.core.vault import Vault
from banshui.events import Events, NoEvents
from banshui.sms.inbox import Inbox
from banshui.sms.notify import CodeNotifier
from banshui.sms.sources import KnownSources


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    db: Database
    vault: Vault
    notifier: CodeNotifier
    inbox: Inbox
    # The gateways' sources, remembered briefly for their webhooks.
    sources: KnownSources
    extras: dict[str, object] = field(default_factory=dict)
    events: Events = field(default_factory=NoEvents)
    # Wake-ups in this process and, on PostgreSQL, across processes.
    bells: Bells = field(default_factory=Bells)
    # Server-sent event streams open in this process, by who holds them.
    streams: OpenStreams = field(default_factory=OpenStreams)

    async def close(self) -> None:
        await self.bells.close()
        await self.db.close()


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    # httpcore logs whole response headers at DEBUG, the bureau's Set-Cookie
    # among them: its wire log stays quiet even when everything else is loud.
    logging.getLogger("httpcore").setLevel(logging.INFO)
    clock = clock or SystemClock()
    pool = Pool(settings.database_pool_size, settings.database_max_overflow)
    db = Database(settings.database_url, pool)
    bells = bells_for(settings.database_url)
    notifier = CodeNotifier(bells)
    inbox = Inbox(
        db,
        clock,
        notifier,
        skew=timedelta(seconds=settings.code_skew_seconds),
        bureau_senders=settings.bureau_senders,
    )
    return Runtime(
        settings=settings,
        clock=clock,
        db=db,
        vault=Vault(load_secret_key(settings)),
        notifier=notifier,
        inbox=inbox,
        sources=KnownSources(db),
        bells=bells,
        streams=OpenStreams(settings.streams_per_tenant),
    )
