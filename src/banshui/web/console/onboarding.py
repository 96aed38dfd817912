"""Persons, their numbers and each number's onboarding checklist (DESIGN §8).

bound → added at the bureau through the natural-person portal with 默认手机号 =
否 and the face check (R15) → configured as an account → test login passed.
The bureau cannot be asked whether a number was added, so that step is an
operator's tick (or follows from a login that worked); the others follow from
what banshui holds. Where a region refused to add the number (Shanghai, R10)
the checklist says to add it through another region: the bureau's data is
national.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from banshui.accounts.models import Account, Person, PersonNumber, Tenant
from banshui.accounts.uscc import region_name
from banshui.audit.log import record
from banshui.core.clock import Clock, shanghai_day
from banshui.login.models import LoginEvent, LoginRequest
from banshui.login.status import Status
from banshui.numbers.binding import WARNING_DAYS, service_warning
from banshui.numbers.models import Customer, Number
from banshui.runtime import Runtime
from banshui.web.console.models import BureauAddition, PortalRefusal
from banshui.web.console.scope import numbers_of_tenant
from banshui.web.templating import local_time

DAILY_CODES = 20  # R3

BIND = "请实施人员在对话机器人发送：绑定小号#税号#appkey#appsecret#真实手机号#小号。"
ADD = (
    "由本人登录电子税务局【自然人业务】→ 头像 → 账户中心 → 手机号码修改 → 添加手机号，"
    "选择「其他手机号」，填写小号和小号收到的验证码（见收件箱），默认手机号选「否」，"
    "再用国家网络身份认证 App 扫码完成人脸认证。"
)
REFUSED = (
    "{regions}税局拒绝添加（姓名证件手机号不匹配，可信认证）。同一自然人在全国任一地区"
    "的自然人业务数据互通：请切换到其他地区（如深圳、浙江、湖北）的税局添加（R10）。"
)
DEFAULT_YES = (
    "已添加，但设成了默认手机号：请在自然人业务中把默认手机号改为「否」（R6）。"
)
TICKED = "{who} 于 {at} 确认：已作为其他手机号添加，默认手机号 = 否，已完成人脸认证。"
PROVEN = "登录成功过，号码已在税局添加到本人名下。"
TICK = "本人添加后，请在下面勾选确认（平台无法向税局查询）。"
CONFIGURE = "在「企业」页为这个号码新增账号，登录类型选办税小号。"
TEST = "平台向税局要验证码、自动读取并登录，进度实时显示。"
NOT_YET = "号码登记到自然人并配置为账号后，才能测试登录。"


@dataclass(frozen=True, slots=True)
class Step:
    label: str
    done: bool
    detail: str
    warn: bool = False
    key: str = ""  # bound, added, configured, tested: what the page acts on


@dataclass(slots=True)
class NumberCard:
    number: Number
    owner_id: int | None
    default_at_bureau: bool
    customer: str | None
    spent_today: int
    service_warning: str | None
    accounts: list[Account]
    refused_in: list[str]
    tested_at: datetime | None
    # The operator's tick that the owner added it at the bureau (R15).
    addition: BureauAddition | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def quota_percent(self) -> int:
        return min(100, round(100 * self.spent_today / DAILY_CODES))

    @property
    def hosted(self) -> list[Account]:
        """Its accounts whose codes arrive at another provider."""
        return [account for account in self.accounts if account.provider_url]

    @property
    def can_test(self) -> bool:
        return bool(self.accounts) and self.owner_id is not None

    @property
    def needs_tick(self) -> bool:
        """Owned, but nobody has said yet that it was added at the bureau."""
        return (
            self.number.is_sub_number
            and self.owner_id is not None
            and self.addition is None
            and self.tested_at is None
        )


@dataclass(slots=True)
class PersonCard:
    person: Person
    tenant: str
    numbers: list[NumberCard] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Onboarding:
    persons: list[PersonCard]
    unowned: list[NumberCard]  # bound for the tenant, not yet on a person


async def onboarding(runtime: Runtime, tenant_id: int | None) -> Onboarding:
    async with runtime.db.session() as session:
        persons = await _persons(session, tenant_id)
        numbers = await _numbers(session, tenant_id)
        cards = await _cards(session, runtime.clock, numbers)
    for card in cards.values():
        card.spent_today = await runtime.inbox.spent_today(card.number.msisdn)

    by_person: dict[int, list[NumberCard]] = defaultdict(list)
    unowned = []
    for card in cards.values():
        if card.owner_id is None:
            unowned.append(card)
        else:
            by_person[card.owner_id].append(card)
    for person in persons:
        person.numbers = by_person.get(person.person.id, [])
    return Onboarding(persons, unowned)


async def _persons(session: AsyncSession, tenant_id: int | None) -> list[PersonCard]:
    query = (
        select(Person, Tenant.name)
        .join(Tenant, Tenant.id == Person.tenant_id)
        .order_by(Tenant.name, Person.name, Person.id)
    )
    if tenant_id is not None:
        query = query.where(Person.tenant_id == tenant_id)
    rows = await session.execute(query)
    return [PersonCard(person, tenant) for person, tenant in rows]


async def _numbers(session: AsyncSession, tenant_id: int | None) -> list[Number]:
    query = select(Number).order_by(Number.msisdn)
    if tenant_id is not None:
        query = query.where(Number.id.in_(numbers_of_tenant(tenant_id)))
    return list(await session.scalars(query))


async def _cards(
    session: AsyncSession, clock: Clock, numbers: list[Number]
) -> dict[int, NumberCard]:
    ids = [number.id for number in numbers]
    owners = {
        row.number_id: row
        for row in await session.scalars(
            select(PersonNumber).where(PersonNumber.number_id.in_(ids))
        )
    }
    customers = dict((await session.execute(select(Customer.id, Customer.name))).all())
    accounts = await _accounts(session, ids)
    refusals = await _refusals(session, ids)
    additions = await _additions(session, ids)
    tested = await _tested(session, [number.msisdn for number in numbers])
    today = shanghai_day(clock.now())

    cards = {}
    for number in numbers:
        owner = owners.get(number.id)
        card = NumberCard(
            number=number,
            owner_id=owner.person_id if owner else None,
            default_at_bureau=bool(owner and owner.default_at_bureau),
            customer=customers.get(number.customer_id) if number.customer_id else None,
            spent_today=0,
            service_warning=_warning(number.service_ends_on, today),
            accounts=accounts.get(number.id, []),
            refused_in=refusals.get(number.id, []),
            tested_at=tested.get(number.msisdn),
        )
        addition = additions.get(number.id)
        if owner is not None and addition and addition.person_id == owner.person_id:
            card.addition = addition
        card.steps = checklist(card)
        cards[number.id] = card
    return cards


def _warning(ends_on: date | None, today: date) -> str | None:
    return service_warning(ends_on, today, WARNING_DAYS)


async def _accounts(session: AsyncSession, ids: list[int]) -> dict[int, list[Account]]:
    found: dict[int, list[Account]] = defaultdict(list)
    rows = await session.scalars(
        select(Account).where(Account.number_id.in_(ids)).order_by(Account.id)
    )
    for account in rows:
        found[account.number_id].append(account)
    return found


async def _refusals(session: AsyncSession, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = await session.scalars(
        select(PortalRefusal)
        .where(PortalRefusal.number_id.in_(ids))
        .order_by(PortalRefusal.id)
    )
    for row in rows:
        name = region_name(row.region)
        if name not in found[row.number_id]:
            found[row.number_id].append(name)
    return found


async def _additions(
    session: AsyncSession, ids: list[int]
) -> dict[int, BureauAddition]:
    """The latest tick of each number."""
    rows = await session.scalars(
        select(BureauAddition)
        .where(BureauAddition.number_id.in_(ids))
        .order_by(BureauAddition.id)
    )
    return {row.number_id: row for row in rows}


async def _tested(session: AsyncSession, msisdns: list[str]) -> dict[str, datetime]:
    """The last time a login on each number reached a session."""
    rows = await session.execute(
        select(LoginRequest.number, func.max(LoginEvent.at))
        .join(LoginEvent, LoginEvent.login_id == LoginRequest.id)
        .where(
            LoginRequest.number.in_(msisdns),
            LoginEvent.status == Status.SUCCEEDED,
        )
        .group_by(LoginRequest.number)
    )
    return {number: at for number, at in rows if number is not None}


def checklist(card: NumberCard) -> list[Step]:
    number = card.number
    bound = number.bound_phone is not None or number.customer_id is not None
    if not number.is_sub_number:
        first = Step("绑定", True, "真实手机号，无需绑定。")
    elif card.hosted:
        first = Step("绑定", True, "由其他服务商托管，appKey/appSecret 已保存。")
    else:
        first = Step("绑定", bound, "已绑定真实手机号。" if bound else BIND)
    steps = [first, _added(card), _configured(card), _tested_step(card)]
    keys = ("bound", "added", "configured", "tested")
    return [replace(step, key=key) for step, key in zip(steps, keys, strict=True)]


def _added(card: NumberCard) -> Step:
    label = "在税局添加"
    if not card.number.is_sub_number and card.owner_id is not None:
        return Step(label, True, "本人的真实手机号，无需添加。")
    if card.owner_id is not None and card.default_at_bureau:
        return Step(label, True, DEFAULT_YES, warn=True)
    if card.addition is not None:
        who = card.addition.noted_by.removeprefix("console:")
        at = local_time(card.addition.noted_at, "%Y-%m-%d %H:%M")
        return Step(label, True, TICKED.format(who=who, at=at))
    if card.owner_id is not None and card.tested_at is not None:
        return Step(label, True, PROVEN)
    if card.refused_in:
        regions = "、".join(card.refused_in)
        return Step(label, False, REFUSED.format(regions=regions), warn=True)
    if card.owner_id is not None:
        return Step(label, False, f"{ADD}{TICK}")
    return Step(label, False, ADD)


def _configured(card: NumberCard) -> Step:
    if card.accounts:
        count = len(card.accounts)
        return Step("在平台配置", True, f"已配置为 {count} 个电子税局账号。")
    return Step("在平台配置", False, CONFIGURE)


def _tested_step(card: NumberCard) -> Step:
    if card.tested_at is not None:
        return Step("测试登录", True, "登录成功。")
    return Step("测试登录", False, TEST if card.can_test else NOT_YET)


async def note_refusal(
    session: AsyncSession, clock: Clock, number: Number, region: str, actor: str
) -> None:
    """A region refused to add the number (R10): the checklist points elsewhere."""
    session.add(
        PortalRefusal(
            number_id=number.id, region=region, noted_by=actor, noted_at=clock.now()
        )
    )
    record(
        session,
        clock,
        actor=actor,
        action="number.portal_refused",
        subject=f"number:{number.msisdn}",
        detail=f"region:{region}",
    )


def note_addition(
    session: AsyncSession, clock: Clock, number: Number, person_id: int, actor: str
) -> None:
    """The operator's tick: the person added the number at the bureau (R15)."""
    session.add(
        BureauAddition(
            number_id=number.id,
            person_id=person_id,
            noted_by=actor,
            noted_at=clock.now(),
        )
    )
    record(
        session,
        clock,
        actor=actor,
        action="number.added_at_bureau",
        subject=f"number:{number.msisdn}",
        detail=f"person:{person_id} default_phone:no face_check:done",
    )
