"""Who signed a provider API request: banshui's signature, its window, its nonce."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import delete

from banshui.api.guessing import count_wrong_key, turn_away_guessers
from banshui.core.addresses import client_of
from banshui.core.errors import Unauthorized
from banshui.core.upsert import insert_ignoring_conflict
from banshui.metrics import REFUSALS, Reason, count_refusal
from banshui.numbers.customers import SECRET_PURPOSE, customer_for_key
from banshui.numbers.models import Customer
from banshui.provider.models import ProviderNonce
from banshui.runtime import Runtime
from banshui.signing import (
    WINDOW_SECONDS,
    SignatureInvalid,
    SignedRequest,
    read_signed,
    verify,
)

# A timestamp is good for WINDOW_SECONDS either side of now, so a nonce can come
# back for twice that long after it was first seen; a little more is kept.
NONCE_MEMORY = timedelta(seconds=2 * WINDOW_SECONDS + 60)


class BadSignature(Unauthorized):
    code = "bad_signature"


class StaleTimestamp(Unauthorized):
    code = "stale_timestamp"


class ReplayedNonce(Unauthorized):
    code = "replayed_nonce"


async def signed_customer(runtime: Runtime, request: Request) -> Customer:
    """The customer whose appSecret signed this request; 401 otherwise."""
    client = client_of(request)
    await turn_away_guessers(runtime, client, "provider")
    try:
        return await _authenticate(runtime, request)
    except Unauthorized as refused:
        reason = _reason(refused)
        # A stale or replayed request is no guess at a secret.
        if reason == "bad_signature":
            await count_wrong_key(runtime, client, "provider")
        REFUSALS.labels(face="provider").inc()
        count_refusal("provider", reason)
        raise


def _reason(refused: Unauthorized) -> Reason:
    if isinstance(refused, StaleTimestamp):
        return "stale"
    if isinstance(refused, ReplayedNonce):
        return "replay"
    return "bad_signature"


async def _authenticate(runtime: Runtime, request: Request) -> Customer:
    headers = {key.lower(): value for key, value in request.headers.items()}
    claimed = _claimed(headers)
    now = runtime.clock.now()
    # Checked first and said plainly: a drifting clock is the usual mistake, and
    # the timestamp is no secret.
    if abs(now.timestamp() - claimed.timestamp) > WINDOW_SECONDS:
        raise StaleTimestamp(
            f"the timestamp is more than {WINDOW_SECONDS} s from the server's time"
        )

    customer = await customer_for_key(runtime.db, claimed.key)
    # An unknown appKey is refused in the same words as a wrong signature.
    if customer is None:
        raise _bad_signature()
    secret = runtime.vault.open(customer.app_secret_sealed, SECRET_PURPOSE)
    body = await request.body()
    try:
        verify(
            secret, claimed, headers, request.method, signed_path(request), body, now
        )
    except SignatureInvalid:
        raise _bad_signature() from None

    await _remember_nonce(runtime, customer, claimed.nonce, now)
    return customer


def signed_path(request: Request) -> str:
    """The path and query string exactly as the client sent them."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def _claimed(headers: dict[str, str]) -> SignedRequest:
    try:
        return read_signed(headers)
    except SignatureInvalid:
        raise BadSignature(
            "sign the request with X-Banshui-Key, -Timestamp, -Nonce and -Signature"
        ) from None


def _bad_signature() -> BadSignature:
    return BadSignature("the request signature is not valid")


async def _remember_nonce(
    runtime: Runtime, customer: Customer, nonce: str, now: datetime
) -> None:
    values = {"customer_id": customer.id, "nonce": nonce, "seen_at": now}
    async with runtime.db.transaction() as session:
        await session.execute(
            delete(ProviderNonce).where(
                ProviderNonce.customer_id == customer.id,
                ProviderNonce.seen_at < now - NONCE_MEMORY,
            )
        )
        if await insert_ignoring_conflict(session, ProviderNonce, values) is None:
            raise ReplayedNonce("this nonce was used already: sign each request anew")
