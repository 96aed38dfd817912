"""Operators sign in with a name and an argon2-checked password; failures lock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from banshui.audit.models import AuditEntry
from banshui.operators.models import Operator, SignInRefusal
from banshui.operators.roles import Role
from banshui.operators.signin import CLIENT_LIMIT, REFUSED, TOO_MANY
from banshui.operators.users import add_operator

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast
from .console import Console, csrf_of

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP


async def audit_actions(sandbox: Sandbox, subject: str) -> list[str]:
    async with sandbox.stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject == subject)
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def test_a_page_without_a_session_sends_the_caller_to_sign_in(
    sandbox: Sandbox,
) -> None:
    async with Console(sandbox.stack.url) as console:
        answer = await console.get("/persons")
        form = await console.get("/login")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fpersons"
    assert form.status_code == 200
    assert 'lang="zh-CN"' in form.text and "登录运营控制台" in form.text


async def test_the_right_password_opens_a_session_and_the_sign_in_is_audited(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        answer = await console.sign_in(cast.operator, PASSWORD)
        page = await console.get("/enterprises")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/enterprises"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert page.status_code == 200
    assert "深圳市示例甲科技有限公司" in page.text
    assert "operator.signed_in" in await audit_actions(
        sandbox, f"operator:{cast.operator}"
    )


async def test_five_wrong_passwords_lock_the_operator_even_to_the_right_one(
    sandbox: Sandbox,
) -> None:
    runtime = sandbox.stack.runtime
    await add_operator(
        runtime.db,
        runtime.clock,
        name="孙八",
        password=PASSWORD,
        role=Role.VIEWER,
        tenant_id=sandbox.tenant_id,
        actor="test",
    )

    async with Console(sandbox.stack.url) as console:
        wrong = [await console.sign_in("孙八", "not-the-password") for _ in range(5)]
        right = await console.sign_in("孙八", PASSWORD)

    assert [answer.status_code for answer in wrong] == [403] * 5
    assert right.status_code == 403
    assert REFUSED in right.text
    async with runtime.db.session() as session:
        locked = await session.scalar(select(Operator).where(Operator.name == "孙八"))
    assert locked is not None and locked.locked_until is not None
    actions = await audit_actions(sandbox, "operator:孙八")
    assert actions.count("operator.sign_in_refused") == 6  # the locked try too
    assert "operator.locked" in actions
    assert "operator.signed_in" not in actions


async def test_an_unknown_name_is_refused_in_the_same_words(sandbox: Sandbox) -> None:
    async with Console(sandbox.stack.url) as console:
        answer = await console.sign_in("无此人", PASSWORD)

    assert answer.status_code == 403
    assert REFUSED in answer.text


async def test_the_sign_in_form_is_refused_without_its_csrf_token(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.get("/login")
        answer = await console.http.post(
            "/login",
            data={"csrf_token": "forged", "name": cast.operator, "password": PASSWORD},
        )

    assert answer.status_code == 403
    assert "banshui_console" not in answer.headers.get("set-cookie", "")


async def test_signing_out_ends_the_session_for_good(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        cookie = console.http.cookies.get("banshui_console")
        out = await console.post("/logout")

    async with Console(sandbox.stack.url) as replay:
        assert cookie is not None
        replay.http.cookies.set("banshui_console", cookie)
        again = await replay.get("/enterprises")

    assert out.status_code == 303
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")


async def test_a_forged_session_cookie_is_not_a_session(sandbox: Sandbox) -> None:
    async with Console(sandbox.stack.url) as console:
        console.http.cookies.set("banshui_console", "anything.at.all")
        answer = await console.get("/enterprises")

    assert answer.status_code == 303


async def test_the_next_page_after_sign_in_is_never_another_site(
    sandbox: Sandbox, cast: Cast
) -> None:
    async with Console(sandbox.stack.url) as console:
        form = await console.get("/login?next=//evil.example/x")
        answer = await console.http.post(
            "/login",
            data={
                "csrf_token": csrf_of(form.text),
                "next": "//evil.example/x",
                "name": cast.operator,
                "password": PASSWORD,
            },
        )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/enterprises"


async def test_a_client_refused_twenty_times_is_turned_away_whatever_the_name(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    now = runtime.clock.now()
    async with runtime.db.transaction() as session:
        await session.execute(delete(SignInRefusal))  # the module's earlier ones
        for _ in range(CLIENT_LIMIT - 1):
            session.add(SignInRefusal(client="127.0.0.1", at=now))

    try:
        async with Console(sandbox.stack.url) as console:
            last = await console.sign_in("无此人", "whatever-it-is")
            right = await console.sign_in(cast.operator, PASSWORD)
    finally:
        async with runtime.db.transaction() as session:
            await session.execute(delete(SignInRefusal))

    assert last.status_code == 403
    assert right.status_code == 429
    assert TOO_MANY in right.text
