"""A fresh banshui database and the number side's cast, for chat and number tests.

``tests/numbers`` has no ``__init__.py`` (a package named ``numbers`` would
shadow the standard library's), so its modules import these helpers from here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from banshui.audit.models import AuditEntry
from banshui.chat.models import ChatSender
from banshui.core.clock import ManualClock
from banshui.core.settings import Settings
from banshui.demo.cast import ZHANG_SAN, A
from banshui.numbers.customers import NewCustomer, add_customer
from banshui.numbers.models import Customer, Number
from banshui.runtime import Runtime, build_runtime

# 10:00 in Shanghai, the demo's pinned morning.
MORNING = datetime.fromisoformat("2026-12-03T10:00:00+08:00")
CUSTOMER = "示例号商"
TAX_ID = A.tax_id  # 深圳市示例甲科技有限公司
REAL_PHONE = ZHANG_SAN.real_phone
# A sub-number the demo cast does not use, written as the guide's example is.
SUB_NUMBER = "13188888888"
PLACEHOLDER_TAX_ID = "918888888888888888"  # the guide's example: fails the check


@asynccontextmanager
async def fresh_runtime(
    folder: Path, database_url: str, clock: ManualClock | None = None
) -> AsyncIterator[Runtime]:
    """banshui's parts on the test's database, migrated as start-up leaves it."""
    settings = Settings(
        database_url=database_url,
        var_dir=folder,
        simulator="off",
        sandbox="off",
    )
    runtime = build_runtime(settings, clock or ManualClock(MORNING))
    try:
        yield runtime
    finally:
        await runtime.close()


async def new_customer(runtime: Runtime, name: str = CUSTOMER) -> NewCustomer:
    return await add_customer(
        runtime.db, runtime.vault, runtime.clock, name, actor="test"
    )


def bind_text(customer: NewCustomer, **changes: str) -> str:
    """A 绑定小号 command for the customer; any field replaced by keyword."""
    fields = {
        "tax_id": TAX_ID,
        "app_key": customer.customer.app_key,
        "app_secret": customer.app_secret,
        "real_phone": REAL_PHONE,
        "sub_number": SUB_NUMBER,
    }
    fields.update(changes)
    return "#".join(["绑定小号", *fields.values()])


async def row_counts(runtime: Runtime) -> dict[str, int]:
    """Rows of every table a chat command may write."""
    counts = {}
    async with runtime.db.session() as session:
        for model in (Number, Customer, AuditEntry, ChatSender):
            total = await session.scalar(select(func.count()).select_from(model))
            counts[model.__tablename__] = int(total or 0)
    return counts


async def audit_actions(runtime: Runtime) -> list[tuple[str, str, str]]:
    async with runtime.db.session() as session:
        rows = await session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject).order_by(
                AuditEntry.id
            )
        )
        return [(actor, action, subject) for actor, action, subject in rows]


async def number_row(runtime: Runtime, msisdn: str) -> Number | None:
    async with runtime.db.session() as session:
        row: Number | None = await session.scalar(
            select(Number).where(Number.msisdn == msisdn)
        )
    return row


def banshui_cli(
    folder: Path, database_url: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``python -m banshui …`` on that database, as an operator runs it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BANSHUI_")
    }
    env["BANSHUI_DATABASE_URL"] = database_url
    env["BANSHUI_VAR_DIR"] = str(folder)
    # S603: the arguments are the test's own, not outside input.
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "banshui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
