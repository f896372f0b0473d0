"""Memory and CPU figures of worker processes, and the machine's total memory, from /proc.

Peak RSS is ``VmHWM``; CPU time is user + system time (``/proc/<pid>/stat``), which holds up on a
busy machine where wall-clock rates do not. A worker's figures include its child processes (the assessment processes of ``ANALYSIS_PROCESSES``):
the sum of each process's own peak, an upper bound of what the worker held at any one moment.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["peak_rss_bytes", "cpu_seconds", "machine_memory_bytes"]


def _status_kib(path: Path, field: str) -> int:
    try:
        text = path.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    pids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            pids.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return pids


def peak_rss_bytes(pid: int, *, children: bool = True) -> int:
    """Peak resident set size of a live process (``VmHWM`` in /proc/<pid>/status) plus, with
    ``children``, that of its descendants; 0 if it is gone."""
    total = _status_kib(Path(f"/proc/{pid}/status"), "VmHWM") * 1024
    if children:
        total += sum(peak_rss_bytes(child) for child in _children(pid))
    return total


def cpu_seconds(pid: int, *, children: bool = True) -> float:
    """User + system CPU seconds of a live process and, with ``children``, of its live descendants."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)
    if children:
        total += sum(cpu_seconds(child) for child in _children(pid))
    return total


def machine_memory_bytes() -> int:
    """Total memory of this machine (``MemTotal`` of /proc/meminfo)."""
    return _status_kib(Path("/proc/meminfo"), "MemTotal") * 1024
