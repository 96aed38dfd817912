"""A viewer sees no code in the inbox, not even one the extractor did not
recognise: every run of digits that could be a code is masked, on the page and
over its live stream; an operator sees the same text whole."""

from __future__ import annotations

import itertools
import json
import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from banshui.demo.cast import S3
from banshui.query.display import MASK, Piece, hide_codes
from banshui.sms.extraction import extract
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.models import InboundSms
from banshui.sms.sources import find_source

from .conftest import ON_MODULE_LOOP, PASSWORD, Cast
from .console import Console

if TYPE_CHECKING:
    from conftest import Sandbox

UNRECOGNISED = "【深圳税务】验证码 4182-07，请勿泄露。"
_identities = itertools.count(1)


def text_of(pieces: list[Piece]) -> str:
    return "".join(piece.text for piece in pieces)


async def receive(sandbox: Sandbox, text: str) -> int:
    """The SMS stored for S3 as its gateway would post it; its id."""
    runtime = sandbox.stack.runtime
    source = await find_source(runtime.db, "smsforwarder", "sim-s3")
    sms = ReceivedSms(
        sender="12366", text=text, identity=f"viewer-{next(_identities)}", number=S3
    )
    await runtime.inbox.store(source, Verified(None, ""), [sms])
    async with runtime.db.session() as session:
        newest = await session.scalar(select(func.max(InboundSms.id)))
    assert newest is not None
    return int(newest)


def card_of(page: str, sms_id: int) -> str:
    found = re.search(
        rf'<article class="card sms" data-sms="{sms_id}">.*?</article>', page, re.S
    )
    assert found is not None, page
    return found.group()


async def streamed_card(console: Console, sms_id: int) -> str:
    """The SMS as the inbox's live stream sends it to this console."""
    path = f"/inbox/stream?after={sms_id - 1}"
    async with console.http.stream("GET", path) as stream:
        assert stream.status_code == 200
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                html: str = json.loads(line.removeprefix("data: "))["html"]
                return html
    raise AssertionError("the stream ended without the SMS")


def test_the_extractor_does_not_recognise_the_code_in_this_text() -> None:
    # The case at issue: no code extracted, so nothing was masked for viewers.
    assert extract(UNRECOGNISED).code is None


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("验证码 4182-07", f"验证码 {MASK}"),
        ("验证码 418 207，请勿泄露", f"验证码 {MASK}，请勿泄露"),
        ("验证码４１８２０７", f"验证码{MASK}"),
        ("订单 1234 与 56-78", f"订单 {MASK} 与 {MASK}"),
        ("有效期为5分钟，第 12 次，1-2-3", "有效期为5分钟，第 12 次，1-2-3"),
    ],
)
def test_a_viewer_sees_every_run_of_four_digits_or_more_masked(
    text: str, shown: str
) -> None:
    assert text_of(hide_codes(text, None)) == shown


def test_a_viewer_sees_an_extracted_code_masked_with_the_other_runs() -> None:
    text = "您的验证码是 A7K2Q9，订单 20260302。"

    assert text_of(hide_codes(text, "A7K2Q9")) == f"您的验证码是 {MASK}，订单 {MASK}。"


@ON_MODULE_LOOP
async def test_a_viewer_sees_an_unrecognised_code_masked_on_the_inbox_page(
    sandbox: Sandbox, cast: Cast
) -> None:
    sms_id = await receive(sandbox, UNRECOGNISED)

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        card = card_of((await console.get("/inbox")).text, sms_id)

    assert "4182" not in card and "07，" not in card
    assert f'验证码 <mark class="stale">{MASK}</mark>，请勿泄露。' in card


@ON_MODULE_LOOP
async def test_a_viewer_sees_an_unrecognised_code_masked_over_the_live_stream(
    sandbox: Sandbox, cast: Cast
) -> None:
    sms_id = await receive(sandbox, UNRECOGNISED.replace("4182-07", "5293 61"))

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.viewer, PASSWORD)
        card = await streamed_card(console, sms_id)

    assert "5293" not in card and " 61" not in card
    assert f'验证码 <mark class="stale">{MASK}</mark>，请勿泄露。' in card


@ON_MODULE_LOOP
async def test_an_operator_sees_the_unrecognised_code_whole(
    sandbox: Sandbox, cast: Cast
) -> None:
    sms_id = await receive(sandbox, UNRECOGNISED.replace("4182-07", "7310-48"))

    async with Console(sandbox.stack.url) as console:
        await console.sign_in(cast.operator, PASSWORD)
        page = card_of((await console.get("/inbox")).text, sms_id)
        streamed = await streamed_card(console, sms_id)

    for card in (page, streamed):
        assert "验证码 7310-48，请勿泄露。" in card
        assert MASK not in card
