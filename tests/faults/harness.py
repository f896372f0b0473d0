"""Shared machinery of the fault tests: raw producing, polling with deadlines, counting, figures, a TCP proxy.

Figures: every fault test builds a ``Figures`` record and calls ``emit()``, which prints one line
``FAULT-FIGURES {json}`` (visible with ``pytest -s``) and appends the same JSON to
``var/fault-figures.jsonl`` in the repository (git-ignored), so a report can quote the last run.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from schemas import (
    DeadLetter,
    EncodedEvent,
    Recording,
    SchemaError,
    decode_dead_letter,
    decode_diagnosis,
    encode_recording,
)
from tests.e2e.helpers import db_counts, metric_value, scrape

__all__ = [
    "Figures",
    "produce",
    "PacedProducer",
    "wait_until",
    "db_counts",
    "exactly_once",
    "consume_dead_letters",
    "consume_diagnosis_ids",
    "scrape_or_empty",
    "metric_value",
    "scrape",
]

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[2]
FIGURES_FILE = REPO_ROOT / "var" / "fault-figures.jsonl"
MAX_REQUEST = 8 * 1024 * 1024


@dataclass
class Figures:
    test: str
    sent: int = 0
    rows: int = 0
    duplicates: int = 0
    missing: int = 0
    dead_letters: int = 0
    wall_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def save_metrics(self, text: str) -> None:
        """Keep the worker's last /metrics text next to the figures (``var/fault-metrics-<test>.prom``)."""
        try:
            FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
            (FIGURES_FILE.parent / f"fault-metrics-{self.test}.prom").write_text(text, encoding="utf-8")
        except OSError:
            pass

    def emit(self) -> None:
        payload = asdict(self)
        payload["wall_s"] = round(self.wall_s, 1)
        line = json.dumps(payload, sort_keys=False, default=str)
        print(f"\nFAULT-FIGURES {line}")
        try:
            FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
            with open(FIGURES_FILE, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError:
            pass


def wait_until(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.25) -> T:
    """Poll ``predicate`` until it returns a truthy value; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T = predicate()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
        time.sleep(interval)
        last = predicate()
    return last


def scrape_or_empty(url: str) -> str:
    try:
        return scrape(url)
    except OSError:
        return ""


def exactly_once(counts: dict[str, int], ids: Sequence[str]) -> tuple[int, int, int, int]:
    """(rows, duplicates, missing, unexpected) of the diagnosis rows per recording vs the ids sent."""
    wanted = set(ids)
    rows = sum(counts.values())
    duplicates = sum(n - 1 for rid, n in counts.items() if n > 1)
    missing = len(wanted - counts.keys())
    unexpected = len(counts.keys() - wanted)
    return rows, duplicates, missing, unexpected


def _producer(bootstrap: str) -> Any:
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=False,
        max_request_size=MAX_REQUEST,
        max_batch_size=MAX_REQUEST,
        linger_ms=5,
        request_timeout_ms=30000,
    )


async def produce(bootstrap: str, topic: str, events: Sequence[EncodedEvent]) -> list[tuple[int, int]]:
    """Send raw events (no validation) and return their (partition, offset) once all are acknowledged."""
    producer = _producer(bootstrap)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=e.value, key=e.key, headers=list(e.headers)) for e in events
        ]
        metadata = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [(m.partition, m.offset) for m in metadata]


class PacedProducer:
    """Publishes recordings in a background thread in chunks, so a stream is still flowing when a fault hits.

    ``published`` counts acknowledged messages; ``join()`` waits for the end and re-raises any error.
    """

    def __init__(self, bootstrap: str, topic: str, recordings: Sequence[Recording], chunk: int = 10,
                 pause: float = 0.15) -> None:  # fmt: skip
        self.bootstrap, self.topic, self.recordings = bootstrap, topic, list(recordings)
        self.chunk, self.pause = chunk, pause
        self.published = 0
        self.error: BaseException | None = None
        self.finished_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="paced-producer", daemon=True)

    def start(self) -> PacedProducer:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._publish())
        except BaseException as exc:  # noqa: BLE001 - re-raised in join()
            self.error = exc
        self.finished_at = time.monotonic()

    async def _publish(self) -> None:
        producer = _producer(self.bootstrap)
        await producer.start()
        try:
            for start in range(0, len(self.recordings), self.chunk):
                part = [encode_recording(r, source="ecgstream-fault-tests") for r in self.recordings[start : start + self.chunk]]
                futures = [
                    await producer.send(self.topic, value=e.value, key=e.key, headers=list(e.headers)) for e in part
                ]
                await asyncio.gather(*futures)
                self.published += len(part)
                await asyncio.sleep(self.pause)
        finally:
            await producer.stop()

    def join(self, timeout: float = 120.0) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the producer did not finish"
        if self.error is not None:
            raise self.error
        assert self.published == len(self.recordings)


async def _consume(bootstrap: str, topic: str, want: Callable[[list[Any]], bool], timeout: float,
                   idle_after_done: float) -> list[Any]:  # fmt: skip
    """Every record of ``topic`` from the beginning until ``want(records)`` and ``idle_after_done`` s of quiet."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"fault-test-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=MAX_REQUEST,
        fetch_max_bytes=4 * MAX_REQUEST,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        done_at: float | None = None
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=300)
            got = [r for rs in batches.values() for r in rs]
            records.extend(got)
            if want(records):
                done_at = done_at or time.monotonic()
                if got:
                    done_at = time.monotonic()
                if time.monotonic() - done_at >= idle_after_done:
                    break
    finally:
        await consumer.stop()
    return records


def consume_dead_letters(bootstrap: str, topic: str, expected: int, timeout: float = 60.0) -> list[DeadLetter]:
    """Dead letters on ``topic`` (read from earliest; counts consumed messages, never end offsets)."""
    records = asyncio.run(
        _consume(bootstrap, topic, lambda rs: len(rs) >= expected, timeout, idle_after_done=1.5)
    )
    return [decode_dead_letter(r.value, list(r.headers or [])) for r in records]


def consume_diagnosis_ids(bootstrap: str, topic: str, ids: Sequence[str], timeout: float = 60.0) -> dict[str, int]:
    """Diagnosis events per recording id on ``topic`` (duplicates counted: events are at-least-once)."""
    wanted = set(ids)

    def ids_of(records: list[Any]) -> set[str]:
        seen = set()
        for r in records:
            try:
                seen.add(decode_diagnosis(r.value, list(r.headers or [])).recording_id)
            except SchemaError:
                pass
        return seen

    records = asyncio.run(_consume(bootstrap, topic, lambda rs: len(rs) >= len(wanted) and wanted <= ids_of(rs),
                                   timeout, idle_after_done=1.5))  # fmt: skip
    counts: dict[str, int] = {}
    for r in records:
        rid = decode_diagnosis(r.value, list(r.headers or [])).recording_id
        counts[rid] = counts.get(rid, 0) + 1
    return counts


