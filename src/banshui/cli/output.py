"""Printing for people (tables) and for machines (JSON alone on standard output)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from banshui.printable import printable

out = Console()
err = Console(stderr=True)


# What json.dumps leaves raw with ensure_ascii=False and a terminal may still obey.
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def emit_json(value: Any) -> None:
    # C0 characters are escaped by json itself; the rest become \u escapes, the
    # same strings to a JSON reader.
    text = json.dumps(value, ensure_ascii=False, default=str)
    safe = _RAW_IN_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
    sys.stdout.write(safe + "\n")
    sys.stdout.flush()


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    shown = Table(title=plain(title), title_justify="left")
    for column in columns:
        # Fold, never cut: a webhook URL or an API key must print whole.
        shown.add_column(column, overflow="fold")
    for row in rows:
        shown.add_row(*(plain("" if cell is None else str(cell)) for cell in row))
    out.print(shown)


def plain(text: str) -> Text:
    """Data as Rich shows it: no markup read in it, no control character obeyed."""
    return Text(printable(text, keep="\n"))


def fail(message: str, code: int = 1) -> None:
    err.print(Text.assemble(("error:", "red"), " ", plain(message)), highlight=False)
    raise SystemExit(code)
