"""docs/rules.md names, for each rule and each simulated fault, tests that exist."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "rules.md"
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
RULE_ROW = re.compile(r"^\| \*\*(R\d+)\*\*")


@cache
def _tests_of(path: Path) -> frozenset[str]:
    """The module-level test functions a test file defines."""
    tree = ast.parse(path.read_text(), filename=str(path))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, kinds) and node.name.startswith("test_")
    )


def _section(heading: str) -> list[str]:
    text = RULES.read_text().split(f"## {heading}\n", 1)[1]
    return text.split("\n## ", 1)[0].splitlines()


def _table_rows(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("| ") and "---" not in line][1:]


def test_every_test_named_in_the_rules_page_exists() -> None:
    named = NAMED.findall(RULES.read_text())

    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).is_file() or name not in _tests_of(ROOT / path)
    ]

    assert len(named) > 30
    assert missing == []


def test_every_rule_r1_to_r15_has_a_row_naming_its_tests() -> None:
    rows = {}
    for line in _section("Rules"):
        found = RULE_ROW.match(line)
        if found:
            rows[found.group(1)] = line

    assert sorted(rows, key=lambda rule: int(rule[1:])) == [
        f"R{number}" for number in range(1, 16)
    ]
    assert [rule for rule, row in rows.items() if not NAMED.search(row)] == []


def test_every_fault_of_the_simulator_is_listed_with_its_test() -> None:
    rows = _table_rows(_section("The simulator's faults"))
    faults = [row.split("|")[1].strip() for row in rows]

    assert faults == [
        "session idle time-out",
        "random session drops",
        "slow answers",
        "5xx, before or after the step took effect",
        "transient person-not-found (R11)",
        "five wrong codes lock the flow",
        "the carrier delays an SMS",
        "the carrier duplicates an SMS",
        "the carrier reorders SMS",
        "the carrier loses an SMS",
    ]
    for row in rows:
        simulator_side = row.split("|")[2]
        assert NAMED.search(simulator_side), row
