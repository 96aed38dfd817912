"""``banshui serve`` as its own process on 127.0.0.1, to be killed and started again.

The server runs exactly as an operator starts it (``python -m banshui serve``),
on a SQLite file of the test's own; its standard output and error go to a log
file that the test can read afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from banshui.core.settings import Settings

START_SECONDS = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Served:
    """One server's folder, settings and (while it runs) process."""

    folder: Path
    port: int = field(default_factory=free_port)
    extra: dict[str, str] = field(default_factory=dict)
    secret_key: str = field(
        default_factory=lambda: base64.b64encode(os.urandom(32)).decode()
    )
    process: asyncio.subprocess.Process | None = None
    # The same server started from synchronous code (schemathesis' tests).
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.folder / 'banshui.db'}"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def environment(self) -> dict[str, str]:
        values = {
            "BANSHUI_DATABASE_URL": self.database_url,
            "BANSHUI_VAR_DIR": str(self.folder / "var"),
            "BANSHUI_SECRET_KEY": self.secret_key,
            "BANSHUI_PUBLIC_URL": self.url,
            "BANSHUI_SIMULATOR": "off",
        }
        return {**values, **self.extra}

    def settings(self) -> Settings:
        """The same settings, for seeding the database from the test."""
        values = {
            key.removeprefix("BANSHUI_").lower(): value
            for key, value in self.environment().items()
        }
        return Settings(**values)  # type: ignore[arg-type]

    def command(self) -> tuple[list[str], dict[str, str]]:
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("BANSHUI_")
        }
        command = [sys.executable, "-m", "banshui", "serve", "--port", str(self.port)]
        return command, {**inherited, **self.environment()}

    def start_blocking(self) -> None:
        command, env = self.command()
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter
                command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the server did not start: {self.log.read_text()}")

    def stop_blocking(self) -> None:
        if self.popen is None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.popen = None

    async def start(self) -> None:
        command, env = self.command()
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *command,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self.starts += 1
        await self._until_healthy()

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a power cut or the OOM killer."""
        process = self.process
        assert process is not None, "the server is not running"
        process.send_signal(signal.SIGKILL)
        await process.wait()
        self.process = None

    async def stop(self) -> None:
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()
        self.process = None

    async def _until_healthy(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_SECONDS
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while loop.time() < deadline:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise RuntimeError(f"the server exited: {self.log.read_text()}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"the server did not start: {self.log.read_text()}")
