"""The whole benchmark in one run: ceiling, then per database drain, end to end, latency, memory,
per record, 2 workers and sink capacity; returns the result document ``report`` prints and saves."""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks.harness.ceiling import measure_ceiling
from benchmarks.harness.db_write import measure_db_writes
from benchmarks.harness.drain import measure_drain
from benchmarks.harness.end_to_end import measure_end_to_end
from benchmarks.harness.environment import BenchDatabase, BenchRun
from benchmarks.harness.latency import measure_latency
from benchmarks.harness.memory import peak_rss_bytes
from benchmarks.harness.profiling import Profiler, summarise
from benchmarks.harness.report import RATIO_KEYS, commit_info, machine_info, now_text, ratios
from benchmarks.harness.scaling import measure_workers
from benchmarks.harness.workload import build_workload
from core.config import DEFAULT_MODEL_PATH, Settings, load_settings
from ecgstream.embedded import TansuBroker

__all__ = ["Sizes", "FULL", "QUICK", "run_benchmark", "tuning_settings", "TUNING_SETTINGS"]

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sizes:
    backlog: int  # records of the drain, end-to-end and 2-worker bursts
    per_record: int  # records of the BATCH_MAX=1 run
    latency_seconds: float  # duration of the paced producer
    db_rows: int  # rows per sink micro-benchmark (a quarter of them with signals)
    repeats: int  # timed repeats of the in-memory ceiling
    templates: int  # distinct recordings re-sent with fresh ids


FULL = Sizes(backlog=2000, per_record=300, latency_seconds=60.0, db_rows=2000, repeats=10, templates=48)
QUICK = Sizes(backlog=200, per_record=40, latency_seconds=8.0, db_rows=200, repeats=3, templates=16)


def _half_load_rate(figures: dict[str, Any], ceiling: dict[str, Any]) -> float:
    """Half the measured drain rate (falls back to the burst rate, then to a quarter of the ceiling)."""
    for value in (figures["drain"]["records_per_s"], figures["end_to_end"].get("sustained_records_per_s")):
        if value is not None and math.isfinite(value) and value > 0:
            return 0.5 * float(value)
    return 0.25 * float(ceiling["records_per_s"])


# Worker settings a run may change (--worker-setting); the rest (topics, URLs, secrets) are the harness's.
TUNING_SETTINGS = ("BATCH_MAX", "BATCH_WAIT", "TORCH_THREADS", "ANALYSIS_PROCESSES", "MEASUREMENTS", "FUSION",
                   "STORE_SIGNAL")  # fmt: skip


def tuning_settings(values: dict[str, str]) -> Settings:
    """Default settings with ``values`` (``NAME: value``, names from ``TUNING_SETTINGS``) applied."""
    unknown = sorted(set(values) - set(TUNING_SETTINGS))
    if unknown:
        raise ValueError(f"not a worker tuning setting: {', '.join(unknown)} (one of {', '.join(TUNING_SETTINGS)})")
    return load_settings(values)


# Benchmark recordings are synthetic or public; workers outside `ecgstream up` need a non-default secret.
BENCH_PATIENT_SECRET = "ecgstream-benchmark-patient-secret-0123456789"


