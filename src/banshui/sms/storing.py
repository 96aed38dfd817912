"""Storing what the gateways deliver: a batch of webhook requests in one transaction.

The inbox commits the requests that arrive together in one transaction
(``core.batching``); this is that transaction's work. It takes as few
statements as the batch allows, whatever its size: the nonces in one insert,
the SMS in another, and one query each for the requests waiting for codes and
for the forward routes of the numbers. It is synchronous, so that on SQLite the
whole of it is one trip to the database (``Database.run_transaction``).

A request's outcome is what it would be alone: a replayed signature, an SMS
for a number that is not the source's, or a source whose secret was replaced or
that was removed since the webhook looked it up raises, and the inbox then
stores the batch's requests one by one, so that only that request fails.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, select, update
from sqlalchemy.orm import Session

from banshui import signing
from banshui.core.clock import shanghai_day
from banshui.core.direct import Prepared
from banshui.core.upsert import insert_new_rows
from banshui.forwarding.queue import enqueue_forwards
from banshui.numbers.models import Number
from banshui.sms.extraction import SmsKind, extract
from banshui.sms.gateways.base import (
    MalformedSms,
    ReceivedSms,
    SignatureRefused,
    Verified,
)
from banshui.sms.gateways.smsforwarder.signature import WINDOW as SMSFORWARDER_WINDOW
from banshui.sms.models import CodeExpectation, InboundSms, Source, UsedNonce
from banshui.sms.parts import gather
from banshui.sms.senders import is_bureau_sender
from banshui.sms.sources import SourceChanged

# The same code to the same number within this is a copy: the bureau's codes
# live 5 or 30 minutes, and it sends a fresh one for every login.
COPY_WINDOW = timedelta(minutes=30)
# A code that arrives later than this after its request is not matched to it.
MATCH_WINDOW = timedelta(minutes=10)
# A nonce is good while its timestamp is inside the window either side of now,
# so it can come back up to two windows after it was first seen; kept a little
# longer, then forgotten (its timestamp is refused by then anyway).
NONCE_MEMORY = 2 * max(
    SMSFORWARDER_WINDOW, timedelta(seconds=signing.WINDOW_SECONDS)
) + timedelta(minutes=1)
# Forgetting is one indexed DELETE, done at most this often.
NONCE_PRUNE_EVERY = timedelta(minutes=1)

# Requests still waiting for a code of these numbers, for each number the one
# to serve first at the front: those that gave up last (see Storing._match).
WAITING_FOR_CODES = Prepared(
    select(CodeExpectation.id, CodeExpectation.number)
    .where(
        CodeExpectation.number.in_(bindparam("numbers", expanding=True)),
        CodeExpectation.fulfilled.is_(False),
        CodeExpectation.requested_at <= bindparam("latest"),
        CodeExpectation.requested_at >= bindparam("earliest"),
    )
    .order_by(
        CodeExpectation.abandoned_at.is_not(None),
        CodeExpectation.requested_at,
        CodeExpectation.id,
    )
    .with_for_update()
)
# The sources in use, with the secrets they hold now.
_IN_USE = Prepared(
    select(Source.id, Source.secret_sealed).where(
        Source.id.in_(bindparam("ids", expanding=True)), Source.removed_at.is_(None)
    )
)
# A code tied to the request it answers, both ways.
_FULFILLED = Prepared(
    update(CodeExpectation)
    .where(CodeExpectation.id == bindparam("expectation"))
    .values(fulfilled=True)
)
# Bureau codes the numbers received with the same codes: a seek each on
# ix_inbound_sms_number_code, however many SMS a number had.
# Whether one is recent is read, not asked in the WHERE: there, the planner
# would walk the number's SMS by time instead.
_EARLIER_CODES = Prepared(
    select(
        InboundSms.id,
        InboundSms.number,
        InboundSms.code,
        case((InboundSms.received_at >= bindparam("since"), 1), else_=0),
    ).where(
        InboundSms.number.in_(bindparam("numbers", expanding=True)),
        InboundSms.code.in_(bindparam("codes", expanding=True)),
        InboundSms.kind == SmsKind.BUREAU_LOGIN,
        InboundSms.from_bureau.is_(True),
        InboundSms.copy_of_id.is_(None),
        InboundSms.id.not_in(bindparam("new", expanding=True)),
    )
    # No ORDER BY: to skip a sort, SQLite would walk the number's SMS by time.
)
_COPIED = Prepared(
    update(InboundSms)
    .where(InboundSms.id == bindparam("sms"))
    .values(copy_of_id=bindparam("original"))
)
_TIED = Prepared(
    update(InboundSms)
    .where(InboundSms.id == bindparam("sms"))
    .values(expectation_id=bindparam("expectation"))
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One gateway request: its source, its verified signature, its SMS."""

    source: Source
    verified: Verified
    messages: list[ReceivedSms]


