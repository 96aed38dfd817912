"""A cast for the deployment tests: persons working in two regions, each lane busy.

Person i has two sub-numbers; in 深圳 (4403) and in 湖北 (42) two enterprises
each, all served by one account on the first number (R9: at most five). Every
tax id and ID number is made up with valid check characters.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from stdnum.cn import ric, uscc

from banshui.accounts.service import Registry, Service
from banshui.accounts.tenants import add_tenant
from banshui.runtime import Runtime
from banshui.sms.sources import add_source, webhook_url

DIVISIONS = {"4403": "440300", "42": "420100"}
PER_REGION = 2


@dataclass
class Person:
    index: int
    name: str
    id_number: str
    password: str
    numbers: list[str]
    sim_id: str = ""


@dataclass
class Firm:
    tax_id: str
    name: str
    region: str
    person: int


@dataclass
class Cast:
    persons: list[Person]
    firms: list[Firm]
    api_key: str = ""
    # number → (source name, its secret)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def numbers(self) -> list[str]:
        return [number for person in self.persons for number in person.numbers]

    def lanes(self) -> set[tuple[int, str]]:
        return {(firm.person, firm.region) for firm in self.firms}


def make_cast(persons: int, seed: int = 11) -> Cast:
    rng = random.Random(seed)
    people = [
        Person(
            index=i,
            name=f"部署{i:02d}",
            id_number=_id_number(rng),
            password=f"Deploy-{secrets.token_hex(4)}",
            numbers=[f"1993{i:03d}{slot:04d}" for slot in range(2)],
        )
        for i in range(persons)
    ]
    firms = [
        Firm(
            _tax_id(rng, DIVISIONS[region]),
            f"部署{i:02d}{region}示例{k}有限公司",
            region,
            i,
        )
        for i in range(persons)
        for region in DIVISIONS
        for k in range(PER_REGION)
    ]
    return Cast(people, firms)


async def seed_banshui(runtime: Runtime, cast: Cast) -> None:
    made = await add_tenant(runtime.db, runtime.clock, "部署集团", actor="test")
    assert made.api_key is not None
    cast.api_key = made.api_key
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    for firm in cast.firms:
        await registry.add_enterprise(made.tenant.id, firm.tax_id, firm.name)
    for person in cast.persons:
        added = await registry.add_person(
            made.tenant.id, person.name, person.id_number, person.password
        )
        for number in person.numbers:
            await registry.give_number(
                added.id, number, bound_phone=f"1380{person.index:07d}", actor="test"
            )
            await add_gateway(runtime, cast, number)
        services = [
            Service(firm.tax_id, "03", "receive", is_default=True)
            for firm in cast.firms
            if firm.person == person.index
        ]
        await registry.add_account(
            made.tenant.id, added.id, person.numbers[0], services, actor="test"
        )


async def add_gateway(runtime: Runtime, cast: Cast, number: str) -> None:
    """An SmsForwarder source for the number, its secret kept for the test."""
    name, secret = f"deploy-{number}", secrets.token_urlsafe(24)
    await add_source(
        runtime.db,
        runtime.vault,
        runtime.clock,
        kind="smsforwarder",
        name=name,
        secret=secret,
        number=number,
        actor="test",
    )
    cast.sources[number] = (name, secret)


async def seed_simulator(
    sim: httpx.AsyncClient, cast: Cast, servers: list[str]
) -> None:
    """The same cast at the bureau; each number's SMS go to one of the servers."""
    await _admin(sim, "POST", "/admin/reset", {"seed": 7})
    for firm in cast.firms:
        body = {"tax_id": firm.tax_id, "name": firm.name, "region": firm.region}
        await _admin(sim, "POST", "/admin/enterprises", body)
    turn = 0
    for person in cast.persons:
        body = {
            "name": person.name,
            "id_number": person.id_number,
            "password": person.password,
        }
        person.sim_id = str(
            (await _admin(sim, "POST", "/admin/persons", body))["person_id"]
        )
        real = {
            "person_id": person.sim_id,
            "phone": f"1380{person.index:07d}",
            "default": True,
        }
        await _admin(sim, "POST", "/admin/phones", real)
        for number in person.numbers:
            phone = {"person_id": person.sim_id, "phone": number, "default": False}
            await _admin(sim, "POST", "/admin/phones", phone)
            await _deliver(sim, cast, number, servers[turn % len(servers)])
            turn += 1
    for firm in cast.firms:
        relation = {
            "person_id": cast.persons[firm.person].sim_id,
            "tax_id": firm.tax_id,
            "identity_code": "03",
            "confirmed": True,
        }
        await _admin(sim, "POST", "/admin/relations", relation)


async def _deliver(
    sim: httpx.AsyncClient, cast: Cast, number: str, server: str
) -> None:
    name, secret = cast.sources[number]
    body = {
        "url": webhook_url(server, "smsforwarder", name),
        "kind": "smsforwarder",
        "secret": secret,
        "slot": 1,
        "device_mark": f"{name}-phone",
    }
    await _admin(sim, "PUT", f"/admin/deliveries/{number}", body)


async def _admin(
    sim: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await sim.request(method, path, json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def _tax_id(rng: random.Random, division: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + division + "".join(rng.choice(alphabet) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _id_number(rng: random.Random) -> str:
    birth = f"{rng.randint(1980, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = f"440305{birth}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")
