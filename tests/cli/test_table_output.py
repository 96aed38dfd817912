"""The command line's tables print ids whole: piped, or on a narrow terminal."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from banshui.demo.cast import COMPANIES, S1, S2, S3, ZHANG_SAN, A

NARROW = 40
# What a terminal is sent besides the text: colours, bold, the cursor's moves.
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def environment(folder: Path, database_url: str | None = None) -> dict[str, str]:
    """A narrow terminal's settings, and the database of the test if it has one."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")}
    chosen = kept | {
        "BANSHUI_VAR_DIR": str(folder / "var"),
        "COLUMNS": str(NARROW),
        "NO_COLOR": "1",
    }
    if database_url is not None:
        chosen["BANSHUI_DATABASE_URL"] = database_url
    return chosen


def banshui(
    folder: Path, *arguments: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``banshui …`` with its standard output a pipe, as in ``make demo | cat``."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "banshui", *arguments],
        capture_output=True,
        text=True,
        env=environment(folder, database_url),
        cwd=folder,
        timeout=120,
        check=False,
    )


def on_a_terminal(folder: Path, database_url: str, *arguments: str) -> str:
    """What ``banshui …`` shows on a terminal NARROW columns wide."""
    leader, follower = pty.openpty()
    size = struct.pack("HHHH", 24, NARROW, 0, 0)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, size)
    with subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "banshui", *arguments],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=environment(folder, database_url) | {"TERM": "xterm"},
        cwd=folder,
    ) as process:
        os.close(follower)
        shown = _read_all(leader)
        process.wait(timeout=60)
    os.close(leader)
    assert process.returncode == 0, shown
    return _ESCAPES.sub("", shown.decode())


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError as error:
            # Linux says EIO once the other end of the terminal has closed.
            if error.errno == errno.EIO:
                break
            raise
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_piped_demo_prints_every_tax_id_and_number_whole(tmp_path: Path) -> None:
    finished = banshui(tmp_path, "demo")

    assert finished.returncode == 0, finished.stderr
    rows = [line for line in finished.stdout.splitlines() if line.startswith("│")]
    # One line a step: nothing of a row was folded onto a line of its own.
    assert len(rows) == 6
    for company in COMPANIES:
        assert company.tax_id in finished.stdout
    for number in (S1, S2, S3):
        assert number in finished.stdout


def test_a_narrow_terminal_shows_a_numbers_tax_id_and_number_whole(
    tmp_path: Path, database_url: str
) -> None:
    made = banshui(
        tmp_path, "customer", "add", "示例客户", "--json", database_url=database_url
    )
    customer = json.loads(made.stdout)
    key, secret = customer["app_key"], customer["app_secret"]
    command = f"绑定小号#{A.tax_id}#{key}#{secret}#{ZHANG_SAN.real_phone}#{S1}"
    bound = banshui(tmp_path, "bind", command, database_url=database_url)
    assert bound.returncode == 0, bound.stderr

    shown = on_a_terminal(tmp_path, database_url, "number", "list")

    row = next(line for line in shown.splitlines() if S1 in line)
    assert A.tax_id in row
