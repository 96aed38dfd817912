"""Inbound SMS webhooks: authenticate, store, commit, and only then acknowledge."""

from __future__ import annotations

from collections.abc import Awaitable
from functools import cache
from typing import cast

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from banshui.api.deps import runtime_of
from banshui.api.errors import error_response
from banshui.api.forms import form_fields
from banshui.core.errors import NotFound
from banshui.metrics import (
    SIGNATURE_FAILURES,
    SMS_RECEIVED,
    Gateway,
    Reason,
    count_refusal,
)
from banshui.runtime import Runtime
from banshui.sms.gateways.base import (
    AcknowledgesItsOwnWay,
    GatewayFormat,
    InboundRequest,
    MalformedSms,
    SignatureRefused,
    StaleTimestamp,
)
from banshui.sms.gateways.registry import gateway_for
from banshui.sms.models import Source
from banshui.sms.sources import SECRET_PURPOSE, SourceChanged, webhook_url

PATH = "/hooks/sms/{kind}/{name}"
METHODS = frozenset({"GET", "POST", "PUT", "PATCH"})
MAX_BODY = 64 * 1024


def install(app: FastAPI) -> None:
    """Serve the webhook ahead of every other route, as a plain Starlette route.

    Every SMS comes in here, so what a request costs is what ingest costs.
    FastAPI's handling of a route (solving its dependencies, checking what it
    answers) and the walk through the API's routes before it cost about as
    much as the webhook's own work; a plain route first in the list skips
    both. The app's middleware (client address, body limit) and its error
    handlers still apply, so errors keep the one shape; it stays out of the
    OpenAPI schema.
    """
    route = Route(PATH, receive_sms, methods=METHODS, include_in_schema=False)
    # Starlette adds HEAD to a GET route; the webhook never answered HEAD.
    route.methods = set(METHODS)
    app.router.routes.insert(0, route)


async def receive_sms(request: Request) -> Response:
    kind: str = request.path_params["kind"]
    name: str = request.path_params["name"]
    runtime = runtime_of(request)
    gateway = gateway_for(kind)
    source = await _source(gateway, runtime.sources.find(kind, name))
    # Signatures over the URL use the one the gateway was given: the source's
    # public URL, else the webhook URL `banshui source add` printed.
    public_url = source.public_url or webhook_url(
        runtime.settings.public_url, kind, name
    )
    inbound = await _inbound(request, public_url, name)
    if inbound is None:
        return error_response(413, "too_large", "the body is larger than 64 KiB")

    try:
        return await _accept(runtime, gateway, source, inbound, remembered=True)
    except SourceChanged:
        # Its secret was replaced or it was removed, maybe by another process,
        # since it was remembered: judged again by what the database holds now.
        fresh = runtime.sources.refresh(kind, name)
        source = await _source(gateway, fresh)
        return await _accept(runtime, gateway, source, inbound, remembered=False)


async def _source(gateway: GatewayFormat, lookup: Awaitable[Source]) -> Source:
    try:
        return await lookup
    except NotFound:
        count_refusal(cast(Gateway, gateway.kind), "unknown_source")
        raise


async def _accept(
    runtime: Runtime,
    gateway: GatewayFormat,
    source: Source,
    inbound: InboundRequest,
    *,
    remembered: bool,
) -> Response:
    """Verify, store, acknowledge; ``SourceChanged`` when the source is stale.

    A remembered source may hold a secret since replaced: a signature it
    refuses is looked at again with the source as it is now.
    """
    name = source.name
    secret = runtime.vault.open(source.secret_sealed, SECRET_PURPOSE)
    try:
        verified, messages = gateway.receive(inbound, secret, runtime.clock.now())
    except SignatureRefused as refused:
        if remembered:
            # Maybe signed with a secret given since: the caller looks again.
            raise SourceChanged(name) from None
        return _refused(gateway, name, _reason(refused))
    except MalformedSms as error:
        return error_response(422, "invalid", error.message, error.field)
    try:
        stored = await runtime.inbox.store(source, verified, messages)
    except SignatureRefused:
        # The signature held: only a used nonce is refused now, a replay.
        return _refused(gateway, name, "replay")
    except MalformedSms as error:
        return error_response(422, "invalid", error.message, error.field)

    count = sum(s.id is not None for s in stored)
    SMS_RECEIVED.labels(source=name).inc(count)
    # A duplicate is answered with success: the gateway must stop retrying.
    if _acknowledges_its_own_way(type(gateway)):
        answer = cast(AcknowledgesItsOwnWay, gateway).acknowledgement()
        return Response(answer.body, media_type=answer.media_type)
    return JSONResponse({"ok": True, "stored": count})


@cache
def _acknowledges_its_own_way(gateway: type[GatewayFormat]) -> bool:
    # Asked once per format: a Protocol's isinstance walks its attributes.
    return issubclass(gateway, AcknowledgesItsOwnWay)


def _refused(gateway: GatewayFormat, source: str, reason: Reason) -> Response:
    SIGNATURE_FAILURES.labels(source=source).inc()
    count_refusal(cast(Gateway, gateway.kind), reason)
    return error_response(401, "bad_signature", "the request signature is not valid")


def _reason(refused: SignatureRefused) -> Reason:
    return "stale" if isinstance(refused, StaleTimestamp) else "bad_signature"


async def _inbound(
    request: Request, public_url: str, source: str
) -> InboundRequest | None:
    body = await _capped_body(request)
    if body is None:
        return None

    form: dict[str, str] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        # Not Starlette's parser: it costs more than the rest of a webhook's
        # own work, and a form of a few fields needs none of it.
        form = form_fields(body)
    elif content_type.startswith("multipart/form-data"):
        parsed = await request.form()
        # A file is no text field: left out, as a JSON body's non-text values are.
        form = {key: value for key, value in parsed.items() if isinstance(value, str)}
        await parsed.close()

    # Proxies change scheme, host and port: sign checks use the public URL.
    query = request.scope["query_string"].decode()
    return InboundRequest(
        method=request.method,
        url=public_url + (f"?{query}" if query else ""),
        headers={key.lower(): value for key, value in request.headers.items()},
        query=dict(request.query_params) if query else {},
        body=body,
        form=form,
        source=source,
    )


async def _capped_body(request: Request) -> bytes | None:
    """The body, read no further than the limit: a huge POST costs no memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None

    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    body = b"".join(chunks)
    # Starlette's form parser reads the body again from the request's cache.
    request._body = body
    return body
