"""The README's command table cannot drift from the commands that exist."""

from __future__ import annotations

from pathlib import Path

import typer.main

from banshui.cli.main import app

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands() -> set[str]:
    group = typer.main.get_command(app)
    return set(getattr(group, "commands", {}))


def test_every_command_of_the_cli_is_in_the_readme() -> None:
    text = README.read_text()

    missing = sorted(name for name in _commands() if f"`banshui {name}" not in text)

    assert missing == []


def test_the_readme_names_no_command_that_does_not_exist() -> None:
    lines = [
        line
        for line in README.read_text().splitlines()
        if line.startswith("| `banshui ")
    ]
    named = {line.split("`banshui ", 1)[1].split()[0].rstrip("`") for line in lines}

    assert named - _commands() == set()
