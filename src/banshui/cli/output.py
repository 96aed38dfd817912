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

# Piped or redirected, no terminal folds the lines: wide enough that Rich never
# has to either, so tables print at their own width, to be copied or grepped.
PIPED_WIDTH = 1000
# A cell that is one run of printable ASCII (a tax id, a number, a login id, a
# key, a URL) is copied whole or not at all: it is never split over lines.
_ID_LIKE = re.compile("[!-~]+")


def _console(*, stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console.width = PIPED_WIDTH
    return console


out = _console()
err = _console(stderr=True)


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
    cells = [[_cell(value) for value in row] for row in rows]
    shown = Table(title=plain(title), title_justify="left")
    for index, column in enumerate(columns):
        # Prose folds; an id-like cell keeps its column at least as wide as it.
        kept = [row[index] for row in cells if index < len(row)]
        whole = [cell.cell_len for cell in kept if cell.no_wrap]
        shown.add_column(column, overflow="fold", min_width=max(whole, default=None))
    for row in cells:
        shown.add_row(*row)
    # Not cut at the terminal's edge either: the terminal folds a line, and a
    # folded line copies whole.
    out.print(shown, crop=False)


def _cell(value: Any) -> Text:
    text = plain("" if value is None else str(value))
    if _ID_LIKE.fullmatch(text.plain):
        text.no_wrap = True
    return text


def plain(text: str) -> Text:
    """Data as Rich shows it: no markup read in it, no control character obeyed."""
    return Text(printable(text, keep="\n"))


def fail(message: str, code: int = 1) -> None:
    err.print(Text.assemble(("error:", "red"), " ", plain(message)), highlight=False)
    raise SystemExit(code)
