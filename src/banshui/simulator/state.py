"""Everything one simulated bureau remembers, in memory; no HTTP here."""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from banshui.simulator import errors
from banshui.simulator.clock import bureau_day
from banshui.simulator.faults import Faults
from banshui.simulator.phones import is_mobile

Cause = Literal["banshui", "manual", "portal"]
"""Who made the bureau send an SMS: a login through the API, the person logging in
by hand, or the person adding a phone at the natural-person portal."""

DeliveryState = Literal["kept", "pending", "delivered", "failed", "lost"]
EndReason = Literal["replaced", "dropped", "idle"]
LoginMode = Literal["sms", "session", "slider_sms"]
"""How a region's login continues after the password (R12)."""

GatewayKind = Literal["smsforwarder", "android-gateway", "twilio", "generic"]
FacePurpose = Literal["add_phone", "issue"]


@dataclass
class Person:
    """A natural person (自然人): one password for all their phones (R2)."""

    person_id: str
    name: str
    id_number: str
    password: str
    phones: list[str] = field(default_factory=list)
    default_phone: str | None = None


@dataclass(frozen=True)
class Enterprise:
    tax_id: str
    name: str
    region: str


@dataclass
class Relation:
    """A person's identity (身份) in an enterprise; only a confirmed one logs in."""

    person_id: str
    tax_id: str
    identity_code: str
    confirmed: bool
    face_check_on_issue: bool = False


@dataclass
class IssuedCode:
    value: str
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True)
class SliderChallenge:
    """A simulated slider captcha (滑块验证): drag the piece `offset` px of `width`."""

    challenge_id: str
    width: int
    offset: int


@dataclass
class Flow:
    """One login in progress (登录流程), from the password step to the identity."""

    flow_id: str
    person_id: str
    tax_id: str
    region: str
    phone: str | None
    cause: Cause
    started_at: datetime
    code: IssuedCode | None = None
    superseded: set[str] = field(default_factory=set)
    wrong_tries: int = 0
    locked: bool = False
    verified: bool = False
    finished: bool = False
    slider: SliderChallenge | None = None
    slider_passed: bool = False


@dataclass
class PhoneRequest:
    """Adding a phone at the natural-person portal (添加手机号 → 其他手机号, R15)."""

    request_id: str
    person_id: str
    phone: str
    default: bool
    region: str
    code: IssuedCode | None = None
    superseded: set[str] = field(default_factory=set)
    wrong_tries: int = 0
    locked: bool = False
    face_check_id: str | None = None
    moved_from: str | None = None
    added: bool = False


@dataclass
class FaceCheck:
    """A face check in 国家网络身份认证, waiting for the person to scan its QR code.

    `subject` is the portal request (add_phone) or the login flow (issue) it holds up.
    """

    face_check_id: str
    purpose: FacePurpose
    person_id: str
    subject: str
    created_at: datetime
    approved: bool = False
    tax_id: str | None = None
    identity_code: str | None = None


@dataclass
class Session:
    """A logged-in session of one person, in one region, acting for one enterprise."""

    token: str
    person_id: str
    region: str
    tax_id: str
    identity_code: str
    last_seen: datetime
    held: bool = False
    ended: EndReason | None = None


@dataclass
class Channel:
    """A client's secure channel (安全通道): the session key it sent under SM2.

    `seen` holds the signatures of the requests still inside the time window, so
    one is never taken twice.
    """

    channel_id: str
    sm4_key: bytes
    mac_key: bytes
    seen: dict[str, int] = field(default_factory=dict)


@dataclass
class Violations:
    """What a well-behaved platform never makes the bureau see."""

    lease_broken: int = 0
    code_reused: int = 0
    over_quota_requests: int = 0

    @property
    def total(self) -> int:
        return self.lease_broken + self.code_reused + self.over_quota_requests


@dataclass(frozen=True)
class Delivery:
    """Where the carrier hands the SMS of one phone: a gateway's webhook.

    `key` is the generic format's X-Banshui-Key; `public_url` is the URL a Twilio
    signature covers when it differs from the one posted to (a proxy in between).
    """

    url: str
    kind: GatewayKind
    secret: str | None
    slot: int
    device_mark: str
    carrier_name: str
    key: str | None = None
    device_id: str | None = None
    webhook_id: str | None = None
    account_sid: str | None = None
    public_url: str | None = None


@dataclass
class Sms:
    sms_id: int
    phone: str
    sender: str
    text: str
    sent_at: datetime
    cause: Cause
    delivery: DeliveryState = "kept"
    attempts: int = 0


