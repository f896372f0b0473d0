"""Scaling: the end-to-end burst with 2 workers sharing the recordings topic's partitions.

Both workers load the model and join the group before the burst starts (``wait_ready`` waits
until the group owns every partition), so the figure is the steady 2-worker rate, compared with
the 1-worker ``sustained_records_per_s`` of the end-to-end phase. On a 2-core machine two workers
with 2 torch threads each oversubscribe the cores: the ratio shows what the extra process buys
there (overlap of one worker's IO with the other's compute), not what more cores would give.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from benchmarks.harness.end_to_end import measure_end_to_end
from benchmarks.harness.environment import Phase
from benchmarks.harness.memory import peak_rss_bytes
from benchmarks.harness.workload import Workload

__all__ = ["measure_workers"]

logger = logging.getLogger(__name__)


async def measure_workers(phase: Phase, workload: Workload, n: int, workers: int) -> dict[str, Any]:
    """Start ``workers`` worker processes on a fresh topic, wait for the group, time a burst of ``n``."""
    phase.start_workers(workers)
    await phase.wait_ready()
    result = await measure_end_to_end(phase, workload, n)
    result["cpu_count"] = os.cpu_count()
    result["peak_rss_bytes"] = [peak_rss_bytes(w.process.pid) for w in phase.workers if w.process]
    return result
