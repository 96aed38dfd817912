"""Admins disable, enable, re-role operators and reset their passwords within
their scope; everyone changes their own password; each change is audited and
takes effect at once."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from sqlalchemy import func, select, update

from banshui.accounts.tenants import add_tenant
from banshui.audit.models import AuditEntry
from banshui.core.errors import InvalidInput, NotFound
from banshui.operators.models import Operator, OperatorSession
from banshui.operators.passwords import password_matches
from banshui.operators.roles import Role
from banshui.operators.signin import REFUSED
from banshui.operators.users import ChangedBy, add_operator, reset_password

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast
from .console import Console

if TYPE_CHECKING:
    from conftest import Sandbox

pytestmark = ON_MODULE_LOOP
NEW_PASSWORD = "Brand-new-pass-2027"
_names = itertools.count(1)


async def new_operator(
    sandbox: Sandbox, role: Role = Role.OPERATOR, tenant_id: int | None = -1
) -> tuple[str, int]:
    """A fresh operator of 示例集团 (or of ``tenant_id``), for one test."""
    runtime = sandbox.stack.runtime
    made = await add_operator(
        runtime.db,
        runtime.clock,
        name=f"员工{next(_names)}",
        password=PASSWORD,
        role=role,
        tenant_id=sandbox.tenant_id if tenant_id == -1 else tenant_id,
        actor="test",
    )
    return made.name, made.id


async def operator(sandbox: Sandbox, operator_id: int) -> Operator:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.get(Operator, operator_id)
    assert found is not None
    return found


async def audited(sandbox: Sandbox, name: str) -> list[tuple[str, str, str | None]]:
    async with sandbox.stack.runtime.db.session() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.client)
            .where(AuditEntry.subject == f"operator:{name}")
            .order_by(AuditEntry.id)
        )
        return [(action, actor, client) for action, actor, client in rows]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tenant_admin(sandbox: Sandbox, cast: Cast) -> str:
    """An admin of 示例集团 only."""
    name, _ = await new_operator(sandbox, Role.ADMIN)
    return name


async def test_a_disabled_operator_is_out_at_the_next_request_and_cannot_sign_in(
    sandbox: Sandbox, tenant_admin: str
) -> None:
    name, operator_id = await new_operator(sandbox)
    async with Console(sandbox.stack.url) as victim, Console(sandbox.stack.url) as adm:
        await victim.sign_in(name, PASSWORD)
        before = await victim.get("/persons")
        await adm.sign_in(tenant_admin, PASSWORD)
        disabled = await adm.post(f"/users/{operator_id}/disable")
        after = await victim.get("/persons")
        again = await victim.sign_in(name, PASSWORD)
        listed = await adm.get("/users")

    assert before.status_code == 200
    assert disabled.status_code == 303
    assert disabled.headers["location"] == "/users?done=user_disabled"
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    assert again.status_code == 403 and REFUSED in again.text
    assert "已停用" in listed.text
    async with sandbox.stack.runtime.db.session() as session:
        left = await session.scalars(
            select(OperatorSession).where(OperatorSession.operator_id == operator_id)
        )
        assert list(left) == []
    assert ("operator.disabled", f"console:{tenant_admin}", "127.0.0.1") in (
        await audited(sandbox, name)
    )


async def test_an_enabled_operator_signs_in_again(
    sandbox: Sandbox, tenant_admin: str
) -> None:
    name, operator_id = await new_operator(sandbox)
    async with Console(sandbox.stack.url) as admin:
        await admin.sign_in(tenant_admin, PASSWORD)
        await admin.post(f"/users/{operator_id}/disable")
        enabled = await admin.post(f"/users/{operator_id}/enable")
    async with Console(sandbox.stack.url) as back:
        signed = await back.sign_in(name, PASSWORD)

    assert enabled.status_code == 303
    assert signed.status_code == 303
    assert not (await operator(sandbox, operator_id)).disabled
    entries = await audited(sandbox, name)
    actions = [action for action, _, _ in entries]
    assert actions[-3:] == [
        "operator.disabled",
        "operator.enabled",
        "operator.signed_in",
    ]
    # The one who signed in is the actor, as the admin is of the two before it.
    assert entries[-1] == ("operator.signed_in", f"console:{name}", "127.0.0.1")


async def test_a_new_role_holds_from_the_operators_next_click(
    sandbox: Sandbox, tenant_admin: str
) -> None:
    name, operator_id = await new_operator(sandbox, Role.OPERATOR)
    async with Console(sandbox.stack.url) as worker, Console(sandbox.stack.url) as adm:
        await worker.sign_in(name, PASSWORD)
        allowed = await worker.get("/enterprises/new")
        await adm.sign_in(tenant_admin, PASSWORD)
        changed = await adm.post(f"/users/{operator_id}/role", {"role": "viewer"})
        refused = await worker.get("/enterprises/new")
        persons = await worker.get("/persons")

    assert allowed.status_code == 200
    assert changed.status_code == 303
    assert refused.status_code == 403 and "你的角色没有这项权限" in refused.text
    assert "199****0001" in persons.text  # a viewer sees numbers masked
    assert (await operator(sandbox, operator_id)).role == "viewer"
    assert ("operator.role_changed", f"console:{tenant_admin}", "127.0.0.1") in (
        await audited(sandbox, name)
    )


async def test_an_admin_cannot_disable_or_re_role_themselves(
    sandbox: Sandbox, tenant_admin: str
) -> None:
    async with sandbox.stack.runtime.db.session() as session:
        me = await session.scalar(
            select(Operator.id).where(Operator.name == tenant_admin)
        )
    async with Console(sandbox.stack.url) as admin:
        await admin.sign_in(tenant_admin, PASSWORD)
        disabled = await admin.post(f"/users/{me}/disable")
        demoted = await admin.post(f"/users/{me}/role", {"role": "viewer"})
        still = await admin.get("/users")

    assert disabled.status_code == 403 and "不能停用自己" in disabled.text
    assert demoted.status_code == 403 and "不能修改自己的角色" in demoted.text
    assert still.status_code == 200


async def test_a_tenants_admin_cannot_touch_another_tenants_operator(
    sandbox: Sandbox, tenant_admin: str
) -> None:
    runtime = sandbox.stack.runtime
    other = await add_tenant(runtime.db, runtime.clock, "别的集团", actor="test")
    name, operator_id = await new_operator(sandbox, tenant_id=other.tenant.id)

    async with Console(sandbox.stack.url) as admin:
        await admin.sign_in(tenant_admin, PASSWORD)
        listed = await admin.get("/users")
        disabled = await admin.post(f"/users/{operator_id}/disable")
        promoted = await admin.post(f"/users/{operator_id}/role", {"role": "admin"})

    assert name not in listed.text
    assert disabled.status_code == 404 and promoted.status_code == 404
    found = await operator(sandbox, operator_id)
    assert not found.disabled and found.role == "operator"


async def test_the_platform_admin_changes_operators_of_any_tenant(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    other = await add_tenant(runtime.db, runtime.clock, "第三集团", actor="test")
    _, operator_id = await new_operator(sandbox, tenant_id=other.tenant.id)

    async with Console(sandbox.stack.url) as admin:
        await admin.sign_in(cast.admin, PASSWORD)
        promoted = await admin.post(f"/users/{operator_id}/role", {"role": "admin"})
        disabled = await admin.post(f"/users/{operator_id}/disable")

    assert promoted.status_code == 303 and disabled.status_code == 303
    found = await operator(sandbox, operator_id)
    assert found.role == "admin" and found.disabled


async def test_an_operator_may_not_change_other_operators(
    sandbox: Sandbox, cast: Cast
) -> None:
    _, operator_id = await new_operator(sandbox, Role.VIEWER)
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        disabled = await console.post(f"/users/{operator_id}/disable")
        promoted = await console.post(f"/users/{operator_id}/role", {"role": "admin"})

    assert disabled.status_code == 403 and promoted.status_code == 403
    found = await operator(sandbox, operator_id)
    assert not found.disabled and found.role == "viewer"


async def test_a_role_that_is_no_role_is_refused(
    sandbox: Sandbox, tenant_admin: str
) -> None:
    _, operator_id = await new_operator(sandbox, Role.VIEWER)
    async with Console(sandbox.stack.url) as admin:
        await admin.sign_in(tenant_admin, PASSWORD)
        refused = await admin.post(f"/users/{operator_id}/role", {"role": "root"})

    assert refused.status_code == 422 and "请选择角色" in refused.text
    assert (await operator(sandbox, operator_id)).role == "viewer"


async def test_changing_ones_password_ends_every_other_session(
    sandbox: Sandbox,
) -> None:
    name, _ = await new_operator(sandbox, Role.VIEWER)
    async with Console(sandbox.stack.url) as here, Console(sandbox.stack.url) as there:
        await here.sign_in(name, PASSWORD)
        await there.sign_in(name, PASSWORD)
        changed = await here.post(
            "/me/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD,
            },
        )
        kept = await here.get(changed.headers["location"])
        ended = await there.get("/persons")

    async with Console(sandbox.stack.url) as old, Console(sandbox.stack.url) as new:
        with_old = await old.sign_in(name, PASSWORD)
        with_new = await new.sign_in(name, NEW_PASSWORD)

    assert changed.status_code == 303
    assert kept.status_code == 200 and "已修改密码" in kept.text
    assert ended.status_code == 303
    assert with_old.status_code == 403 and with_new.status_code == 303
    assert ("operator.password_changed", f"console:{name}", "127.0.0.1") in (
        await audited(sandbox, name)
    )


async def test_a_wrong_current_password_changes_nothing(sandbox: Sandbox) -> None:
    name, operator_id = await new_operator(sandbox, Role.VIEWER)
    before = (await operator(sandbox, operator_id)).password_hash
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(name, PASSWORD)
        refused = await console.post(
            "/me/password",
            {
                "current_password": "not-my-password",
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD,
            },
        )

    assert refused.status_code == 422
    assert 'id="current_password-error"' in refused.text
    assert "当前密码不正确" in refused.text
    assert NEW_PASSWORD not in refused.text and PASSWORD not in refused.text
    assert (await operator(sandbox, operator_id)).password_hash == before


async def test_five_wrong_current_passwords_lock_and_end_the_session(
    sandbox: Sandbox,
) -> None:
    name, operator_id = await new_operator(sandbox, Role.VIEWER)
    wrong = {
        "current_password": "not-my-password",
        "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD,
    }
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(name, PASSWORD)
        tries = [await console.post("/me/password", wrong) for _ in range(5)]
        after = await console.get("/me")

    assert [answer.status_code for answer in tries] == [422] * 4 + [303]
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    assert (await operator(sandbox, operator_id)).locked_until is not None


async def test_a_weak_or_mistyped_new_password_is_refused_under_its_field(
    sandbox: Sandbox,
) -> None:
    name, operator_id = await new_operator(sandbox, Role.VIEWER)
    before = (await operator(sandbox, operator_id)).password_hash
    async with Console(sandbox.stack.url) as console:
        await console.sign_in(name, PASSWORD)
        weak = await console.post(
            "/me/password",
            {
                "current_password": PASSWORD,
                "new_password": "aaaaaaaaaaaa",
                "new_password_again": "aaaaaaaaaaaa",
            },
        )
        same = await console.post(
            "/me/password",
            {
                "current_password": PASSWORD,
                "new_password": PASSWORD,
                "new_password_again": PASSWORD,
            },
        )
        mistyped = await console.post(
            "/me/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD + "x",
            },
        )

    assert weak.status_code == 422 and 'id="new_password-error"' in weak.text
    assert "不能过于简单" in weak.text
    assert same.status_code == 422 and "不能与当前密码相同" in same.text
    assert mistyped.status_code == 422 and "两次输入的新密码不一致" in mistyped.text
    assert (await operator(sandbox, operator_id)).password_hash == before


async def sessions_of(sandbox: Sandbox, operator_id: int) -> int:
    async with sandbox.stack.runtime.db.session() as session:
        found = await session.scalar(
            select(func.count(OperatorSession.id)).where(
                OperatorSession.operator_id == operator_id
            )
        )
    return int(found or 0)


async def by_admin(sandbox: Sandbox, name: str) -> ChangedBy:
    async with sandbox.stack.runtime.db.session() as session:
        admin = await session.scalar(select(Operator).where(Operator.name == name))
    assert admin is not None
    return ChangedBy(admin.id, admin.tenant_id, f"console:{admin.name}")


async def test_a_reset_password_is_hashed_ends_the_sessions_and_clears_the_lock(
    sandbox: Sandbox, tenant_admin: str
) -> None:
    runtime = sandbox.stack.runtime
    name, operator_id = await new_operator(sandbox)
    async with Console(sandbox.stack.url) as theirs:
        await theirs.sign_in(name, PASSWORD)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Operator)
            .where(Operator.id == operator_id)
            .values(failures=3, locked_until=runtime.clock.now() + timedelta(hours=1))
        )
    assert await sessions_of(sandbox, operator_id) == 1
    before = runtime.clock.now()

    await reset_password(
        runtime.db,
        runtime.clock,
        operator_id,
        NEW_PASSWORD,
        await by_admin(sandbox, tenant_admin),
    )

    found = await operator(sandbox, operator_id)
    assert found.password_hash.startswith("$argon2")
    assert NEW_PASSWORD not in found.password_hash
    assert password_matches(found.password_hash, NEW_PASSWORD)
    assert not password_matches(found.password_hash, PASSWORD)
    assert (found.failures, found.locked_until) == (0, None)
    assert await sessions_of(sandbox, operator_id) == 0
    async with runtime.db.session() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "operator.password_reset",
                    AuditEntry.subject == f"operator:{name}",
                )
            )
        )
    assert len(entries) == 1
    assert entries[0].actor == f"console:{tenant_admin}"
    assert entries[0].at >= before
    assert NEW_PASSWORD not in (entries[0].detail or "")


async def test_a_reset_is_refused_for_oneself_a_weak_password_and_out_of_scope(
    sandbox: Sandbox, tenant_admin: str
) -> None:
    runtime = sandbox.stack.runtime
    by = await by_admin(sandbox, tenant_admin)
    other = await add_tenant(runtime.db, runtime.clock, "重置外集团", actor="test")
    _, outsider = await new_operator(sandbox, tenant_id=other.tenant.id)
    _, platform = await new_operator(sandbox, Role.ADMIN, tenant_id=None)
    _, colleague = await new_operator(sandbox)
    unchanged = {
        id_: (await operator(sandbox, id_)).password_hash
        for id_ in (by.operator_id, outsider, platform, colleague)
    }

    with pytest.raises(InvalidInput) as oneself:
        await reset_password(
            runtime.db, runtime.clock, by.operator_id, NEW_PASSWORD, by
        )
    with pytest.raises(InvalidInput) as weak:
        await reset_password(runtime.db, runtime.clock, colleague, "aaaaaaaaaaaa", by)
    for out_of_scope in (outsider, platform):
        with pytest.raises(NotFound):
            await reset_password(
                runtime.db, runtime.clock, out_of_scope, NEW_PASSWORD, by
            )

    assert oneself.value.field == "password" and weak.value.field == "password"
    for id_, hashed in unchanged.items():
        assert (await operator(sandbox, id_)).password_hash == hashed


async def test_the_platform_admin_resets_the_password_of_any_tenants_operator(
    sandbox: Sandbox, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    other = await add_tenant(runtime.db, runtime.clock, "平台重置集团", actor="test")
    _, operator_id = await new_operator(sandbox, tenant_id=other.tenant.id)

    await reset_password(
        runtime.db,
        runtime.clock,
        operator_id,
        NEW_PASSWORD,
        await by_admin(sandbox, cast.admin),
    )

    found = await operator(sandbox, operator_id)
    assert password_matches(found.password_hash, NEW_PASSWORD)


async def test_an_admin_resets_a_password_in_the_console_and_it_is_never_echoed(
    sandbox: Sandbox, tenant_admin: str
) -> None:
    name, operator_id = await new_operator(sandbox)
    new = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    async with Console(sandbox.stack.url) as victim, Console(sandbox.stack.url) as adm:
        await victim.sign_in(name, PASSWORD)
        await adm.sign_in(tenant_admin, PASSWORD)
        weak = await adm.post(
            f"/users/{operator_id}/password",
            {"password": "aaaaaaaaaaaa", "password_again": "aaaaaaaaaaaa"},
        )
        mistyped = await adm.post(
            f"/users/{operator_id}/password",
            {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "x"},
        )
        reset = await adm.post(f"/users/{operator_id}/password", new)
        listed = await adm.get(reset.headers["location"])
        after = await victim.get("/persons")

    async with Console(sandbox.stack.url) as old, Console(sandbox.stack.url) as fresh:
        with_old = await old.sign_in(name, PASSWORD)
        with_new = await fresh.sign_in(name, NEW_PASSWORD)

    assert weak.status_code == 422 and "不能过于简单" in weak.text
    assert mistyped.status_code == 422 and "两次输入的新密码不一致" in mistyped.text
    assert reset.status_code == 303
    assert reset.headers["location"] == "/users?done=password_reset"
    assert "已重置密码" in listed.text
    for answer in (weak, mistyped, reset, listed):
        assert NEW_PASSWORD not in answer.text
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    assert with_old.status_code == 403 and with_new.status_code == 303
    assert ("operator.password_reset", f"console:{tenant_admin}", "127.0.0.1") in (
        await audited(sandbox, name)
    )


async def test_resetting_ones_own_or_another_tenants_password_is_refused(
    sandbox: Sandbox, tenant_admin: str, cast: Cast
) -> None:
    runtime = sandbox.stack.runtime
    other = await add_tenant(runtime.db, runtime.clock, "另一重置集团", actor="test")
    _, outsider = await new_operator(sandbox, tenant_id=other.tenant.id)
    me = (await by_admin(sandbox, tenant_admin)).operator_id
    _, colleague = await new_operator(sandbox, Role.VIEWER)
    new = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    async with Console(sandbox.stack.url) as admin, Console(sandbox.stack.url) as op:
        await admin.sign_in(tenant_admin, PASSWORD)
        await op.sign_in(cast.operator, PASSWORD)
        oneself = await admin.post(f"/users/{me}/password", new)
        elsewhere = await admin.post(f"/users/{outsider}/password", new)
        not_admin = await op.post(f"/users/{colleague}/password", new)

    assert oneself.status_code == 403 and "我的账号" in oneself.text
    assert elsewhere.status_code == 404 and "没有这个用户" in elsewhere.text
    assert not_admin.status_code == 403
    for id_ in (me, outsider, colleague):
        assert password_matches((await operator(sandbox, id_)).password_hash, PASSWORD)