@dataclass(frozen=True, slots=True)
class Stored:
    # None for a duplicate, and for a part kept until its long SMS is whole.
    id: int | None
    duplicate: bool
    forwards: int = 0
    # The kind of a newly stored SMS that carried a code, for the metrics.
    code_kind: str | None = None
    # The number it was stored for, once the source's SIM slots are resolved.
    number: str | None = None


@dataclass(slots=True)
class _Whole:
    """A whole SMS on its way into the table, and what is known of it."""

    row: dict[str, Any]
    logs_in: bool
    code_kind: str | None
    id: int | None = None

    @property
    def number(self) -> str | None:
        number: str | None = self.row["number"]
        return number


class Storing:
    """The rules every stored SMS follows, applied to a batch of requests."""

    def __init__(self, skew: timedelta, bureau_senders: tuple[str, ...]) -> None:
        self._skew = skew
        self._bureau_senders = bureau_senders
        self._nonces_pruned_at: datetime | None = None

    def store(
        self, session: Session, deliveries: list[Delivery], now: datetime
    ) -> list[list[Stored]]:
        """Every SMS of the requests stored once, in order; what became of each."""
        _refuse_changed_sources(session, deliveries)
        if any(delivery.verified.nonce is not None for delivery in deliveries):
            self._forget_old_nonces(session, now)
        _refuse_replays(session, deliveries, now)
        outcomes = [
            [
                self._prepare(session, delivery.source, sms, now)
                for sms in delivery.messages
            ]
            for delivery in deliveries
        ]
        wholes = [
            each for outcome in outcomes for each in outcome if isinstance(each, _Whole)
        ]
        _insert(session, wholes)

        new = [whole for whole in wholes if whole.id is not None]
        codes = _not_copies(session, [whole for whole in new if whole.logs_in], now)
        self._match(session, codes, now)
        # In this transaction: an SMS acknowledged is an SMS that will be forwarded.
        numbered = [(w.id, w.number) for w in new if w.id is not None and w.number]
        forwards = enqueue_forwards(session, now, numbered)
        return [[_stored(each, forwards) for each in outcome] for outcome in outcomes]

    def _forget_old_nonces(self, session: Session, now: datetime) -> None:
        """Drop nonces too old to be replayed; at most once a NONCE_PRUNE_EVERY."""
        last = self._nonces_pruned_at
        if last is not None and last <= now < last + NONCE_PRUNE_EVERY:
            return
        self._nonces_pruned_at = now
        session.execute(delete(UsedNonce).where(UsedNonce.seen_at < now - NONCE_MEMORY))

    def _prepare(
        self, session: Session, source: Source, sms: ReceivedSms, now: datetime
    ) -> _Whole | Stored:
        """A whole SMS to insert; a part is kept until its long SMS is whole."""
        if sms.part is not None:
            gathered = gather(session, source.id, sms, now)
            if gathered.joined is None:
                return Stored(id=None, duplicate=gathered.duplicate)
            sms = gathered.joined

        number = _confined_number(session, source, sms)
        extraction = extract(sms.text)
        from_bureau = is_bureau_sender(sms.sender, self._bureau_senders)
        row = {
            "source_id": source.id,
            "dedupe_key": _dedupe_key(source.id, sms.identity),
            "number": number,
            "sender": sms.sender[:100],
            "text": sms.text,
            "gateway_time": sms.gateway_time,
            "received_at": now,
            "day": shanghai_day(now),
            "code": extraction.code,
            "kind": extraction.kind.value,
            "from_bureau": from_bureau,
        }
        # A text in the bureau's words from another sender is someone else's:
        # it is kept for people to see, never tied to a login.
        logs_in = extraction.kind is SmsKind.BUREAU_LOGIN and from_bureau
        code_kind = extraction.kind.value if extraction.code else None
        return _Whole(
            row=row, logs_in=logs_in and number is not None, code_kind=code_kind
        )

    def _match(self, session: Session, codes: list[_Whole], now: datetime) -> None:
        """Tie each bureau code to the oldest request of its number still waiting.

        A request that gave up takes a code only when none still waits: its late
        code must not be handed on, but neither may it take a fresh request's.
        (The engine asks for no new code on a number while a late one may come.)
        A code that finds no request is a person logging in by hand: it still
        counts against the day's quota (``Inbox.spent_today``).
        """
        if not codes:
            return
        window = {
            "numbers": sorted({code.number for code in codes if code.number}),
            "latest": now + self._skew,
            "earliest": now - MATCH_WINDOW,
        }
        waiting: dict[str, deque[int]] = defaultdict(deque)
        for expectation_id, number in WAITING_FOR_CODES.fetch_all(session, window):
            waiting[number].append(expectation_id)

        ties = [
            (code.id, waiting[code.number].popleft())
            for code in codes
            if code.number is not None and waiting[code.number]
        ]
        # Updates by primary key, each statement run once for all the ties.
        tied = [{"sms": sms, "expectation": tie} for sms, tie in ties]
        _FULFILLED.execute_many(session, tied)
        _TIED.execute_many(session, tied)