class BureauState:
    """Persons, enterprises, relations, phones, flows, codes, sessions, counters."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        # Its own stream, so a region's slider leaves the codes of the others alone.
        self.slider_rng = random.Random(f"{seed}/slider")
        self.faults = Faults(seed)
        self.persons: dict[str, Person] = {}
        self.id_numbers: dict[str, str] = {}
        self.phone_owners: dict[str, str] = {}
        self.enterprises: dict[str, Enterprise] = {}
        self.relations: dict[tuple[str, str, str], Relation] = {}
        self.flows: dict[str, Flow] = {}
        self.sessions: dict[str, Session] = {}
        self.codes_sent: Counter[tuple[str, date]] = Counter()
        self.used_codes: defaultdict[str, set[str]] = defaultdict(set)
        self.issued_codes: defaultdict[str, set[str]] = defaultdict(set)
        self.violations = Violations()
        self.outbox: list[Sms] = []
        self.deliveries: dict[str, Delivery] = {}
        self.region_logins: dict[str, LoginMode] = {}
        self.sliders: dict[str, str] = {}
        self.phone_requests: dict[str, PhoneRequest] = {}
        self.face_checks: dict[str, FaceCheck] = {}
        self.channels: dict[str, Channel] = {}

    def add_person(self, name: str, id_number: str, password: str) -> Person:
        id_number = id_number.upper()
        if id_number in self.id_numbers:
            raise errors.conflict(f"A person with ID number {id_number} exists.")

        person_id = f"P{len(self.persons) + 1:04d}"
        person = Person(person_id, name, id_number, password)
        self.persons[person_id] = person
        self.id_numbers[id_number] = person_id
        return person

    def add_enterprise(self, tax_id: str, name: str, region: str) -> Enterprise:
        if tax_id in self.enterprises:
            raise errors.conflict(f"An enterprise with tax id {tax_id} exists.")

        enterprise = Enterprise(tax_id, name, region)
        self.enterprises[tax_id] = enterprise
        return enterprise

    def set_relation(
        self,
        person_id: str,
        tax_id: str,
        identity_code: str,
        confirmed: bool,
        face_check_on_issue: bool = False,
    ) -> Relation:
        self.person(person_id)
        self.enterprise(tax_id)

        relation = Relation(
            person_id, tax_id, identity_code, confirmed, face_check_on_issue
        )
        self.relations[(person_id, tax_id, identity_code)] = relation
        return relation

    def add_phone(self, person_id: str, phone: str, default: bool) -> str | None:
        """Give a phone to a person, taking it from its owner first (R1).

        Returns the person it was taken from, if another.
        """
        person = self.person(person_id)
        previous = self.phone_owners.get(phone)
        if previous is not None:
            self._take_phone(self.persons[previous], phone)

        person.phones.append(phone)
        self.phone_owners[phone] = person_id
        if default:
            person.default_phone = phone

        return previous if previous != person_id else None

    def _take_phone(self, owner: Person, phone: str) -> None:
        owner.phones.remove(phone)
        if owner.default_phone == phone:
            owner.default_phone = None

    def person(self, person_id: str) -> Person:
        person = self.persons.get(person_id)
        if person is None:
            raise errors.unknown("person", person_id)

        return person

    def enterprise(self, tax_id: str) -> Enterprise:
        enterprise = self.enterprises.get(tax_id)
        if enterprise is None:
            raise errors.unknown("enterprise", tax_id)

        return enterprise

    def owner_of(self, phone: str) -> Person:
        person_id = self.phone_owners.get(phone)
        if person_id is None:
            raise errors.SetupError(404, f"No person owns the phone {phone}.")

        return self.persons[person_id]

    def person_by_account(self, account: str) -> Person | None:
        """The person a login account names: one of their phones or their ID number."""
        if is_mobile(account):
            person_id = self.phone_owners.get(account)
        else:
            person_id = self.id_numbers.get(account.upper())

        return self.persons.get(person_id) if person_id is not None else None

    def login_mode(self, region: str) -> LoginMode:
        """How the region's login goes on after the password; SMS unless set (R12)."""
        return self.region_logins.get(region, "sms")

    def person_by_id_number(self, id_number: str) -> Person:
        person_id = self.id_numbers.get(id_number.upper())
        if person_id is None:
            raise errors.unknown("person with ID number", id_number)

        return self.persons[person_id]

    def relations_with(self, person_id: str, tax_id: str) -> list[Relation]:
        found = [
            relation
            for (owner, enterprise, _), relation in self.relations.items()
            if owner == person_id and enterprise == tax_id
        ]
        return sorted(found, key=lambda relation: relation.identity_code)

    def relations_in_region(self, person_id: str, region: str) -> list[Relation]:
        found = [
            relation
            for relation in self.relations.values()
            if relation.person_id == person_id
            and self.enterprises[relation.tax_id].region == region
        ]
        return sorted(found, key=lambda r: (r.tax_id, r.identity_code))

    def new_token(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def open_face_check(
        self, purpose: FacePurpose, person_id: str, subject: str, now: datetime
    ) -> FaceCheck:
        check = FaceCheck(self.new_token(), purpose, person_id, subject, now)
        self.face_checks[check.face_check_id] = check
        return check

    def new_code(self, phone: str) -> str:
        """Six seeded digits never sent to this phone before.

        A fresh code equal to a used one would be taken for a reuse (code_reused),
        and one equal to a code sent earlier, for a copy of that SMS.
        """
        while True:
            code = f"{self.rng.randrange(1_000_000):06d}"
            if code not in self.issued_codes[phone]:
                self.issued_codes[phone].add(code)
                return code

    def record_sms(
        self, phone: str, sender: str, text: str, sent_at: datetime, cause: Cause
    ) -> Sms:
        sms = Sms(len(self.outbox) + 1, phone, sender, text, sent_at, cause)
        self.outbox.append(sms)
        return sms

    def sms_on(self, day: date) -> list[Sms]:
        return [sms for sms in self.outbox if bureau_day(sms.sent_at) == day]
