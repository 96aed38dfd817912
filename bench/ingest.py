"""Ingest: SMS webhooks stored durably, from a separate load process, against no-op.

Two processes, each pinned to its own core where there are two: the server
(``bench.server``: ``create_app`` as ``banshui serve`` builds it, SQLite, the
simulator off, plus two no-op routes) and the load generator (``bench.load``).
The load posts to the ordinary no-op route, the bare one, the SmsForwarder
webhook, the bare one and the ordinary one again, for the same time each, over
the same connections. ``ingest_ratio`` is the webhook's rate over the ordinary
no-op's (the mean of its two runs); ``ingest_ratio_bare`` over the bare one's,
served the lean way the webhook is (see ``bench.server``). Afterwards the SMS
rows in the database are counted: every 2xx must be one.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import memory
from bench.processes import ROOT, bench_env, free_port, until_answering
from bench.server import BARE_NOOP, NOOP, NUMBER, SOURCE

HOOK = f"/hooks/sms/smsforwarder/{SOURCE}"
# The ordinary no-op, the bare one, the webhook, and back: each rate is read
# beside the others, at the same moment of the machine.
SERIES = (NOOP, BARE_NOOP, HOOK, BARE_NOOP, NOOP)


@dataclass(frozen=True)
class IngestPlan:
    seconds: float = 10.0
    # Gateways at once: every phone posts its own SMS, each waiting for its
    # answer. Enough of them that the server is busy while a commit syncs.
    connections: int = 32
    # The webhook once more with this few, to show what fewer gateways get.
    few_connections: int = 8
    warmup: int = 300
    client: str = "raw"
    max_requests: int = 1_000_000


def cores() -> tuple[int | None, int | None]:
    """(server core, load core): the first two this process may use, if two."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None, None
    return allowed[0], allowed[1]


def run(plan: IngestPlan) -> dict[str, Any]:
    server_cpu, load_cpu = cores()
    secret = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="banshui-ingest-") as folder:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = _start_server(Path(folder), port, secret, server_cpu)
        try:
            _wait_ready(url, server)
            idle = memory.status(server.pid)
            memory.reset_peak(server.pid)
            first = 0
            runs = []
            series = [(path, plan.connections) for path in SERIES]
            if plan.few_connections:
                series.append((HOOK, plan.few_connections))
            for path, connections in series:
                spent = memory.cpu_seconds(server.pid)
                result = _load(plan, url, path, secret, load_cpu, first, connections)
                spent = memory.cpu_seconds(server.pid) - spent
                # The warm-up's requests are in the server's time too.
                answered = result["sent"] + plan.warmup
                result["server_cpu_ms"] = spent / answered * 1000 if answered else 0.0
                first = result["next_index"]
                runs.append(result)
            peak = memory.status(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        committed = _committed(Path(folder) / "banshui.db")

    noop = (runs[0]["per_s"] + runs[4]["per_s"]) / 2
    bare = (runs[1]["per_s"] + runs[3]["per_s"]) / 2
    ingest = runs[2]
    noop_cpu = (runs[0]["server_cpu_ms"] + runs[4]["server_cpu_ms"]) / 2
    bare_cpu = (runs[1]["server_cpu_ms"] + runs[3]["server_cpu_ms"]) / 2
    ingest_cpu = ingest["server_cpu_ms"]
    hooks = [run for run in runs if run["path"] == HOOK]
    few = runs[5] if len(runs) > len(SERIES) else None
    return {
        "ingest_per_s": ingest["per_s"],
        "ingest_per_s_few_connections": few["per_s"] if few else None,
        "few_connections": plan.few_connections or None,
        "noop_per_s": noop,
        "ingest_ratio": ingest["per_s"] / noop if noop else 0.0,
        "noop_bare_per_s": bare,
        "ingest_ratio_bare": ingest["per_s"] / bare if bare else 0.0,
        # The server's CPU (its core, both its threads) per request: what the
        # ratios come to when that core is all that limits them, however busy
        # the rest of the machine is.
        "ingest_cpu_ms": ingest_cpu,
        "noop_cpu_ms": noop_cpu,
        "noop_bare_cpu_ms": bare_cpu,
        "cpu_ratio": noop_cpu / ingest_cpu if ingest_cpu else 0.0,
        "cpu_ratio_bare": bare_cpu / ingest_cpu if ingest_cpu else 0.0,
        "ingest_acked": ingest["ok"],
        "ingest_stored": ingest["stored"],
        "ingest_statuses": ingest["statuses"],
        "committed_rows": committed,
        # The warm-up's SMS are stored too: every acked SMS must be a row.
        "every_ack_committed": committed
        == sum(run["stored"] + run["warmup_stored"] for run in hooks),
        "runs": runs,
        "server_cpu": server_cpu,
        "load_cpu": load_cpu,
        "client": plan.client,
        "connections": plan.connections,
        "idle_rss_mb": idle["VmRSS"],
        "peak_rss_mb": peak["VmHWM"],
        "simulator": "off",
        "database": "sqlite (WAL, synchronous=FULL)",
        # What uvicorn picks by default, as `banshui serve` runs it.
        "http_parser": "httptools" if _installed("httptools") else "h11",
        "event_loop": "uvloop" if _installed("uvloop") else "asyncio",
    }


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _start_server(
    folder: Path, port: int, secret: str, cpu: int | None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench.server", "--folder", str(folder)]
    command += ["--port", str(port), f"--secret={secret}"]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    return subprocess.Popen(command, cwd=ROOT, env=bench_env())  # noqa: S603


def _wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    def stopped() -> str | None:
        if server.poll() is None:
            return None
        return f"the bench server exited with {server.returncode}"

    asyncio.run(until_answering(url, stopped))


def _load(
    plan: IngestPlan,
    url: str,
    path: str,
    secret: str,
    cpu: int | None,
    first: int,
    connections: int,
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.load", "--url", url, "--path", path]
    command += [f"--secret={secret}", "--number", NUMBER, "--first", str(first)]
    command += ["--count", str(plan.max_requests), "--seconds", str(plan.seconds)]
    command += ["--warmup", str(plan.warmup), "--connections", str(connections)]
    command += ["--client", plan.client]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=bench_env(), capture_output=True, check=True, timeout=300
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _committed(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM inbound_sms").fetchone()
    return int(count)
