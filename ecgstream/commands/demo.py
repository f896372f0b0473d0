"""``ecgstream demo``: the whole pipeline on generated sample data, then a table of diagnoses.

Starts the embedded stack (Tansu broker, SQLite database, one worker process), writes a few synthetic
recordings in the SPH layout, publishes them over the Kafka protocol, waits for their diagnosis events
and database rows, prints them, stops everything and exits 0 (1 if anything went missing).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time
import urllib.request
from datetime import UTC, datetime

from core.config import Settings, load_settings
from core.kafka_security import KafkaSecurity
from ecgstream.results_watch import collect_diagnoses
from ecgstream.stack import LocalStack

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--records", type=int, default=8, help="how many sample recordings (default 8)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for all diagnoses")
    parser.add_argument("--seed", type=int, default=7)


async def _publish(stack: LocalStack, recordings: list) -> dict[str, float]:  # type: ignore[type-arg]
    from ingest import Publisher

    published_at: dict[str, float] = {}
    settings = stack.settings
    async with Publisher(stack.bootstrap, settings.recordings_topic, source="ecgstream-demo",
                         patient_key_secret=settings.patient_hmac_secret,
                         client_options=KafkaSecurity.from_settings(settings).aiokafka_options()) as publisher:  # fmt: skip
        for recording in recordings:
            recording.acquired_at = datetime.now(UTC)
            await publisher.publish(recording)
            published_at[recording.recording_id] = time.time()
    return published_at


def _metric_lines(url: str, names: tuple[str, ...]) -> list[str]:
    try:
        text = urllib.request.urlopen(url, timeout=5).read().decode()
    except OSError:
        return []
    return [line for line in text.splitlines() if line.startswith(names)]


def _demo_settings() -> Settings:
    settings = load_settings()
    demo_home = settings.home / "demo"
    if demo_home.exists():
        shutil.rmtree(demo_home)
    overrides: dict[str, object] = {"home": demo_home}
    if not settings.database_url:
        overrides["database_url"] = f"sqlite+aiosqlite:///{demo_home / 'ecgstream-demo.db'}"
    return settings.with_overrides(**overrides)


def run(args: argparse.Namespace) -> int:
    from ingest import read_recording
    from ingest.synthetic import write_sph_dataset

    settings = _demo_settings()
    started = time.monotonic()
    print(f"ecgstream demo: starting the embedded stack in {settings.home}")
    with LocalStack(settings, workers=1) as stack:
        data = write_sph_dataset(settings.home / "sample-sph", args.records, seed=args.seed)
        recordings = [read_recording(path) for path in sorted((data / "records").glob("*.h5"))]
        print(f"  broker {stack.bootstrap}  database {stack.database_url}")
        print(f"  generated {len(recordings)} recordings in the SPH layout under {data}")
        stack.wait_ready()
        published_at = asyncio.run(_publish(stack, recordings))
        print(f"  published {len(published_at)} recordings to {settings.recordings_topic}; waiting for diagnoses")
        events = asyncio.run(
            collect_diagnoses(stack.bootstrap, settings.diagnoses_topic, published_at, timeout=args.timeout,
                              client_options=KafkaSecurity.from_settings(settings).aiokafka_options())  # fmt: skip
        )
        metrics = _metric_lines(
            stack.workers[0].metrics_url,
            ("ecgstream_records_processed_total", "ecgstream_latency_from_ingest_seconds_count",
             "ecgstream_model_info"),
        )  # fmt: skip
    print()
    print(f"{'recording':<10} {'top statements (probability)':<66} {'latency s':>9}")
    print("-" * 87)
    for recording in recordings:
        got = events.get(recording.recording_id)
        if not got:
            print(f"{recording.recording_id:<10} {'(no diagnosis)':<66} {'-':>9}")
            continue
        event = got[0]
        shown = event.statements[:3] or []
        text = "; ".join(
            f"{s.code} {s.description} ({'measured' if s.probability is None else f'{s.probability:.2f}'})" for s in shown
        ) or ("no statement" if event.readable else f"unreadable: {', '.join(event.unreadable_reasons)}")
        latency = event.latency_seconds if event.latency_seconds is not None else float("nan")
        print(f"{recording.recording_id:<10} {text[:66]:<66} {latency:>9.2f}")
    print()
    model_version = next((e[0].model_version for e in events.values() if e), "?")
    print(f"model {model_version}; {sum(1 for r in recordings if r.recording_id in events)}/{len(recordings)} diagnosed")
    for line in metrics:
        print(f"  {line}")
    print(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0 if all(r.recording_id in events for r in recordings) else 1
