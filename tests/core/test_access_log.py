"""``banshui serve`` logs each request without its query string (codes, secrets)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from databases import Databases

SECRET_SIGN = "c2lnbmF0dXJlLXNlY3JldA"
CODE = "418207"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Served:
    """A real ``banshui serve`` process on a port of its own, its log read aside."""

    url: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def logged(self, marker: str) -> list[str]:
        """The log so far, once a line with ``marker`` is in it (or 10 s passed)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(marker in line for line in self.lines):
                break
            time.sleep(0.05)
        return list(self.lines)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("access-log")
    with databases.fresh(folder, databases.migrated) as url:
        yield from _serve(folder, url)


def _serve(folder: Path, database_url: str) -> Iterator[Served]:
    port = _free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")},
        "BANSHUI_DATABASE_URL": database_url,
        "BANSHUI_VAR_DIR": str(folder / "var"),
        "BANSHUI_SIMULATOR": "off",
        "BANSHUI_SANDBOX": "off",
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "banshui", "serve", "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environment,
    )
    running = Served(f"http://127.0.0.1:{port}", process)
    reader = threading.Thread(target=running.read_log, daemon=True)
    reader.start()
    try:
        _wait_until_up(running)
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        reader.join(timeout=5)


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert served.process.poll() is None, "\n".join(served.lines)
        try:
            httpx.get(f"{served.url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("banshui serve did not answer within 60 s")


def test_a_request_is_logged_with_its_path_and_status_but_not_its_query(
    served: Served,
) -> None:
    httpx.get(f"{served.url}/healthz", params={"sign": SECRET_SIGN, "code": CODE})
    httpx.get(
        f"{served.url}/hooks/sms/smsforwarder/zhang-phone",
        params={"content": f"验证码：{CODE}", "sign": SECRET_SIGN},
    )

    lines = served.logged("GET /hooks/sms/smsforwarder/zhang-phone ")

    log = "\n".join(lines)
    assert SECRET_SIGN not in log and CODE not in log
    assert any("GET /healthz 200" in line and " ms" in line for line in lines)
    assert any("GET /hooks/sms/smsforwarder/zhang-phone " in line for line in lines)


def test_a_path_cannot_write_a_line_of_its_own_into_the_log(served: Served) -> None:
    httpx.get(f"{served.url}/x%0AINFO:%20forged%20line")

    lines = served.logged("forged line 404")

    assert not any(line.startswith("INFO: forged") for line in lines)
    assert any("/x\\x0aINFO: forged line 404" in line for line in lines)
