"""The query page: a number's own PIN, lockouts, masking of stale codes, audit."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from sqlalchemy import select

from banshui.audit.models import AuditEntry
from banshui.core.clock import ManualClock
from banshui.demo.cast import S1, S2
from banshui.query.service import REFUSED, TOO_MANY
from query.conftest import LOGIN_SMS, PIN, START, Desk, open_desk

UNKNOWN = "13912345678"


def refusal_of(response: httpx.Response) -> str:
    found = re.search(
        r'<div class="notice bad" role="alert">(.*?)</div>', response.text
    )
    assert found is not None, response.text
    return found.group(1)


async def refusals_counted(desk: Desk) -> float:
    text = (await desk.stack.http.get("/metrics")).text
    found = re.search(r'^banshui_refusals_total\{face="query"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def audit_entries(desk: Desk, action: str) -> list[AuditEntry]:
    async with desk.stack.runtime.db.session() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def test_the_form_asks_for_the_number_and_its_pin_in_chinese(desk: Desk) -> None:
    page = await desk.stack.http.get("/query")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'lang="zh-CN"' in page.text
    assert 'name="number"' in page.text and 'name="pin"' in page.text
    assert '<label for="pin">PIN</label>' in page.text


async def test_a_wrong_pin_is_refused_and_shows_no_sms(desk: Desk) -> None:
    await desk.receive(LOGIN_SMS)
    before = await refusals_counted(desk)

    page = await desk.ask("111222")

    assert page.status_code == 403
    assert refusal_of(page) == REFUSED
    assert "418207" not in page.text
    assert await refusals_counted(desk) == before + 1


async def test_the_right_pin_shows_the_latest_sms_with_its_code_marked(
    desk: Desk,
) -> None:
    await desk.receive("【中国税务】您的登录验证码：305118，请确认是本人操作。")
    desk.clock.advance(30)
    await desk.receive(LOGIN_SMS)

    page = await desk.ask(PIN)

    assert page.status_code == 200
    assert '<div class="sms-code fresh">418207</div>' in page.text
    assert "<mark>418207</mark>" in page.text
    assert "12366" in page.text
    assert "2026-03-02 10:00:30" in page.text  # Asia/Shanghai
    assert page.text.index("418207") < page.text.index("305118")


async def test_a_code_older_than_its_validity_is_masked_in_the_text_too(
    desk: Desk,
) -> None:
    await desk.receive(LOGIN_SMS)
    desk.clock.advance(5 * 60 + 1)

    page = await desk.ask(PIN)

    assert page.status_code == 200
    assert "418207" not in page.text
    assert '<div class="sms-code stale">******</div>' in page.text
    assert '<mark class="stale">******</mark>' in page.text


async def test_a_code_valid_for_30_minutes_is_still_shown_after_10(desk: Desk) -> None:
    await desk.receive("【厦门税务】您的验证码是：562913（有效期为30分钟）")
    desk.clock.advance(10 * 60)

    page = await desk.ask(PIN)

    assert '<div class="sms-code fresh">562913</div>' in page.text
    assert "有效至 10:30:00" in page.text


async def test_five_wrong_pins_lock_the_number_even_to_the_right_pin(
    desk: Desk,
) -> None:
    await desk.receive(LOGIN_SMS)
    for _ in range(5):
        assert (await desk.ask("111222")).status_code == 403

    page = await desk.ask(PIN)

    assert page.status_code == 403
    assert refusal_of(page) == REFUSED
    assert "418207" not in page.text
    assert len(await audit_entries(desk, "query.locked")) == 1


async def test_the_lock_lifts_after_fifteen_minutes(desk: Desk) -> None:
    for _ in range(5):
        await desk.ask("111222")
    desk.clock.advance(14 * 60)
    assert (await desk.ask(PIN)).status_code == 403

    desk.clock.advance(60)
    await desk.receive(LOGIN_SMS)
    page = await desk.ask(PIN)

    assert page.status_code == 200
    assert "<mark>418207</mark>" in page.text


async def test_the_right_pin_clears_earlier_wrong_ones(desk: Desk) -> None:
    for _ in range(4):
        await desk.ask("111222")
    assert (await desk.ask(PIN)).status_code == 200

    for _ in range(4):
        await desk.ask("111222")

    assert (await desk.ask(PIN)).status_code == 200


async def test_every_view_is_audited_with_the_client_address(desk: Desk) -> None:
    await desk.receive(LOGIN_SMS)

    await desk.ask(PIN)
    await desk.ask(PIN)
    await desk.ask("111222")

    views = await audit_entries(desk, "code.viewed")
    assert len(views) == 2
    assert {view.actor for view in views} == {"127.0.0.1"}
    assert {view.subject for view in views} == {f"number:{S1}"}
    assert all(view.detail and view.detail.startswith("sms:") for view in views)


async def test_a_sender_with_a_script_tag_is_shown_escaped(desk: Desk) -> None:
    await desk.receive(
        "<b>您的验证码：771904</b><img src=x onerror=alert(1)>",
        sender="<script>alert('x')</script>",
    )

    page = await desk.ask(PIN)

    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "<img" not in page.text and "&lt;img src=x" in page.text
    assert "<mark>771904</mark>" in page.text


async def test_the_old_shared_password_opens_no_number(desk: Desk) -> None:
    await desk.receive(LOGIN_SMS)

    for number in (S1, S2, UNKNOWN):
        page = await desk.ask("906906", number=number)
        assert page.status_code == 403
        assert "418207" not in page.text


async def test_refusals_read_the_same_whether_the_number_exists_or_not(
    desk: Desk,
) -> None:
    wrong_pin = await desk.ask("111222", number=S1)
    no_pin_set = await desk.ask(PIN, number=S2)
    unknown = await desk.ask(PIN, number=UNKNOWN)

    answers = {(page.status_code, refusal_of(page)) for page in (wrong_pin, no_pin_set)}
    answers.add((unknown.status_code, refusal_of(unknown)))
    assert answers == {(403, REFUSED)}


async def test_a_malformed_number_is_asked_again_without_a_lookup(desk: Desk) -> None:
    page = await desk.ask(PIN, number="12<3")

    assert page.status_code == 422
    assert "11 位手机号码" in refusal_of(page)
    assert 'value="12&lt;3"' in page.text


async def test_the_page_is_never_cached(desk: Desk) -> None:
    await desk.receive(LOGIN_SMS)

    for page in (await desk.stack.http.get("/query"), await desk.ask(PIN)):
        assert page.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in page.headers["content-security-policy"]


async def test_a_client_refused_twenty_times_is_turned_away_from_every_number(
    desk: Desk,
) -> None:
    for attempt in range(20):
        number = S1 if attempt < 4 else f"139{attempt:08d}"
        assert (await desk.ask("111222", number=number)).status_code == 403

    turned_away = await desk.ask(PIN)

    assert turned_away.status_code == 429
    assert refusal_of(turned_away) == TOO_MANY
    desk.clock.advance(15 * 60)
    assert (await desk.ask(PIN)).status_code == 200


async def test_a_burst_from_one_client_is_held_to_its_twenty_refusals(
    desk: Desk,
) -> None:
    for attempt in range(17):
        assert (await desk.ask("111222", number=f"139{attempt:08d}")).status_code == 403
    guesses = [desk.ask("111222", number=f"138{index:08d}") for index in range(6)]

    answers = await asyncio.gather(*guesses)

    # However the burst interleaves, the window lets exactly three more through.
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [403, 403, 403, 429, 429, 429]


async def test_the_client_window_holds_across_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    clock = ManualClock(START)
    async with open_desk(tmp_path, database_url, clock) as desk:
        for attempt in range(20):
            await desk.ask("111222", number=f"139{attempt:08d}")

    async with open_desk(tmp_path, database_url, clock) as restarted:
        assert (await restarted.ask(PIN)).status_code == 429


async def test_a_burst_of_guesses_at_once_is_held_to_the_same_lockout(
    desk: Desk,
) -> None:
    await desk.receive(LOGIN_SMS)
    guesses = [desk.ask(f"{index:06d}9") for index in range(11)]

    answers = await asyncio.gather(*guesses, desk.ask(PIN))

    # However the burst interleaves, at most five wrong PINs were ever checked
    # and the number ends locked (the right PIN may have been checked first).
    assert all(answer.status_code in (403, 429) for answer in answers[:-1])
    assert len(await audit_entries(desk, "query.locked")) == 1
    after = await desk.ask(PIN)
    assert after.status_code == 403
    assert "418207" not in after.text
