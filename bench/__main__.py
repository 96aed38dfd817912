"""``python -m bench``: run every benchmark, write results/latest.json, print a summary.

Each part runs in processes of its own, so one part's memory and warm caches do
not colour another's. ``--quick`` runs a tiny version of every part in well
under a minute (for ``make bench-smoke`` and the test suite): its figures say
the harness works, nothing about speed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import ingest, machine, postgresql
from bench.processes import ROOT, bench_env

LATEST = Path(__file__).resolve().parent / "results" / "latest.json"

# (key, how it is compared, the target) — DESIGN and the benchmark brief.
TARGETS: list[tuple[str, str, float]] = [
    ("ingest_per_s", ">=", 2000),
    ("ingest_ratio", ">=", 0.5),
    ("handoff_p99_ms", "<", 20),
    ("extraction_accuracy", ">=", 1.0),
    ("extraction_wrong_on_negatives", "<=", 0),
    ("extraction_per_s", ">=", 20_000),
    ("sms_over_lower_bound", "<=", 0),
    ("quota_failures_with_quota_left", "<=", 0),
    ("makespan_ratio", "<=", 1.10),
]

MAKESPAN = ["--requests", "200", "--hold-ms", "1000", "3000", "--slow-ms", "50", "150"]
QUICK = {
    "ingest_seconds": 0.5,
    "breakdown_calls": 5,
    "connections": 2,
    "few_connections": 1,
    "warmup": 10,
    "codes": 12,
    "baseline": 3,
    "extraction_seconds": 0.2,
    "day": [
        "--persons", "3", "--enterprises", "6", "--regions", "2",
        "--requests", "12", "--admin-drops", "1", "--manual-persons", "1",
        "--manual-logins", "2", "--hold-ms", "1", "3", "--slow-ms", "5", "10",
    ],
    "makespan_day": [],
}  # fmt: skip


# Checked when the hand-off across processes ran (on PostgreSQL).
ACROSS_TARGETS: list[tuple[str, str, float]] = [("handoff_across_p99_ms", "<", 50)]


def main() -> None:
    args = _arguments()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    every = ["ingest", "handoff", "extraction", "economy", "makespan"]
    # Across processes needs PostgreSQL's LISTEN/NOTIFY: run it where a server
    # answers (a quick run only when one was named).
    server = args.postgresql_server or postgresql.chosen_server()
    if (args.postgresql_server or not args.quick) and postgresql.answers(server):
        every.append("handoff-across")
    elif not args.quick:
        _say(
            f"no PostgreSQL answers at {postgresql.shown(server)}: "
            "the hand-off across processes is not run"
        )
    parts = set(args.only or every)
    results: dict[str, Any] = {}

    if "ingest" in parts:
        _say("ingest: server and load generator on their own cores …")
        plan = ingest.IngestPlan(
            seconds=args.ingest_seconds,
            connections=args.connections,
            few_connections=args.few_connections,
            warmup=args.warmup,
            client=args.client,
        )
        results["ingest"] = ingest.run(plan)
        _say("ingest breakdown: each step of one webhook SMS, alone …")
        command = ["bench.breakdown", "--calls", str(args.breakdown_calls)]
        server_cpu = ingest.cores()[0]
        if server_cpu is not None and not args.in_process:
            command += ["--cpu", str(server_cpu)]
        results["ingest_breakdown"] = _part(command, args.in_process)
    if "handoff" in parts:
        _say("code hand-off: waiter and webhook in one process …")
        command = ["bench.handoff", "--codes", str(args.codes)]
        command += ["--baseline", str(args.baseline)]
        if args.database_url:
            command += ["--database-url", args.database_url]
        results["handoff"] = _part(command, args.in_process)
    if "handoff-across" in parts:
        _say("code hand-off across processes: webhook in a banshui serve of its own …")
        command = ["bench.handoff", "--across-processes", "--codes", str(args.codes)]
        command += ["--baseline", str(args.baseline), "--database-url"]
        with postgresql.throwaway_database(server) as url:
            results["handoff_across"] = _part([*command, url], args.in_process)
    if "extraction" in parts:
        _say("extraction: samples, corpus, texts per second …")
        command = ["bench.extraction", "--seconds", str(args.extraction_seconds)]
        results["extraction"] = _part(command, args.in_process)
    # The day's banshui serve on the first core, its bureau and robots on the other.
    day = ["bench.day", *args.day]
    if None not in ingest.cores() and not args.in_process:
        server_cpu, load_cpu = ingest.cores()
        day += ["--server-cpu", str(server_cpu), "--cpu", str(load_cpu)]
    if "economy" in parts:
        _say("SMS economy: a simulated day through the engine …")
        results["economy"] = _part(day, args.in_process)
    if "makespan" in parts and args.quick and "economy" in results:
        # Quick: the one tiny day had slow answers already; it stands for both.
        results["makespan"] = results["economy"]
    elif "makespan" in parts:
        _say("makespan: the same day with the bureau's slow answers …")
        makespan = [*day, *args.makespan_day]
        results["makespan"] = _part(makespan, args.in_process)

    report = _report(results, quick=args.quick)
    # Other work on the machine slows every figure: say how busy it was.
    report["machine"]["load_average_at_start"] = load_at_start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    _summary(report, args.out)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run hand-off, extraction and the days here, not in processes of "
        "their own (faster to start; memory figures then mean little)",
    )
    parser.add_argument("--out", type=Path, default=LATEST)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[
            "ingest",
            "handoff",
            "handoff-across",
            "extraction",
            "economy",
            "makespan",
        ],
    )
    parser.add_argument("--ingest-seconds", type=float, default=10.0)
    parser.add_argument(
        "--connections", type=int, default=32, help="gateways posting at once"
    )
    parser.add_argument(
        "--few-connections",
        type=int,
        default=8,
        help="the webhook once more with this few (0: not)",
    )
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument("--breakdown-calls", type=int, default=300)
    parser.add_argument("--codes", type=int, default=300)
    parser.add_argument("--baseline", type=int, default=60)
    parser.add_argument(
        "--database-url", help="for the hand-off in one process (default: SQLite)"
    )
    parser.add_argument(
        "--postgresql-server",
        help="where the hand-off across processes makes its throw-away database "
        f"(default: ${postgresql.SERVER_VARIABLE} or {postgresql.DEFAULT_SERVER})",
    )
    parser.add_argument("--extraction-seconds", type=float, default=3.0)
    parser.add_argument(
        "--day",
        nargs=argparse.REMAINDER,
        default=[],
        help="flags for bench.day (see python -m bench.day --help); last",
    )
    args = parser.parse_args()
    # A morning of the same day: the same cast and kind of requests, fewer of
    # them, each session held as long as an RPA job takes.
    args.makespan_day = MAKESPAN
    if args.quick:
        for name, value in QUICK.items():
            if name == "day" and args.day:
                continue
            setattr(args, name, value)
    return args


def _part(command: list[str], in_process: bool = False) -> dict[str, Any]:
    """Run ``python -m <module> …`` in its own process (or here); its answer."""
    if in_process:
        module = importlib.import_module(command[0])
        answer_here: dict[str, Any] = module.cli(command[1:])
        return answer_here

    env = bench_env()
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = Path(tempfile.gettempdir()) / f"banshui-{command[0]}.log"
    log.write_text(done.stderr)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(
            f"{command[0]} failed with exit status {done.returncode} (all of it: {log})"
        )
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def _report(results: dict[str, Any], quick: bool) -> dict[str, Any]:
    ingest_ = results.get("ingest", {})
    handoff = results.get("handoff", {})
    across = results.get("handoff_across", {})
    extraction = results.get("extraction", {})
    economy = results.get("economy", {})
    makespan = results.get("makespan", {})
    peaks = [r["peak_rss_mb"] for r in (ingest_, handoff) if "peak_rss_mb" in r]
    idles = [r["idle_rss_mb"] for r in (ingest_, handoff) if "idle_rss_mb" in r]
    figures: dict[str, Any] = {
        "ingest_per_s": ingest_.get("ingest_per_s"),
        "ingest_ratio": ingest_.get("ingest_ratio"),
        "handoff_p50_ms": handoff.get("handoff_p50_ms"),
        "handoff_p99_ms": handoff.get("handoff_p99_ms"),
        "poll_baseline_p50_ms": handoff.get("poll_baseline_p50_ms"),
        "handoff_across_p50_ms": across.get("handoff_p50_ms"),
        "handoff_across_p99_ms": across.get("handoff_p99_ms"),
        "extraction_accuracy": extraction.get("extraction_accuracy"),
        "extraction_per_s": extraction.get("extraction_per_s"),
        "sms_spent": economy.get("sms_spent"),
        "sms_lower_bound": economy.get("sms_lower_bound"),
        "sms_naive": economy.get("sms_naive"),
        "makespan_ratio": _ratio(
            makespan.get("seconds"), makespan.get("critical_path_s")
        ),
        "peak_rss_mb": max(peaks) if peaks else None,
        "idle_rss_mb": max(idles) if idles else None,
    }
    derived = {
        "extraction_wrong_on_negatives": extraction.get("all", {}).get(
            "wrong_codes_on_negatives"
        ),
        "sms_over_lower_bound": _difference(
            economy.get("sms_spent"), economy.get("sms_lower_bound")
        ),
        "quota_failures_with_quota_left": economy.get("quota_failures_with_quota_left"),
    }
    return {
        **figures,
        "machine": machine.describe(),
        "commit": machine.commit(),
        "tree_dirty": machine.tree_is_dirty(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "targets": _targets(
            {**figures, **derived},
            TARGETS + (ACROSS_TARGETS if across or not quick else []),
        ),
        "details": results,
    }


def _ratio(top: float | None, bottom: float | None) -> float | None:
    if top is None or not bottom:
        return None
    return top / bottom


def _difference(left: int | None, right: int | None) -> int | None:
    return None if left is None or right is None else left - right


def _targets(
    values: dict[str, Any], targets: list[tuple[str, str, float]]
) -> dict[str, Any]:
    checks = {}
    for key, how, target in targets:
        value = values.get(key)
        met = None if value is None else _compare(value, how, target)
        checks[key] = {"value": value, "target": f"{how} {target:g}", "met": met}
    return checks


def _compare(value: float, how: str, target: float) -> bool:
    return {
        ">=": value >= target,
        "<=": value <= target,
        "<": value < target,
    }[how]


def _summary(report: dict[str, Any], out: Path) -> None:
    machine_ = report["machine"]
    print(
        f"\nbanshui benchmarks ({report['mode']}) on {machine_['cpu']}, "
        f"{machine_['cores']} cores, Python {machine_['python']}, "
        f"commit {str(report['commit'])[:10]}"
    )
    for key, check in report["targets"].items():
        mark = {True: "met", False: "MISSED", None: "not run"}[check["met"]]
        shown = _shown(check["value"])
        print(f"  {key:32} {shown:>14}  target {check['target']:>10}  {mark}")
    # Beside the target's ratio: the webhook against a no-op routed as leanly,
    # and both as the server's CPU per request has them.
    ingest_ = report["details"].get("ingest", {})
    shown_too = ("ingest_per_s_few_connections", "ingest_ratio_bare", "cpu_ratio")
    for key in (*shown_too, "cpu_ratio_bare"):
        print(f"  {key:32} {_shown(ingest_.get(key)):>14}")
    for key in ("handoff_p50_ms", "poll_baseline_p50_ms", "sms_spent"):
        print(f"  {key:32} {_shown(report[key]):>14}")
    for key in ("sms_lower_bound", "sms_naive", "idle_rss_mb", "peak_rss_mb"):
        print(f"  {key:32} {_shown(report[key]):>14}")
    print(f"written to {out}")


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.0f}"
    return str(value)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
