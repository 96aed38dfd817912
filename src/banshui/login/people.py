"""People in the loop (DESIGN §5.10): what a person is to do, and a code they typed.

While a login waits for a person it shows ``waiting_person`` with what to do and
its deadline; the engine re-checks with back-off until they did it or the
deadline passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from banshui.accounts.identity import IDENTITIES
from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.db import Database
from banshui.core.errors import Conflict, InvalidInput
from banshui.core.vault import Vault
from banshui.drivers.base import FaceCheck, Flow
from banshui.login.models import LoginRequest
from banshui.login.requests import get_login
from banshui.login.status import Status
from banshui.numbers.phones import mask

TYPED_CODE_PURPOSE = "typed-code"
# Rung with the login's id when a person typed its code (in any process).
TYPED_TOPIC = "typed"
CODE = re.compile(r"[0-9]{6}")

# Re-checks of a person's step: soon at first, then every half minute.
FIRST_CHECK_SECONDS = 2.0
LAST_CHECK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class PersonStep:
    """One thing a person must do for a login."""

    kind: str  # code, face_check, identity or slider: the login's waiting_for
    todo: str  # what to do, one sentence without its deadline
    missed: str  # what was not done, when the deadline passes


def checks() -> Iterator[float]:
    """The pauses between re-checks: doubling from 2 s, at most 30 s."""
    delay = FIRST_CHECK_SECONDS
    while True:
        yield delay
        delay = min(delay * 2, LAST_CHECK_SECONDS)


def type_code(login_id: str, number: str, person: str) -> PersonStep:
    return PersonStep(
        kind="code",
        todo=(
            f"{person} is to type the code the bureau sent to {mask(number)} "
            f"with POST /api/v1/logins/{login_id}/code"
        ),
        missed=f"nobody typed the code the bureau sent to {mask(number)}",
    )


def scan_face_check(check: FaceCheck, person: str) -> PersonStep:
    return PersonStep(
        kind="face_check",
        todo=(
            f"{person} is to scan the face-check QR code {check.qr_url} with the "
            "tax app (issuing needs the issuer's face check, R14)"
        ),
        missed=f"the issuer's face check ({check.qr_url}) was not passed (R14)",
    )


def confirm_identity(
    person: str, tax_id: str, identity_code: str, bureau_words: str
) -> PersonStep:
    role = f"{identity_code} {IDENTITIES.get(identity_code, '')}".strip()
    return PersonStep(
        kind="identity",
        todo=(
            f"{person} is to confirm the role ({role}) for {tax_id} at the bureau; "
            f"the bureau says: {bureau_words} (R7)"
        ),
        missed=(
            f"the role ({role}) of {person} for {tax_id} was not confirmed at "
            f"the bureau; the bureau says: {bureau_words} (R7)"
        ),
    )


def pass_slider(flow: Flow, region: str) -> PersonStep:
    return PersonStep(
        kind="slider",
        todo=(
            f"the bureau of region {region} shows a slider captcha (滑块验证) before "
            f"the code, which banshui leaves to a person: pass it for login flow "
            f"{flow.flow_id} (challenge {flow.slider_id})"
        ),
        missed="nobody passed the bureau's slider captcha (滑块验证)",
    )


async def put_typed_code(
    db: Database,
    vault: Vault,
    clock: Clock,
    *,
    login_id: str,
    tenant_id: int,
    code: str,
    actor: str,
) -> LoginRequest:
    """Keep a code a person typed for the login waiting for it (sealed, once)."""
    typed = code.strip()
    if CODE.fullmatch(typed) is None:
        raise InvalidInput("must be the 6 digits of the bureau's code", field="code")

    await get_login(db, login_id, tenant_id)
    async with db.transaction() as session:
        login = await session.get(LoginRequest, login_id)
        assert login is not None
        waiting = login.status == Status.WAITING_PERSON and login.waiting_for == "code"
        if not waiting or login.typed_code_sealed is not None:
            raise Conflict(
                f"the login is not waiting for a typed code (it is {login.status})"
            )
        login.typed_code_sealed = vault.seal(typed, TYPED_CODE_PURPOSE)
        login.updated_at = clock.now()
        record(
            session,
            clock,
            actor=actor,
            action="login.code_typed",
            subject=f"login:{login_id}",
        )
    return login


async def take_typed_code(db: Database, vault: Vault, login_id: str) -> str | None:
    """The typed code, taken for good: it is submitted once."""
    async with db.transaction() as session:
        login = await session.get(LoginRequest, login_id)
        if login is None or login.typed_code_sealed is None:
            return None
        sealed = login.typed_code_sealed
        login.typed_code_sealed = None
        login.waiting_for = None
    return vault.open(sealed, TYPED_CODE_PURPOSE)
