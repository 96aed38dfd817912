"""Where the engine reads a number's codes: the inbox here, or another provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from banshui.accounts.models import Account
from banshui.accounts.service import PROVIDER_SECRET_PURPOSE
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.vault import Vault
from banshui.numbers.models import Number
from banshui.provider.client import ProviderClient, RemoteCodes


class CodeSource(Protocol):
    """The wait interface (DESIGN §3): ``Inbox`` and ``RemoteCodes`` both speak it.

    A code asked for counts against the day from ``expect_code`` on; it is handed
    to that expectation only, once; a wait that times out gives the code up. A
    number awaits one code at a time: ``expect_code`` raises ``NumberAwaited``
    while another waiter's code is awaited there.
    """

    async def expect_code(self, number: str, waiter: str) -> int: ...

    async def wait_for_code(
        self, expectation_id: int, seconds: float
    ) -> str | None: ...

    async def withdraw(self, expectation_id: int) -> None: ...

    async def spent_today(self, number: str) -> int: ...


class LocalCodes(CodeSource, Protocol):
    """The inbox of this banshui: it also forgets the waits of stopped runs."""

    async def give_up(self, waiter: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Hosted:
    """A provider that receives a number's SMS, and how banshui signs to it."""

    url: str
    app_key: str
    app_secret_sealed: str


class CodeSources:
    """Each number's code source: its account's provider, else this inbox."""

    def __init__(
        self, db: Database, vault: Vault, clock: Clock, local: LocalCodes
    ) -> None:
        self._db = db
        self._vault = vault
        self._clock = clock
        self._local = local
        self._remote: dict[tuple[str, str], RemoteCodes] = {}
        self._clients: list[ProviderClient] = []

    async def of(self, number: str) -> CodeSource:
        hosted = await self.hosted(number)
        if hosted is None:
            return self._local
        return self._remote_codes(hosted)

    async def hosted(self, number: str) -> Hosted | None:
        provider = (
            select(
                Account.provider_url,
                Account.provider_app_key,
                Account.provider_app_secret_sealed,
            )
            .join(Number, Number.id == Account.number_id)
            .where(Number.msisdn == number, Account.provider_url.is_not(None))
            .order_by(Account.id)
            .limit(1)
        )
        row = await self._db.run_read(lambda session: session.execute(provider).first())
        if row is None or row[1] is None or row[2] is None:
            return None
        return Hosted(url=str(row[0]), app_key=row[1], app_secret_sealed=row[2])

    async def give_up(self, waiter: str) -> None:
        """A run that stopped awaits no code here any more (a provider's codes
        are claimed by time, so nothing is held there)."""
        await self._local.give_up(waiter)

    async def close(self) -> None:
        for client in self._clients:
            await client.close()
        self._clients.clear()
        self._remote.clear()

    def _remote_codes(self, hosted: Hosted) -> RemoteCodes:
        # One per provider and key: it remembers what this process asked there.
        key = (hosted.url, hosted.app_key)
        remote = self._remote.get(key)
        if remote is None:
            secret = self._vault.open(hosted.app_secret_sealed, PROVIDER_SECRET_PURPOSE)
            client = ProviderClient(hosted.url, hosted.app_key, secret)
            self._clients.append(client)
            remote = self._remote[key] = RemoteCodes(client, self._db, self._clock)
        return remote
