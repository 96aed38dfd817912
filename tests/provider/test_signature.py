"""Refusals of the provider API: every one a 401 in the one error shape, counted."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import httpx

from banshui import signing
from banshui.demo.cast import S1
from provider.conftest import Platform, Provider, claims_path, sign


async def refused(provider: Provider, request: httpx.Request) -> str:
    """The refusal's code; it is a 401 that gives nothing away and is counted."""
    before = await refusals_counted(provider)

    answer = await provider.stack.http.send(request)

    assert answer.status_code == 401, answer.text
    error = answer.json()["error"]
    assert set(error) == {"code", "message"}
    assert await refusals_counted(provider) == before + 1
    return str(error["code"])


async def refusals_counted(provider: Provider) -> float:
    text = (await provider.stack.http.get("/metrics")).text
    found = re.search(r'^banshui_refusals_total\{face="provider"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_a_wrong_secret_is_refused(provider: Provider) -> None:
    await provider.receive("418207")
    request = provider.signed(
        provider.fapiaoyun,
        "POST",
        claims_path(S1),
        provider.claim_request(provider.fapiaoyun).content,
        secret=provider.other.app_secret,
    )

    assert await refused(provider, request) == "bad_signature"
    assert (await provider.claim(provider.fapiaoyun)).status_code == 200


async def test_an_unknown_key_is_refused_like_a_wrong_signature(
    provider: Provider,
) -> None:
    stranger = Platform("陌生人", "NOSUCHKEY000", provider.fapiaoyun.app_secret)

    code = await refused(provider, provider.claim_request(stranger))

    assert code == "bad_signature"


async def test_an_altered_body_is_refused(provider: Provider) -> None:
    signed = provider.claim_request(provider.fapiaoyun, wait=0)
    altered = provider.stack.http.build_request(
        "POST",
        claims_path(S1),
        content=signed.content.replace(b'"wait_seconds": 0', b'"wait_seconds": 9'),
        headers=dict(signed.headers),
    )

    assert await refused(provider, altered) == "bad_signature"


async def test_another_path_under_the_same_signature_is_refused(
    provider: Provider,
) -> None:
    signed = provider.claim_request(provider.fapiaoyun)
    elsewhere = provider.stack.http.build_request(
        "POST",
        claims_path("19912340009"),
        content=signed.content,
        headers=dict(signed.headers),
    )

    assert await refused(provider, elsewhere) == "bad_signature"


async def test_a_replayed_nonce_is_refused(provider: Provider) -> None:
    await provider.receive("418207")
    request = provider.claim_request(provider.fapiaoyun)
    first = await provider.stack.http.send(request)
    assert first.status_code == 200

    replay = provider.stack.http.build_request(
        "POST", claims_path(S1), content=request.content, headers=dict(request.headers)
    )

    assert await refused(provider, replay) == "replayed_nonce"


async def test_a_stale_timestamp_is_refused(provider: Provider) -> None:
    for skew in (timedelta(seconds=-301), timedelta(seconds=301)):
        request = provider.signed(
            provider.fapiaoyun,
            "GET",
            f"/api/v1/provider/numbers/{S1}/sms",
            at=provider.clock.now() + skew,
        )
        assert await refused(provider, request) == "stale_timestamp"


async def test_a_timestamp_inside_the_window_is_accepted(provider: Provider) -> None:
    request = provider.signed(
        provider.fapiaoyun,
        "GET",
        f"/api/v1/provider/numbers/{S1}/sms",
        at=provider.clock.now() - timedelta(seconds=290),
    )

    assert (await provider.stack.http.send(request)).status_code == 200


async def test_an_unsigned_request_is_refused(provider: Provider) -> None:
    request = provider.stack.http.build_request(
        "GET", f"/api/v1/provider/numbers/{S1}/sms"
    )

    assert await refused(provider, request) == "bad_signature"


def test_the_worked_example_in_the_docs_holds() -> None:
    document = (Path(__file__).parents[2] / "docs" / "provider-api.md").read_text()
    body = b'{"after":"2026-03-02T09:59:50+08:00","wait_seconds":30}'
    path = "/api/v1/provider/numbers/19912340001/claims"
    nonce = "4f2a9c1e7b3d5a6f8e0c2b4d6a8f1e3c"
    secret = "Y4N8E2R6W1Q9T3U7I5O0P2A4S6D8F1G3H5J7K9L0"

    ours = sign(secret, "POST", path, 1772416800, nonce, body)
    banshuis = signing.signature(secret, "POST", path, 1772416800, nonce, body)

    assert ours == banshuis
    assert f"`{ours}`" in document
    assert f"`{hashlib.sha256(body).hexdigest()}`" in document
    assert body.decode() in document