def _refuse_changed_sources(session: Session, deliveries: list[Delivery]) -> None:
    """Refuse a request checked against a secret its source no longer holds.

    Webhooks find sources through a cache that another process (``banshui
    source``) cannot clear; asked here, in the transaction that stores, a
    rotated secret or a removal holds from the moment it is committed.
    """
    ids = sorted({delivery.source.id for delivery in deliveries})
    held: dict[int, str] = dict(_IN_USE.fetch_all(session, {"ids": ids}))
    for delivery in deliveries:
        if held.get(delivery.source.id) != delivery.source.secret_sealed:
            raise SourceChanged(delivery.source.name)


def _refuse_replays(
    session: Session, deliveries: list[Delivery], now: datetime
) -> None:
    """Note each signature as used; refuse one used before for other content."""
    signed = [d for d in deliveries if d.verified.nonce is not None]
    rows = [
        {
            "source_id": d.source.id,
            "nonce": d.verified.nonce,
            "content_hash": d.verified.content_hash,
            "seen_at": now,
        }
        for d in signed
    ]
    fresh = set(insert_new_rows(session, UsedNonce, rows, ("source_id", "nonce")))

    for delivery in signed:
        key = (delivery.source.id, delivery.verified.nonce)
        if key in fresh:
            fresh.discard(key)  # the first request with it; any later one is seen
            continue
        _check_seen(session, delivery)


def _check_seen(session: Session, delivery: Delivery) -> None:
    verified = delivery.verified
    if verified.single_use:
        raise SignatureRefused("a used nonce was sent again")
    seen = session.scalar(
        select(UsedNonce.content_hash).where(
            UsedNonce.source_id == delivery.source.id, UsedNonce.nonce == verified.nonce
        )
    )
    # The same signature over the same content is the gateway retrying.
    if seen != verified.content_hash:
        raise SignatureRefused("a used signature was sent again with other content")


def _not_copies(session: Session, codes: list[_Whole], now: datetime) -> list[_Whole]:
    """The new bureau codes that are not copies of one already stored.

    The same code can reach a number twice: two gateways forward the same
    phone, or a gateway resends with a new id. The bureau sends a fresh code
    for every login, so a code seen on the number within ``COPY_WINDOW`` (the
    longest a code lives) is that one again: the copy is marked, and only the
    first is ever matched, claimed or counted.
    """
    if not codes:
        return []
    earlier = _EARLIER_CODES.fetch_all(
        session,
        {
            "numbers": sorted({code.number for code in codes if code.number}),
            "codes": sorted({code.row["code"] for code in codes}),
            "since": now - COPY_WINDOW,
            "new": [code.id for code in codes],
        },
    )
    seen: dict[tuple[str | None, str | None], int | None] = {}
    for sms_id, number, code, recent in sorted(earlier):
        if recent:
            seen.setdefault((number, code), sms_id)  # the first is the original
    kept, copies = [], []
    for whole in codes:
        key = (whole.number, whole.row["code"])
        if key in seen:
            copies.append({"sms": whole.id, "original": seen[key]})
        else:
            seen[key] = whole.id
            kept.append(whole)
    _COPIED.execute_many(session, copies)
    return kept


def _insert(session: Session, wholes: list[_Whole]) -> None:
    """Insert the SMS not stored before; each new one gets its id."""
    rows = [whole.row for whole in wholes]
    ids = dict(
        (key, new_id)
        for key, new_id in insert_new_rows(
            session, InboundSms, rows, ("dedupe_key", "id")
        )
    )
    for whole in wholes:
        # The first with a key is the one inserted; the same SMS again is not.
        whole.id = ids.pop(whole.row["dedupe_key"], None)


def _stored(outcome: _Whole | Stored, forwards: dict[int, int]) -> Stored:
    if isinstance(outcome, Stored):
        return outcome
    if outcome.id is None:
        return Stored(id=None, duplicate=True)
    return Stored(
        id=outcome.id,
        duplicate=False,
        forwards=forwards.get(outcome.id, 0),
        code_kind=outcome.code_kind,
        number=outcome.number,
    )


def _confined_number(session: Session, source: Source, sms: ReceivedSms) -> str | None:
    """The number an SMS is for; a source may write only for its own numbers."""
    number = sms.number or _slot_number(source, sms.sim_slot)
    declared = {str(value) for value in source.sim_slots.values()}
    if source.number is not None:
        declared.add(source.number)
    if number is None or (declared and number in declared):
        return number
    if declared:
        raise MalformedSms(
            f"{number} is not a number of this source", field=sms.number_field
        )

    if source.customer_id is not None:
        owner = session.scalar(
            select(Number.customer_id).where(Number.msisdn == number)
        )
        if owner != source.customer_id:
            raise MalformedSms(
                f"{number} is not a number of this source's customer",
                field=sms.number_field,
            )
    return number


def _slot_number(source: Source, slot: str | None) -> str | None:
    if slot is not None and slot in source.sim_slots:
        return str(source.sim_slots[slot])
    return source.number


def _dedupe_key(source_id: int, identity: str) -> str:
    return hashlib.sha256(f"{source_id}\n{identity}".encode()).hexdigest()
