"""The login site's HTML pages walk the same steps as its API, server-rendered."""

import re

import httpx

from banshui.simulator.regions import client_id

from .cast import HUBEI, S1, SHENZHEN, TAX_A, TAX_B, ZHANG_PASSWORD, Cast, admin
from .steps import latest_code, outbox

FLOW = re.compile(r"/login/flow/([0-9a-f]+)")


def _refusal(page: httpx.Response) -> tuple[str, str] | None:
    found = re.search(r'<p class="error" data-code="(\d+)">([^<]*)</p>', page.text)
    return (found.group(1), found.group(2)) if found else None


async def _password(
    bureau: httpx.AsyncClient, password: str = ZHANG_PASSWORD, region: str = SHENZHEN
) -> httpx.Response:
    form = {
        "client_id": client_id(region),
        "tax_id": TAX_A,
        "account": S1,
        "password": password,
    }
    return await bureau.post("/login", data=form, follow_redirects=True)


async def test_the_login_page_has_the_real_pages_fields_for_its_region(
    bureau: httpx.AsyncClient,
) -> None:
    page = await bureau.get("/login", params={"client_id": client_id(SHENZHEN)})

    assert "国家税务总局深圳电子税务局" in page.text
    for field in ('id="tax-id"', 'id="account"', 'id="password"', 'id="login"'):
        assert field in page.text


async def test_an_unknown_client_id_gets_no_login_form(
    bureau: httpx.AsyncClient,
) -> None:
    page = await bureau.get("/login", params={"client_id": "someone-else"})

    assert _refusal(page) == ("2102", "客户端标识有误，请从所在地区电子税务局登录")
    assert 'id="tax-id"' not in page.text


async def test_a_whole_login_on_the_pages_ends_on_the_home_page_with_a_cookie(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    code_page = await _password(bureau)
    flow_url = FLOW.search(str(code_page.url))
    assert flow_url is not None and 'id="send-code"' in code_page.text

    sent = await bureau.post(f"{flow_url.group(0)}/send-code", follow_redirects=True)
    code = await latest_code(bureau, S1)
    listed = await bureau.post(
        f"{flow_url.group(0)}/code", data={"code": code}, follow_redirects=True
    )
    chosen = f"{TAX_A}|03"
    home = await bureau.post(
        f"{flow_url.group(0)}/identity",
        data={"identity": chosen, "business": "receive"},
        follow_redirects=True,
    )

    assert 'id="code-sent"' in sent.text
    assert f'value="{chosen}"' in listed.text
    assert str(home.url).endswith("/etax")
    assert f'<span id="current-tax-id">{TAX_A}</span>' in home.text
    assert bureau.cookies.get("SIMSESSION")


async def test_a_refusal_is_shown_on_the_page_with_the_sites_code(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    wrong = await _password(bureau, password="not-his")

    assert _refusal(wrong) == ("2035", "账号或密码错误")
    assert 'id="tax-id"' in wrong.text


async def test_a_client_id_of_another_region_is_refused_on_the_page(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    page = await _password(bureau, region=HUBEI)

    assert _refusal(page) == ("2102", "客户端标识有误，请从深圳电子税务局登录")


async def test_the_home_page_switches_enterprise_with_no_sms(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    code_page = await _password(bureau)
    flow = str(code_page.url)
    await bureau.post(f"{flow}/send-code")
    code = await latest_code(bureau, S1)
    await bureau.post(f"{flow}/code", data={"code": code})
    await bureau.post(f"{flow}/identity", data={"identity": f"{TAX_A}|03"})
    sent_before = len(await outbox(bureau))

    home = await bureau.post(
        "/etax/switch", data={"tax_id": TAX_B}, follow_redirects=True
    )

    assert f'<span id="current-tax-id">{TAX_B}</span>' in home.text
    assert len(await outbox(bureau)) == sent_before


async def test_the_home_page_without_a_session_says_it_ended(
    bureau: httpx.AsyncClient,
) -> None:
    page = await bureau.get("/etax")

    assert _refusal(page) == ("2100", "会话已失效，请重新登录")


async def test_a_slider_region_shows_the_slider_with_its_challenge_first(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await admin(bureau, "PUT", f"/admin/regions/{SHENZHEN}", {"login": "slider_sms"})

    page = await _password(bureau)

    challenge = re.search(r'data-challenge="([0-9a-f]+)"', page.text)
    assert challenge is not None and 'id="slider-handle"' in page.text
    assert 'id="send-code"' not in page.text
