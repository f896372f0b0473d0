"""End to end: workers already running, a burst published; first publish to last stored row.

Also serves "per record" (the same with ``BATCH_MAX=1``) and each side of "scaling" (1 vs 2 workers).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from benchmarks.harness.environment import Phase, scrape_metrics
from benchmarks.harness.profiling import Profiler
from benchmarks.harness.stats import stage_breakdown, sustained_rate
from benchmarks.harness.workload import RawProducer, Workload

__all__ = ["measure_end_to_end"]

logger = logging.getLogger(__name__)


async def measure_end_to_end(
    phase: Phase, workload: Workload, n: int, already_stored: int = 0, profiler: Profiler | None = None
) -> dict[str, Any]:
    """Publish ``n`` records as fast as the broker takes them while the phase's workers consume.

    ``records_per_s`` is ``n`` over first send -> last row written; ``sustained_records_per_s`` is
    the 10-90 % completion rate (what the scaling ratio compares). ``already_stored`` counts rows
    of earlier measurements on the same topic.
    """
    before = [scrape_metrics(worker) for worker in phase.workers]
    profile = (
        profiler.attach(phase.workers[0], f"{phase.database.name}-{phase.name}-e2e") if profiler else None
    )
    with profile or contextlib.nullcontext():
        async with RawProducer(phase.bootstrap, phase.topic) as producer:
            ids, first_send, last_ack = await producer.send_all(workload, n)
        await phase.wait_stored(already_stored + n, timeout=120 + n / 2)
    after = [scrape_metrics(worker) for worker in phase.workers]
    rows = await phase.database.rows(phase.topic, set(ids))
    done = [row.created_at.timestamp() for row in rows]
    wall_s = max(done) - first_send
    sustained = sustained_rate(done)
    per_worker = sustained / len(phase.workers)
    stages = [stage_breakdown(b, a, per_worker) for b, a in zip(before, after, strict=True)]
    return {
        "records": n,
        "workers": len(phase.workers),
        "publish_records_per_s": n / (last_ack - first_send),
        "records_per_s": n / wall_s,
        "sustained_records_per_s": sustained,
        "wall_s": wall_s,
        "stages": stages[0] if len(stages) == 1 else stages,
    }
