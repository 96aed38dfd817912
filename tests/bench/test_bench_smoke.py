"""The benchmark harness runs end to end and writes the keys its readers rely on.

Sizes are tiny: the figures say the harness works, nothing about speed, so
nothing here compares a figure with its target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "bench" / "corpus.jsonl"
LATEST = ROOT / "bench" / "results" / "latest.json"

FIGURES = (
    "ingest_per_s",
    "ingest_ratio",
    "handoff_p50_ms",
    "handoff_p99_ms",
    "poll_baseline_p50_ms",
    "extraction_accuracy",
    "extraction_per_s",
    "sms_spent",
    "sms_lower_bound",
    "sms_naive",
    "makespan_ratio",
    "peak_rss_mb",
)
MACHINE = ("cpu", "cores", "memory_gib", "python")
KINDS = {"bureau_login", "verification", "notice"}
# The harness makes SQLite databases of its own, whatever the suite runs on.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "bench", "--quick", "--in-process", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(out.read_text())
    return report


@pytest.mark.slow
def test_a_quick_run_writes_every_figure_as_a_number(
    quick_report: dict[str, Any],
) -> None:
    missing = [key for key in FIGURES if not _is_number(quick_report.get(key))]

    assert missing == []


@pytest.mark.slow
def test_a_quick_run_names_the_machine_and_the_commit(
    quick_report: dict[str, Any],
) -> None:
    assert all(quick_report["machine"].get(key) for key in MACHINE)
    assert quick_report["commit"] is None or len(quick_report["commit"]) == 40
    assert quick_report["mode"] == "quick"


@pytest.mark.slow
def test_a_quick_run_checks_every_target(quick_report: dict[str, Any]) -> None:
    targets = quick_report["targets"]

    assert {"ingest_per_s", "handoff_p99_ms", "makespan_ratio"} <= set(targets)
    assert all(check["met"] in (True, False) for check in targets.values())


@pytest.mark.slow
def test_every_acknowledged_sms_of_the_quick_ingest_was_committed(
    quick_report: dict[str, Any],
) -> None:
    ingest = quick_report["details"]["ingest"]

    assert ingest["ingest_acked"] > 0
    assert ingest["every_ack_committed"] is True


@pytest.mark.slow
def test_the_quick_ingest_is_measured_against_both_no_op_routes(
    quick_report: dict[str, Any],
) -> None:
    ingest = quick_report["details"]["ingest"]
    paths = [run["path"] for run in ingest["runs"]]

    assert paths.count("/bench/noop") == 2
    assert paths.count("/bench/noop-bare") == 2
    assert _is_number(ingest["ingest_ratio_bare"])
    assert _is_number(ingest["noop_bare_per_s"])


@pytest.mark.slow
def test_the_quick_day_spends_no_sms_beyond_the_fresh_sessions_it_needed(
    quick_report: dict[str, Any],
) -> None:
    economy = quick_report["details"]["economy"]

    assert economy["sms_spent"] <= economy["sms_lower_bound"]
    assert economy["violations"]["total"] == 0


def test_the_corpus_gives_an_answer_and_a_failure_kind_for_every_text() -> None:
    rows = [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines()]

    assert len({row["id"] for row in rows}) == len(rows)
    assert all(row["text"] and row["failure"] for row in rows)
    assert all(row["code"] is None or isinstance(row["code"], str) for row in rows)
    assert all(row["kind"] in KINDS for row in rows)
    assert all((row["code"] is None) == (row["kind"] == "notice") for row in rows)


@pytest.mark.skipif(not LATEST.is_file(), reason="no committed results yet")
def test_the_committed_results_hold_every_figure() -> None:
    report = json.loads(LATEST.read_text())

    assert [key for key in FIGURES if key not in report] == []
    assert report["mode"] == "full"
    assert all(report["machine"].get(key) for key in MACHINE)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
