"""A seeded cast for a simulated day: enterprises, persons, their numbers and accounts.

Every tax id and ID number is made up, with valid check characters, so that both
sides validate them as real ones. The same seed gives the same cast.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from stdnum.cn import ric, uscc

from banshui.accounts.service import Registry, Service
from banshui.accounts.tenants import add_tenant
from banshui.runtime import Runtime
from banshui.sms.models import Source
from banshui.sms.sources import SECRET_PURPOSE, add_source, webhook_url

# Region → a division code in it (characters 3–8 of the USCC).
DIVISIONS = {
    "4403": "440300",  # 深圳
    "42": "420100",  # 湖北
    "11": "110105",  # 北京
    "32": "320500",  # 江苏
    "3502": "350200",  # 厦门
    "33": "330100",  # 浙江
}
ACCOUNT_ENTERPRISES = 5  # R9: an account should serve at most 5 enterprises
ISSUER_SHARE = 0.25  # enterprises that also have an issuing person (开票员)
TENANT = "基准集团"


@dataclass
class Person:
    index: int
    name: str
    id_number: str
    password: str
    real_phone: str
    numbers: list[str]
    regions: list[str]
    banshui_id: int = 0
    sim_id: str = ""


@dataclass
class Enterprise:
    index: int
    tax_id: str
    name: str
    region: str
    receiver: int  # a person's index
    issuer: int | None = None


@dataclass
class Cast:
    persons: list[Person]
    enterprises: list[Enterprise]
    tenant_id: int = 0
    api_key: str = ""
    sources: dict[str, str] = field(default_factory=dict)  # number → source name

    def lane_of(self, enterprise: Enterprise, business: str) -> tuple[int, str]:
        """(person index, region): the lane a request of this kind waits in."""
        person = enterprise.issuer if business == "issue" else enterprise.receiver
        assert person is not None
        return person, enterprise.region


def make_cast(rng: random.Random, persons: int, enterprises: int, regions: int) -> Cast:
    """Persons working in 1–3 regions with 1–3 sub-numbers; enterprises among them."""
    used_regions = list(DIVISIONS)[:regions]
    people = [_person(rng, index, used_regions) for index in range(persons)]
    firms = [
        _enterprise(rng, index, used_regions, people) for index in range(enterprises)
    ]
    return Cast(people, firms)


def _person(rng: random.Random, index: int, regions: list[str]) -> Person:
    count = rng.choices([1, 2, 3], weights=[2, 5, 3])[0]
    numbers = [f"1991{index:03d}{slot:04d}" for slot in range(count)]
    spread = rng.choices([1, 2, 3], weights=[4, 4, 2])[0]
    worked = rng.sample(regions, min(spread, len(regions)))
    return Person(
        index=index,
        name=f"员工{index:03d}",
        id_number=_id_number(rng),
        password=f"Bench-{secrets.token_hex(4)}",
        real_phone=f"1380{index:07d}",
        numbers=numbers,
        regions=worked,
    )


def _enterprise(
    rng: random.Random, index: int, regions: list[str], people: list[Person]
) -> Enterprise:
    region = rng.choice(regions)
    there = [p.index for p in people if region in p.regions]
    if not there:  # nobody works there yet: the first person takes it on
        people[0].regions.append(region)
        there = [0]
    receiver = rng.choice(there)
    issuers = [p for p in there if p != receiver] or there
    issuer = rng.choice(issuers) if rng.random() < ISSUER_SHARE else None
    return Enterprise(
        index=index,
        tax_id=_tax_id(rng, DIVISIONS[region]),
        name=f"基准{region}示例{index:04d}有限公司",
        region=region,
        receiver=receiver,
        issuer=issuer,
    )


def _tax_id(rng: random.Random, division: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + division + "".join(rng.choice(alphabet) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _id_number(rng: random.Random) -> str:
    # 南山区 (440305) exists since 1990: people born there later, so the place
    # is a valid one at their birth date.
    birth = f"{rng.randint(1991, 2003)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = f"440305{birth}{rng.randint(0, 999):03d}"
    # stdnum wants the check position present (any digit) to compute it.
    return body + ric.calc_check_digit(body + "0")


async def seed_banshui(runtime: Runtime, cast: Cast) -> None:
    """The tenant, enterprises, persons, numbers, sources and accounts."""
    made = await add_tenant(runtime.db, runtime.clock, TENANT, actor="bench")
    cast.tenant_id, cast.api_key = made.tenant.id, made.api_key
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    for firm in cast.enterprises:
        await registry.add_enterprise(cast.tenant_id, firm.tax_id, firm.name)

    for person in cast.persons:
        added = await registry.add_person(
            cast.tenant_id, person.name, person.id_number, person.password
        )
        person.banshui_id = added.id
        for number in person.numbers:
            await registry.give_number(
                added.id, number, bound_phone=person.real_phone, actor="bench"
            )
            await _source(runtime, cast, number)
    await _accounts(registry, cast)


async def _source(runtime: Runtime, cast: Cast, number: str) -> None:
    name = f"sim-{number}"
    await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="smsforwarder",
        name=name,
        secret=secrets.token_urlsafe(24),
        number=number,
        actor="bench",
    )
    cast.sources[number] = name


async def _accounts(registry: Registry, cast: Cast) -> None:
    """Per person and business, accounts of up to 5 enterprises, numbers in turn."""
    for person in cast.persons:
        for business, identity in (("receive", "03"), ("issue", "09")):
            served = [
                firm
                for firm in cast.enterprises
                if (firm.issuer if business == "issue" else firm.receiver)
                == person.index
            ]
            for turn, start in enumerate(range(0, len(served), ACCOUNT_ENTERPRISES)):
                chunk = served[start : start + ACCOUNT_ENTERPRISES]
                services = [
                    Service(f.tax_id, identity, business, is_default=True)
                    for f in chunk
                ]
                number = person.numbers[turn % len(person.numbers)]
                await registry.add_account(
                    cast.tenant_id, person.banshui_id, number, services, actor="bench"
                )


async def seed_simulator(
    runtime: Runtime, admin: httpx.AsyncClient, cast: Cast, pinned: str, seed: int
) -> None:
    """The same cast at the simulated bureau; every SMS goes to its source's webhook."""
    await _admin(admin, "POST", "/admin/reset", {"seed": seed})
    await _admin(admin, "PUT", "/admin/clock", {"pinned": pinned})
    for firm in cast.enterprises:
        body = {"tax_id": firm.tax_id, "name": firm.name, "region": firm.region}
        await _admin(admin, "POST", "/admin/enterprises", body)

    for person in cast.persons:
        body = {
            "name": person.name,
            "id_number": person.id_number,
            "password": person.password,
        }
        person.sim_id = str(
            (await _admin(admin, "POST", "/admin/persons", body))["person_id"]
        )
        await _phone(admin, person.sim_id, person.real_phone, default=True)
        for number in person.numbers:
            await _phone(admin, person.sim_id, number, default=False)
            await _deliver(runtime, admin, cast, number)

    for firm in cast.enterprises:
        await _relation(admin, cast.persons[firm.receiver], firm, "03")
        if firm.issuer is not None:
            await _relation(admin, cast.persons[firm.issuer], firm, "09")


async def _phone(
    admin: httpx.AsyncClient, person_id: str, phone: str, default: bool
) -> None:
    body = {"person_id": person_id, "phone": phone, "default": default}
    await _admin(admin, "POST", "/admin/phones", body)


async def _relation(
    admin: httpx.AsyncClient, person: Person, firm: Enterprise, identity: str
) -> None:
    body = {
        "person_id": person.sim_id,
        "tax_id": firm.tax_id,
        "identity_code": identity,
        "confirmed": True,
    }
    await _admin(admin, "POST", "/admin/relations", body)


async def _deliver(
    runtime: Runtime, admin: httpx.AsyncClient, cast: Cast, number: str
) -> None:
    name = cast.sources[number]
    async with runtime.db.session() as session:
        source = await session.scalar(select(Source).where(Source.name == name))
    assert source is not None
    body = {
        "url": webhook_url(runtime.settings.public_url, "smsforwarder", name),
        "kind": "smsforwarder",
        "secret": runtime.vault.open(source.secret_sealed, SECRET_PURPOSE),
        "slot": 1,
        "device_mark": f"{name}-phone",
    }
    await _admin(admin, "PUT", f"/admin/deliveries/{number}", body)


async def _admin(
    admin: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await admin.request(method, path, json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer
