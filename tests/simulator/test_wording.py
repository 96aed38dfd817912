"""Each region words its login SMS its own way; the sender is always 12366."""

import base64
import hashlib
import hmac
from urllib.parse import unquote

import httpx
from hypothesis import given
from hypothesis import strategies as st

from banshui.simulator.gateways.smsforwarder import sign

from .cast import S1, TAX_A, Cast, admin, relation
from .steps import code_in, outbox, send_code, start

BEIJING = "91110108MA01BJ0001"


async def test_a_shenzhen_login_sms_is_signed_by_the_shenzhen_bureau(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    await send_code(bureau, await start(bureau, TAX_A, S1))

    [sms] = await outbox(bureau)

    assert sms["sender"] == "12366"
    assert sms["text"].startswith("【深圳税务】您的验证码是：")
    assert "有效期为5分钟" in sms["text"]


async def test_a_region_without_its_own_wording_sends_the_national_text(
    bureau: httpx.AsyncClient, cast: Cast
) -> None:
    body = {"tax_id": BEIJING, "name": "示例咨询（北京）有限公司", "region": "11"}
    await admin(bureau, "POST", "/admin/enterprises", body)
    await relation(bureau, cast.zhang, BEIJING, "03")

    await send_code(bureau, await start(bureau, BEIJING, S1))

    [sms] = await outbox(bureau)
    assert sms["text"].startswith("【中国税务】您的登录验证码：")
    assert len(code_in(sms["text"])) == 6


@given(
    timestamp=st.integers(min_value=0, max_value=2**42),
    secret=st.text(min_size=1, max_size=40),
)
def test_the_sign_is_the_apps_formula_for_any_secret(
    timestamp: int, secret: str
) -> None:
    message = f"{timestamp}\n{secret}".encode()
    mac = hmac.new(secret.encode(), message, hashlib.sha256).digest()

    assert unquote(sign(timestamp, secret)) == base64.b64encode(mac).decode()
    assert "+" not in sign(timestamp, secret)
    assert "/" not in sign(timestamp, secret)
