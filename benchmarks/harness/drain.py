"""Drain: a backlog published first, then one worker started; sustained records/s from 10 % to 90 %."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from benchmarks.harness.environment import Phase, scrape_metrics
from benchmarks.harness.memory import cpu_seconds
from benchmarks.harness.profiling import Profiler
from benchmarks.harness.stats import stage_breakdown, sustained_rate
from benchmarks.harness.workload import RawProducer, Workload

__all__ = ["measure_drain"]

logger = logging.getLogger(__name__)


async def measure_drain(
    phase: Phase, workload: Workload, n: int, profiler: Profiler | None = None
) -> dict[str, Any]:
    """Publish ``n`` records to a topic nobody consumes, start one worker, time the drain.

    The rate is taken from the rows' write times (``diagnoses.created_at``) between the 10th and
    90th percentile of completions, so model loading and the group join fall outside it.
    """
    async with RawProducer(phase.bootstrap, phase.topic) as producer:
        ids, first_send, last_ack = await producer.send_all(workload, n)
    logger.info("backlog published", extra={"phase": phase.name, "records": n,
                                            "publish_records_per_s": round(n / (last_ack - first_send), 1)})  # fmt: skip
    [worker] = phase.start_workers(1)
    await phase.wait_metrics()
    await phase.wait_stored(1, timeout=180)  # steady state: model loaded, group joined, first batch written
    before, cpu_before = scrape_metrics(worker), _cpu(worker)
    with profiler.attach(worker, f"{phase.database.name}-drain") if profiler else contextlib.nullcontext():
        await phase.wait_stored(n, timeout=120 + n / 5)
    after, cpu_after = scrape_metrics(worker), _cpu(worker)
    rows = await phase.database.rows(phase.topic, set(ids))
    rate = sustained_rate([row.created_at.timestamp() for row in rows])
    stages = stage_breakdown(before, after, rate)
    if stages.get("records"):  # CPU of the worker and its assessment processes, per record
        stages["worker_cpu_ms"] = 1000 * (cpu_after - cpu_before) / stages["records"]
    return {
        "records": n,
        "publish_records_per_s": n / (last_ack - first_send),
        "records_per_s": rate,
        "stages": stages,
    }


def _cpu(worker: Any) -> float:
    return cpu_seconds(worker.process.pid) if worker.process else 0.0
