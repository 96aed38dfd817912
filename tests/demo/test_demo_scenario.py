"""The demo scenario of DESIGN §7, end to end over real sockets."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from banshui.demo.cast import S1, S2, S3
from banshui.demo.scenario import run_demo
from banshui.drivers.profile import DriverKind

# The demo makes a SQLite database of its own, whatever the suite runs on.
pytestmark = pytest.mark.sqlite_only


@pytest.mark.parametrize(
    "driver", ["http", pytest.param("browser", marks=pytest.mark.slow)]
)
async def test_the_demo_meets_every_expectation_of_the_table(
    driver: DriverKind,
) -> None:
    result = await run_demo(seed=3, driver=driver)

    assert result["ok"] is True
    steps = [(s["sms_used"], s["switched"], s["number"]) for s in result["logins"]]
    assert steps == [
        (1, False, S1),
        (0, True, S1),
        (1, False, S1),
        (1, False, S3),
        (1, False, S1),
        (1, False, S2),
    ]
    assert all(login["status"] == "succeeded" for login in result["logins"])
    assert (result["sms_total"], result["naive_sms"]) == (5, 6)
    assert (result["sms_manual"], result["violations"], result["faults"]) == (17, 0, [])


def test_banshui_demo_json_prints_one_object_and_exits_zero() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "banshui", "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    result = json.loads(finished.stdout)
    assert result["ok"] is True
    assert [login["step"] for login in result["logins"]] == [1, 2, 3, 4, 5, 6]
