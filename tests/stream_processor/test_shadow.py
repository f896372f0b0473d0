"""Shadow mode through ``BatchProcessor``: real CinC 2021 records, the real shipped model and derived
versions (``benchmarks.replay_example``), the real SQL sinks on Postgres and SQLite; an in-memory
publisher (the broker path is tests/e2e/test_shadow_worker.py).

The authoritative results must be byte-for-byte what a worker without a shadow produces, whatever the
shadow does: a good shadow is recorded and counted, a broken one (unloadable, failing at analysis,
its table missing, its database locked) is logged and counted and changes nothing else.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from benchmarks.replay_example import ALWAYS_CODE, NEVER_CODE, threshold_checkpoint
from core.config import DEFAULT_MODEL_PATH
from ecgstream.cli import main as cli_main
from model import Predictor
from model.calibration import Calibration
from model.checkpoint import load_checkpoint, save_checkpoint
from schemas import DiagnosisEvent, Recording, decode_diagnosis, decode_recording, encode_recording
from storage import InMemoryDiagnosisSink, SqlDiagnosisSink, create_engine
from storage.migrate import upgrade
from storage.shadow import InMemoryShadowStore, ShadowDiagnosis, ShadowStore, SqlShadowStore
from stream_processor.analysis import AnalysisOptions, BatchAnalyser
from stream_processor.assessment import AssessmentInput, AssessmentPool
from stream_processor.messages import IncomingMessage
from stream_processor.metrics import WorkerMetrics
from stream_processor.processing import BatchProcessor, ProcessorConfig
from stream_processor.publishing import InMemoryResultPublisher
from stream_processor.replay import replay_stored, shadow_agreement
from stream_processor.shadow import ShadowRunner
from stream_processor.worker import _warm_up
from tests.stream_processor.records import cinc_recordings, leads_off_recording

DIAGNOSES, DEADLETTER, TOPIC = "diagnoses-test", "deadletter-test", "recordings-test"
SECRET = "shadow-test-secret-0123456789"


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shadow-models")
    garbage = folder / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint")
    base = load_checkpoint(DEFAULT_MODEL_PATH)  # loads, then fails at its first prediction
    mismatched = save_checkpoint(
        folder / "mismatched.pt", base.models, base.preprocess, base.labels, base.thresholds, "mismatched-calibration",
        base.training, Calibration(base.calibration.slope[:-1], base.calibration.intercept[:-1]),
    )  # fmt: skip
    return {"thresholds": threshold_checkpoint(folder / "thresholds.pt"), "garbage": garbage, "mismatched": mismatched}


@pytest.fixture(scope="module")
def recordings() -> list[Recording]:
    real = cinc_recordings()
    return [*real, leads_off_recording(real[0])]  # 10 clean records + 1 with four electrodes off


@pytest.fixture(params=["postgres", "sqlite"])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = (str(request.getfixturevalue("fresh_postgres_url")) if request.param == "postgres"
           else f"sqlite+aiosqlite:///{tmp_path / 'ecgstream.db'}")  # fmt: skip
    upgrade(url)
    return url


class CountingPool(AssessmentPool):
    """The real in-thread assessment, counting its calls (to prove the shadow reuses it)."""

    def __init__(self) -> None:
        super().__init__(0)
        self.calls = 0

    def assess(self, items: Sequence[AssessmentInput]):  # type: ignore[no-untyped-def]
        self.calls += 1
        return super().assess(items)


def _messages(recordings: Sequence[Recording]) -> list[IncomingMessage]:
    events = [encode_recording(r) for r in recordings]
    return [IncomingMessage(TOPIC, 0, i, e.key, e.value, list(e.headers)) for i, e in enumerate(events)]


def _processor(predictor: Predictor, sink: Any = None, shadow: ShadowRunner | None = None, *,
               metrics: WorkerMetrics | None = None, pool: AssessmentPool | None = None,
               store_signal: bool = False) -> tuple[BatchProcessor, InMemoryResultPublisher]:  # fmt: skip
    publisher = InMemoryResultPublisher()
    config = ProcessorConfig(DIAGNOSES, DEADLETTER, max_recording_bytes=600_000, retry_max_seconds=1.0,
                             store_signal=store_signal, patient_hmac_secret=SECRET)  # fmt: skip
    processor = BatchProcessor(predictor, sink or InMemoryDiagnosisSink(), publisher, metrics or WorkerMetrics.create(),
                               config, assessment_pool=pool, shadow=shadow)  # fmt: skip
    return processor, publisher


def _authoritative(publisher: InMemoryResultPublisher) -> dict[str, dict[str, Any]]:
    """What readers get of each diagnosis event, without the times of the run."""
    events: list[DiagnosisEvent] = [decode_diagnosis(x.value, x.headers) for x in publisher.events[DIAGNOSES]]
    return {e.recording_id: {"model_version": e.model_version, "statements": [asdict(s) for s in e.statements],
                             "probabilities": e.probabilities, "readable": e.readable, "verdict": e.verdict,
                             "critical": e.critical_findings, "measurements": e.measurements}
            for e in events}  # fmt: skip


def _runner(path: Path, metrics: WorkerMetrics, store: ShadowStore, **kwargs: Any) -> ShadowRunner:
    return ShadowRunner(Predictor.load(path, torch_threads=1), AnalysisOptions(), store, metrics, **kwargs)


def _sample(metrics: WorkerMetrics, name: str, labels: dict[str, str] | None = None) -> float:
    return metrics.registry.get_sample_value(name, labels or {}) or 0.0


async def test_a_shadow_is_recorded_apart_and_the_authoritative_results_do_not_change(
    migrated_url: str, predictor: Predictor, checkpoints: dict[str, Path], recordings: list[Recording], tmp_path: Path
) -> None:
    plain, plain_events = _processor(predictor)
    await plain.process(_messages(recordings))

    engine = create_engine(migrated_url)
    metrics, pool = WorkerMetrics.create(), CountingPool()
    runner = _runner(checkpoints["thresholds"], metrics, SqlShadowStore(engine))
    sink = SqlDiagnosisSink(engine, hmac_secret=SECRET, store_signal=True)
    shadowed, shadowed_events = _processor(predictor, sink, runner, metrics=metrics, pool=pool, store_signal=True)
    outcome = await shadowed.process(_messages(recordings))
    await runner.drain()
    await shadowed.process(_messages(recordings))  # a redelivered batch changes no row
    await runner.drain()
    async with engine.connect() as conn:
        rows = [r._asdict() for r in (await conn.execute(select(ShadowDiagnosis.__table__))).all()]

    assert (outcome.diagnosed, outcome.dead_lettered) == (11, 0)
    authoritative = _authoritative(shadowed_events)
    assert authoritative == _authoritative(plain_events), "the shadow changes nothing a reader sees"
    assert {a["model_version"] for a in authoritative.values()} == {predictor.version}
    assert pool.calls == 2, "one assessment per batch: the shadow reuses quality and measurements"

    received = [decode_recording(m.value, m.headers) for m in _messages(recordings)]  # what the worker analyses
    direct = BatchAnalyser(Predictor.load(checkpoints["thresholds"], torch_threads=1)).run(received).outcomes
    expected = {r.recording_id: [asdict(s) for s in o.statements] for r, o in zip(received, direct, strict=True)}
    assert len(rows) == 11 and {r["model_version"] for r in rows} == {runner.version}
    assert {r["authoritative_version"] for r in rows} == {predictor.version}
    assert {r["recording_id"]: r["statements"] for r in rows} == expected
    assert {r["recording_id"]: r["readable"] for r in rows} == {i: a["readable"] for i, a in authoritative.items()}
    assert all(r["inference_seconds"] > 0 for r in rows)

    called = sum(any(s["code"] == ALWAYS_CODE for s in st) for st in expected.values())
    had_147 = sum(any(s["code"] == NEVER_CODE for s in a["statements"]) for a in authoritative.values())
    assert called >= 8 and had_147 >= 1
    assert _sample(metrics, "ecgstream_shadow_records_total") == 22, "two batches of 11"
    assert _sample(metrics, "ecgstream_shadow_disagreements_total", {"code": str(ALWAYS_CODE)}) == 2 * called
    assert _sample(metrics, "ecgstream_shadow_disagreements_total", {"code": str(NEVER_CODE)}) == 2 * had_147
    assert _sample(metrics, "ecgstream_shadow_model_info", {"version": runner.version}) == 1.0
    assert all(_sample(metrics, "ecgstream_shadow_failures_total", {"stage": s}) == 0 for s in ("load", "analysis", "storage"))

    # the live shadow's report equals an offline replay of the same model on the same stored samples
    live = await shadow_agreement(engine)
    offline = await replay_stored(engine, BatchAnalyser(Predictor.load(checkpoints["thresholds"], torch_threads=1)))
    await engine.dispose()
    out = tmp_path / "shadow.json"
    args = ["replay", "--url", migrated_url, "--shadow", runner.version, "--json", str(out), "--no-progress"]
    assert await asyncio.to_thread(cli_main, args) == 0
    printed = json.loads(out.read_text())
    assert printed["model_version"] == runner.version and printed["compared"] == 11
    assert printed["agreement"] == live.as_json()["agreement"]
    assert live.counts.compared == offline.counts.compared == 11 and live.model_version == runner.version
    assert [c.as_json(11) for c in live.report.codes] == [c.as_json(11) for c in offline.report.codes]
    assert live.report.verdict_changed == offline.report.verdict_changed > 0


async def test_a_broken_shadow_checkpoint_is_counted_and_the_worker_goes_on(
    predictor: Predictor, checkpoints: dict[str, Path], recordings: list[Recording]
) -> None:
    metrics = WorkerMetrics.create()
    for name in ("garbage", "mismatched"):  # unreadable; readable but failing at its warm-up prediction
        assert ShadowRunner.load(checkpoints[name], AnalysisOptions(), InMemoryShadowStore(), metrics,
                                 torch_threads=1, warm_up=_warm_up) is None  # fmt: skip
    assert _sample(metrics, "ecgstream_shadow_failures_total", {"stage": "load"}) == 2
    processor, publisher = _processor(predictor, shadow=None, metrics=metrics)
    assert (await processor.process(_messages(recordings))).diagnosed == 11


async def test_a_shadow_failing_at_analysis_leaves_the_batch_diagnosed(
    predictor: Predictor, checkpoints: dict[str, Path], recordings: list[Recording]
) -> None:
    plain, plain_events = _processor(predictor)
    await plain.process(_messages(recordings))
    metrics, store = WorkerMetrics.create(), InMemoryShadowStore()
    processor, publisher = _processor(predictor, shadow=_runner(checkpoints["mismatched"], metrics, store), metrics=metrics)
    outcome = await processor.process(_messages(recordings))

    assert (outcome.diagnosed, outcome.dead_lettered) == (11, 0), "no dead letter, no one-by-one retry"
    assert _authoritative(publisher) == _authoritative(plain_events)
    assert _sample(metrics, "ecgstream_shadow_failures_total", {"stage": "analysis"}) == 1
    assert store.results == {} and _sample(metrics, "ecgstream_shadow_records_total") == 0


async def test_a_missing_shadow_table_is_counted_and_the_batch_still_published(
    tmp_path: Path, predictor: Predictor, checkpoints: dict[str, Path], recordings: list[Recording]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0006_history")  # a database the migration has not reached: no shadow_diagnoses
    engine = create_engine(url)
    metrics = WorkerMetrics.create()
    runner = _runner(checkpoints["thresholds"], metrics, SqlShadowStore(engine))
    processor, publisher = _processor(predictor, shadow=runner, metrics=metrics)
    outcome = await processor.process(_messages(recordings[:3]))
    await runner.drain()
    await engine.dispose()
    assert outcome.diagnosed == 3 and len(publisher.events[DIAGNOSES]) == 3
    assert _sample(metrics, "ecgstream_shadow_failures_total", {"stage": "storage"}) == 1
    assert _sample(metrics, "ecgstream_shadow_records_total") == 3, "agreement is counted before the write"


async def test_a_locked_shadow_database_delays_nothing(
    tmp_path: Path, predictor: Predictor, checkpoints: dict[str, Path], recordings: list[Recording]
) -> None:
    path = tmp_path / "locked.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    engine = create_engine(url)
    metrics = WorkerMetrics.create()
    runner = _runner(checkpoints["thresholds"], metrics, SqlShadowStore(engine), write_timeout=2.0)
    processor, publisher = _processor(predictor, shadow=runner, metrics=metrics)  # authoritative rows: in memory
    locker = sqlite3.connect(path, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock (the engine waits up to 30 s)
    try:
        finishing = []
        for batch_messages in (_messages(recordings[:2]), _messages(recordings[2:4])):
            batch = processor.prepare(batch_messages)
            analysis = await processor.analyse(batch)
            started = time.perf_counter()
            outcome = await processor.finish(batch, analysis)
            finishing.append(time.perf_counter() - started)
            assert outcome.diagnosed == 2
        assert len(publisher.events[DIAGNOSES]) == 4
        assert max(finishing) < 1.0, f"finish took {finishing} s with a 2-s shadow write pending"
        assert _sample(metrics, "ecgstream_shadow_failures_total", {"stage": "storage"}) == 1, (
            "the second batch's shadow rows are dropped while the first write waits for the lock"
        )
        await asyncio.sleep(2.3)  # past the write timeout
    finally:
        locker.rollback()
        locker.close()
    await runner.drain()
    async with engine.connect() as conn:
        stored = (await conn.execute(select(ShadowDiagnosis.__table__))).all()
    await engine.dispose()
    assert _sample(metrics, "ecgstream_shadow_failures_total", {"stage": "storage"}) == 2, "the timed-out write"
    assert stored == [] and _sample(metrics, "ecgstream_shadow_records_total") == 4


def test_one_by_one_batches_keep_each_shadow_outcome_beside_its_recording() -> None:
    from stream_processor.analysis import AnalysedBatch, RecordingOutcome

    a, b, c = (RecordingOutcome((), {str(i): 0.1 * i}) for i in range(3))
    shadow_a = RecordingOutcome((), {"0": 0.9})
    joined = AnalysedBatch.join([
        AnalysedBatch([a], shadow=(shadow_a,), shadow_inference_seconds=0.25),
        AnalysedBatch([b]),  # this recording's shadow failed
        AnalysedBatch([c], shadow=(None,), shadow_inference_seconds=0.5),
    ])  # fmt: skip
    assert joined.outcomes == [a, b, c] and joined.shadow == (shadow_a, None, None)
    assert joined.shadow_inference_seconds == 0.75
    assert AnalysedBatch.join([AnalysedBatch([a]), AnalysedBatch([b])]).shadow is None
