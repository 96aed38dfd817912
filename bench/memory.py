"""Resident memory and CPU time of a process, from ``/proc/<pid>`` (Linux)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

KIB_PER_MIB = 1024


def status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak since start or the last reset), in MiB."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / KIB_PER_MIB
    return found


def reset_peak(pid: int | str = "self") -> bool:
    """Make VmHWM start again from VmRSS, so a peak belongs to what follows."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    return False


def cpu_seconds(pid: int | str = "self") -> float:
    """User and system time of every thread of the process so far, in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The name in parentheses may hold spaces: count from after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
