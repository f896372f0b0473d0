"""Stream throughput and latency for several BATCH_MAX values, through the real pipeline.

For each batch size: a fresh topic set and one worker process (embedded Tansu broker, SQLite unless
--database-url), N ten-second 500 Hz recordings published as fast as the producer goes, then the time
until the last diagnosis event. Prints one table; compare rows of the same run (machines are noisy).

    .venv/bin/python benchmarks/bench_stream.py --records 300 --batch-max 1 8 32

``--measurements on off`` runs every batch size with the worker's measurement stage (quality,
measurements, rules, fusion: MEASUREMENTS=on) and without it (the model alone), in the same run, and
prints the throughput ratio on/off per batch size. The recordings are the 10 real CinC 2021 records
(``../shared/data/cinc2021``, mV) when ``--cinc`` is given, else synthetic SPH recordings.

    .venv/bin/python benchmarks/bench_stream.py --records 200 --batch-max 32 --measurements off on \
        --cinc ../shared/data/cinc2021

One run on 2026-11-25 (shared 2-core machine, other jobs running; compare the rows, not the
absolute numbers): off 65.5 rec/s, on 23.7 rec/s, ratio 0.36; the measurement stage took 5.5 s of
worker time for 200 records (about 27 ms per record: measure() dominates, quality second).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from core.config import Settings
from ecgstream.embedded import TansuBroker
from ecgstream.results_watch import collect_diagnoses
from ecgstream.stack import LocalStack
from ingest import Publisher, read_recording
from ingest.synthetic import write_sph_dataset
from schemas import DiagnosisEvent, Recording, new_recording_id


async def _publish(bootstrap: str, topic: str, recordings: list[Recording]) -> float:
    started = time.perf_counter()
    async with Publisher(bootstrap, topic, source="bench") as publisher:
        await asyncio.gather(*(publisher.publish(rec) for rec in recordings))
    return time.perf_counter() - started


async def _publish_and_collect(
    bootstrap: str, settings: Settings, recordings: list[Recording]
) -> tuple[float, dict[str, list[DiagnosisEvent]]]:
    ids = [r.recording_id for r in recordings]
    watcher = asyncio.create_task(collect_diagnoses(bootstrap, settings.diagnoses_topic, ids, 600))
    publish_s = await _publish(bootstrap, settings.recordings_topic, recordings)
    return publish_s, await watcher


def _run_one(broker: TansuBroker, home: Path, database_url: str | None, batch_max: int, templates: list[Recording],
             n: int, torch_threads: int, measurements: bool = True) -> dict[str, Any]:  # fmt: skip
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        kafka_bootstrap=broker.bootstrap,
        database_url=database_url or f"sqlite+aiosqlite:///{home / f'bench-{suffix}.db'}",
        home=home,
        recordings_topic=f"bench-rec-{suffix}",
        diagnoses_topic=f"bench-diag-{suffix}",
        deadletter_topic=f"bench-dlq-{suffix}",
        worker_group=f"bench-{suffix}",
        batch_max=batch_max,
        batch_wait=0.2,
        torch_threads=torch_threads,
        log_level="WARNING",
        patient_hmac_secret="ecgstream-benchmark-patient-secret",  # an external broker refuses the default
        measurements=measurements,
    )
    recordings = [
        dataclasses.replace(templates[i % len(templates)], recording_id=new_recording_id()) for i in range(n)
    ]
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        started = time.perf_counter()
        publish_s = asyncio.run(_publish(stack.bootstrap, settings.recordings_topic, recordings))
        events = asyncio.run(
            collect_diagnoses(
                stack.bootstrap, settings.diagnoses_topic, [r.recording_id for r in recordings], 600
            )
        )
        total_s = time.perf_counter() - started
        metrics = urllib.request.urlopen(stack.workers[0].metrics_url, timeout=5).read().decode()
    latencies = sorted(e[0].latency_seconds or 0.0 for e in events.values())
    return {
        "measure": "on" if measurements else "off",
        "batch_max": batch_max,
        "diagnosed": len(events),
        "publish_s": publish_s,
        "total_s": total_s,
        "throughput": len(events) / total_s,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
        "mean_batch": _sample(metrics, "ecgstream_batch_records_sum") / max(1.0, _sample(metrics, "ecgstream_batch_records_count")),
        "model_s": _sample(metrics, "ecgstream_preprocess_seconds_sum") + _sample(metrics, "ecgstream_inference_seconds_sum"),
        "db_s": _sample(metrics, "ecgstream_db_write_seconds_sum"),
        "measure_s": _sample(metrics, "ecgstream_measurement_seconds_sum"),
        "unreadable": sum(1 for e in events.values() if not e[0].readable),
    }


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--batch-max", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument(
        "--database-url", default=None, help="postgresql+asyncpg://... (default: SQLite file)"
    )
    parser.add_argument("--measurements", choices=["on", "off"], nargs="+", default=["on"],
                        help="worker MEASUREMENTS setting(s) to run per batch size (on off: compare)")
    parser.add_argument("--cinc", type=Path, default=None, help="folder of CinC 2021 WFDB records to use")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        if args.cinc:
            templates = [read_recording(path) for path in sorted(args.cinc.glob("*.hea"))]
        else:
            data = write_sph_dataset(home / "sph", 20, seed=5)
            templates = [read_recording(path) for path in sorted((data / "records").glob("*.h5"))]
        rows = []
        with TansuBroker(log_path=home / "tansu.log") as broker:
            for batch_max in args.batch_max:
                for setting in args.measurements:
                    rows.append(_run_one(broker, home, args.database_url, batch_max, templates, args.records,
                                         args.torch_threads, measurements=setting == "on"))  # fmt: skip
    db = "postgres" if args.database_url else "sqlite"
    source = f"CinC 2021 records from {args.cinc}" if args.cinc else "synthetic 10 s 500 Hz recordings"
    print(f"\nstream benchmark: {args.records} x {source}, 1 worker, torch threads "
          f"{args.torch_threads}, Tansu + {db}")  # fmt: skip
    print(f"{'BATCH_MAX':>9} {'measure':>7} {'diagnosed':>9} {'unreadable':>10} {'mean batch':>10} {'model s':>7} "
          f"{'meas s':>6} {'db s':>6} {'total s':>7} {'rec/s':>6} {'p50 lat s':>9} {'p95 lat s':>9} "
          f"{'vs first':>8}")  # fmt: skip
    base = rows[0]["throughput"]
    for row in rows:
        print(f"{row['batch_max']:>9} {row['measure']:>7} {row['diagnosed']:>9} {row['unreadable']:>10} "
              f"{row['mean_batch']:>10.1f} {row['model_s']:>7.2f} {row['measure_s']:>6.2f} {row['db_s']:>6.2f} "
              f"{row['total_s']:>7.2f} {row['throughput']:>6.1f} {row['p50']:>9.2f} {row['p95']:>9.2f} "
              f"{row['throughput'] / base:>7.2f}x")  # fmt: skip
    by_key = {(row["batch_max"], row["measure"]): row["throughput"] for row in rows}
    for batch_max in args.batch_max:
        if (batch_max, "on") in by_key and (batch_max, "off") in by_key:
            ratio = by_key[(batch_max, "on")] / by_key[(batch_max, "off")]
            print(f"BATCH_MAX {batch_max}: throughput with measurements / without = {ratio:.2f}")


if __name__ == "__main__":
    main()