async def _one_database(database: BenchDatabase, workload: Any, sizes: Sizes, ceiling: dict[str, Any],
                        home: Path, profiler: Profiler | None, codes: list[int],
                        more_workers: list[int], tuning: Settings) -> dict[str, Any]:  # fmt: skip
    figures: dict[str, Any] = {"url": database.url.split("@")[-1]}
    with TansuBroker(log_path=home / f"tansu-{database.name}.log") as broker:
        await database.prepare()
        run = BenchRun(
            tuning.with_overrides(kafka_bootstrap=broker.bootstrap, database_url=database.url, home=home,
                                  patient_hmac_secret=BENCH_PATIENT_SECRET),  # a configured broker refuses the default
            database, home,
        )
        try:
            async with run.phase("main") as phase:
                logger.info("drain", extra={"database": database.name, "records": sizes.backlog})
                figures["drain"] = await measure_drain(phase, workload, sizes.backlog, profiler)
                logger.info("end to end", extra={"database": database.name, "records": sizes.backlog})
                figures["end_to_end"] = await measure_end_to_end(
                    phase, workload, sizes.backlog, already_stored=sizes.backlog, profiler=profiler
                )
                figures["latency"] = await measure_latency(
                    phase,
                    workload,
                    _half_load_rate(figures, ceiling),
                    sizes.latency_seconds,
                    2 * sizes.backlog,
                )
                worker = phase.workers[0]
                figures["worker_peak_rss_bytes"] = peak_rss_bytes(worker.process.pid) if worker.process else 0
            logger.info("per record", extra={"database": database.name, "records": sizes.per_record})
            async with run.phase("per-record", batch_max=1) as phase:
                phase.start_workers(1)
                await phase.wait_ready()
                figures["per_record"] = await measure_end_to_end(phase, workload, sizes.per_record)
            logger.info("two workers", extra={"database": database.name, "records": sizes.backlog})
            async with run.phase("two-workers") as phase:
                figures["two_workers"] = await measure_workers(phase, workload, sizes.backlog, 2)
            for n in sorted(set(more_workers) - {1, 2}):  # machines with more cores: 4, 8, ...
                logger.info("more workers", extra={"database": database.name, "workers": n})
                async with run.phase(f"workers-{n}") as phase:
                    figures[f"workers_{n}"] = await measure_workers(phase, workload, sizes.backlog, n)
            logger.info("sink capacity", extra={"database": database.name, "rows": sizes.db_rows})
            figures["db_write"] = await measure_db_writes(
                database, workload, sizes.db_rows, ceiling["batch_max"], codes
            )
        finally:
            await database.close()
    if profiler is not None:
        figures["profile"] = {
            phase: summarise(path, sizes.backlog)
            for phase, path in (
                ("drain", profiler.files.get(f"{database.name}-drain")),
                ("end_to_end", profiler.files.get(f"{database.name}-main-e2e")),
            )
            if path is not None
        }
    figures["ratios"] = ratios(ceiling, figures)
    return figures


async def run_benchmark(*, quick: bool, databases: list[str], postgres_url: str, backlog: int | None = None,
                        latency_seconds: float | None = None, more_workers: Sequence[int] = (),
                        data_dir: Path | None, profile_dir: Path | None,
                        model_path: Path = DEFAULT_MODEL_PATH,
                        worker_settings: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Run every measurement once; return the result document (see ``report``).

    ``worker_settings`` are environment-style settings of the workers and the ceiling (for example
    ``{"ANALYSIS_PROCESSES": "0"}``), to compare configurations; unset ones keep their defaults.
    """
    sizes = QUICK if quick else FULL
    if backlog is not None:
        sizes = replace(sizes, backlog=backlog)
    if latency_seconds is not None:
        sizes = replace(sizes, latency_seconds=latency_seconds)
    defaults = tuning_settings(worker_settings or {})
    load_at_start = list(os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="ecgstream-bench-") as tmp:
        home = Path(tmp)
        makers = {
            "sqlite": lambda: BenchDatabase.sqlite(home),
            "postgres": lambda: BenchDatabase.postgres(postgres_url),
        }
        workload = build_workload(data_dir, sizes.templates)
        logger.info(
            "compute ceiling",
            extra={"batch_max": defaults.batch_max, "torch_threads": defaults.torch_threads},
        )
        ceiling = measure_ceiling(workload, model_path, defaults, sizes.repeats)
        codes = list(ceiling.pop("label_codes"))
        profiler = Profiler(profile_dir) if profile_dir is not None else None
        per_db: dict[str, Any] = {}
        for name in databases:
            per_db[name] = await _one_database(
                makers[name](), workload, sizes, ceiling, home, profiler, codes, list(more_workers), defaults
            )
    primary = per_db.get("postgres") or next(iter(per_db.values()))
    result: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "date": now_text(),
        "commit": commit_info(REPO),
        "machine": machine_info(),
        "load_average_at_start": load_at_start,
        "settings": {
            "batch_max": defaults.batch_max,
            "batch_wait": defaults.batch_wait,
            "torch_threads": defaults.torch_threads,
            "analysis_processes": defaults.analysis_processes,
            "measurements": defaults.measurements,
            "worker_settings": dict(worker_settings or {}),
            "partitions": defaults.topic_partitions,
            "broker": "tansu (embedded)",
            "sizes": asdict(sizes),
            "profiled": profiler is not None,
            "real_templates": sum(1 for r in workload.recordings if r.source == "bench-real"),
            "mean_message_bytes": workload.mean_message_bytes,
            "mean_message_bytes_zstd": workload.mean_message_bytes_zstd(),
        },  # fmt: skip
        "primary_database": "postgres" if "postgres" in per_db else next(iter(per_db)),
        "ceiling": ceiling,
        "databases": per_db,
    }
    result.update({key: primary["ratios"][key] for key in RATIO_KEYS})
    if profiler is not None:
        result["profiles_folder"] = str(profile_dir)
    return result
