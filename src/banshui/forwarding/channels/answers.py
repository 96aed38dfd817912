"""Posting to a receiver and reading its answer as success or a kind of failure."""

from __future__ import annotations

from typing import Any

import httpx

from banshui.forwarding.channels.base import PermanentFailure, TransientFailure

MAX_DETAIL = 200


async def post(
    http: httpx.AsyncClient, url: str | httpx.URL, **kw: Any
) -> httpx.Response:
    """POST once; a network problem is transient (the message names no URL)."""
    try:
        return await http.post(url, **kw)
    except httpx.TimeoutException:
        raise TransientFailure("the receiver did not answer in time") from None
    except httpx.UnsupportedProtocol:
        raise PermanentFailure("the receiver's URL has an unsupported scheme") from None
    except httpx.TransportError as error:
        raise TransientFailure(
            f"cannot reach the receiver ({type(error).__name__})"
        ) from None


def expect_success(response: httpx.Response) -> None:
    """2xx is success; 408, 429 and 5xx are worth a retry; the rest is final."""
    status = response.status_code
    if 200 <= status < 300:
        return

    what = f"the receiver answered HTTP {status}{_detail(response)}"
    if status in (408, 429) or status >= 500:
        raise TransientFailure(what)
    raise PermanentFailure(what)


def robot_answer(
    response: httpx.Response, code_key: str, message_key: str, transient: set[int]
) -> None:
    """A group robot answers 200 with a code of its own: non-zero is a failure."""
    expect_success(response)
    try:
        answer = response.json()
    except ValueError:
        raise TransientFailure("the robot's answer is not JSON") from None

    code = answer.get(code_key) if isinstance(answer, dict) else None
    if code == 0:
        return
    message = str(answer.get(message_key, ""))[:MAX_DETAIL]
    what = f"the robot answered {code_key} {code}: {message}"
    if code in transient:
        raise TransientFailure(what)
    raise PermanentFailure(what)


def _detail(response: httpx.Response) -> str:
    """The receiver's own one-line reason, when it gives one in JSON."""
    try:
        answer = response.json()
    except ValueError:
        return ""
    if not isinstance(answer, dict):
        return ""
    for key in ("message", "errmsg", "msg", "error"):
        if isinstance(answer.get(key), str):
            return f": {answer[key][:MAX_DETAIL]}"
    return ""
