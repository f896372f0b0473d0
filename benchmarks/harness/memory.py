"""Memory figures: a worker's peak RSS (``VmHWM``) and the machine's total memory, from /proc."""

from __future__ import annotations

from pathlib import Path

__all__ = ["peak_rss_bytes", "machine_memory_bytes"]


def _status_kib(path: Path, field: str) -> int:
    try:
        text = path.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def peak_rss_bytes(pid: int) -> int:
    """Peak resident set size of a live process (``VmHWM`` in /proc/<pid>/status); 0 if it is gone."""
    return _status_kib(Path(f"/proc/{pid}/status"), "VmHWM") * 1024


def machine_memory_bytes() -> int:
    """Total memory of this machine (``MemTotal`` of /proc/meminfo)."""
    return _status_kib(Path("/proc/meminfo"), "MemTotal") * 1024
