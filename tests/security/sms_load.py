"""A phone's SmsForwarder under load: ``python -m security.sms_load URL SECRET ...``.

Sends ``count`` distinct SMS, ``concurrency`` at a time. Like the app, it sends
an unanswered request again as it was (same timestamp, same sign) until it gets
a 2xx or the deadline passes. Writes one JSON line per SMS: its index, its text,
whether it was acknowledged, and how many times it was sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx

from security.wire import now_ms, smsforwarder


def text_of(index: int) -> str:
    return f"【测试】第{index}条短信，验证码 {100000 + index}，五分钟内有效。"


async def send_one(
    http: httpx.AsyncClient, url: str, secret: str, index: int, base: int, end: float
) -> dict[str, object]:
    # Each SMS its own timestamp: a used sign with other content is a replay.
    request = smsforwarder(url, secret, text_of(index), stamp=base + index)
    attempts = 0
    while time.monotonic() < end:
        attempts += 1
        try:
            answer = await http.post(
                url, content=request.content, headers=request.headers
            )
        except httpx.TransportError:
            await asyncio.sleep(0.1)
            continue
        if 200 <= answer.status_code < 300:
            return {"index": index, "acked": True, "attempts": attempts}
        if answer.status_code < 500:
            return {"index": index, "acked": False, "status": answer.status_code}
        await asyncio.sleep(0.1)
    return {"index": index, "acked": False, "attempts": attempts}


async def run(arguments: argparse.Namespace) -> list[dict[str, object]]:
    end = time.monotonic() + arguments.deadline
    base = now_ms()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(arguments.count):
        queue.put_nowait(index)
    results: list[dict[str, object]] = []

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            sent = await send_one(
                http, arguments.url, arguments.secret, index, base, end
            )
            results.append({**sent, "text": text_of(index)})

    async with httpx.AsyncClient(timeout=5) as http:
        await asyncio.gather(*(worker(http) for _ in range(arguments.concurrency)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("secret")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--deadline", type=float, default=120)
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    results = asyncio.run(run(arguments))
    lines = (json.dumps(result, ensure_ascii=False) for result in results)
    Path(arguments.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
