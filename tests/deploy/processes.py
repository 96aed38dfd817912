"""banshui as real processes for the deployment tests: started, awaited, stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

BANSHUI = str(Path(sys.executable).with_name("banshui"))
START_SECONDS = 40.0


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ---\n" + "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(**values: str) -> dict[str, str]:
    """This environment without any BANSHUI_* of its own, and the given ones."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")}
    kept.update({f"BANSHUI_{name.upper()}": value for name, value in values.items()})
    return kept


def start(
    name: str, args: list[str], env: dict[str, str], folder: Path, url: str | None
) -> Process:
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(  # noqa: S603 - this venv's banshui, fixed args
            [BANSHUI, *args],
            env=env,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Process(name, popen, log, url)


async def answering(process: Process, path: str) -> None:
    """Until the process answers ``path`` over HTTP; its log if it died first."""
    assert process.url is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_SECONDS
    async with httpx.AsyncClient(base_url=process.url, timeout=2) as http:
        while loop.time() < deadline:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} stopped\n{process.tail()}")
            try:
                if (await http.get(path)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{process.name} did not answer\n{process.tail()}")


def stop(process: Process) -> int:
    """SIGTERM, as a service manager stops it; killed if it hangs. Its exit code."""
    if process.popen.poll() is None:
        process.popen.send_signal(signal.SIGTERM)
    try:
        return process.popen.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.popen.kill()
        return process.popen.wait(timeout=5)
