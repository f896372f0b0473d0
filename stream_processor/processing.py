"""One micro-batch, start to finish: decode, validate, analyse, store, publish. No faust in here.

Three steps, so the agent can overlap them across batches (``stream_processor.pipeline``):
``prepare`` (decode, validate), ``analyse`` (the executor) and ``finish`` (store, publish);
``process`` runs the three in sequence.

Analysis (signal quality, measurements, rule statements, the model, fusion; ``stream_processor.analysis``)
is one executor call per batch; an unreadable recording is stored and published with its reasons and
no statements.

The agent in ``stream_processor.app`` hands each batch of consumed messages to
``BatchProcessor.process`` and acks the messages only after it returns, so offsets are committed only
after the database write and the result events have succeeded (at-least-once; idempotent by upsert).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

import numpy as np

from core.config import DEV_HMAC_SECRET
from core.errors import EcgstreamError
from interpretation.summary import stored_summary
from model import Predictor
from schemas import (
    DeadLetter,
    DiagnosisEvent,
    EncodedEvent,
    EventMeasurements,
    EventQuality,
    InvalidRecording,
    Recording,
    Statement,
    decode_recording,
    encode_dead_letter,
    encode_diagnosis,
    recording_ingested_at,
)
from schemas.validation import validate_recording
from storage import DatabaseUnavailable, DiagnosisResult, DiagnosisSink, StorageError, WriteOutcome
from stream_processor.analysis import AnalysedBatch, AnalysisOptions, BatchAnalyser, RecordingOutcome
from stream_processor.assessment import AssessmentPool
from stream_processor.duplicates import recording_content_sha256, split_conflicts
from stream_processor.findings import with_findings
from stream_processor.inflate_guard import SkippedBatch
from stream_processor.messages import IncomingMessage
from stream_processor.metrics import WorkerMetrics
from stream_processor.policy import (
    DEAD_LETTER_PREFIX_BYTES,
    DECOMPRESSION_BOMB,
    INFERENCE_ERROR,
    OVERSIZE,
    STORAGE_ERROR,
    dead_letter_reason,
    is_retriable_kafka_error,
)
from stream_processor.publishing import ResultPublisher
from stream_processor.redaction import OriginalProtection, protect_original
from stream_processor.retry import retry_forever
from stream_processor.shadow import ShadowRunner

__all__ = ["BatchProcessor", "BatchOutcome", "ProcessorConfig", "PreparedBatch", "AnalysisResult"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessorConfig:
    diagnoses_topic: str
    deadletter_topic: str
    max_recording_bytes: int
    store_signal: bool = False
    retry_max_seconds: float = 30.0
    patient_hmac_secret: str = DEV_HMAC_SECRET  # for redacting patient references in dead letters
    deadletter_key: bytes | None = None  # AES-256 key for undecodable originals (else they are dropped)
    measure: bool = True  # quality gate + measurements + rules (MEASUREMENTS)
    fusion: bool = True  # fused statements, else the model's alone (FUSION)


@dataclass(frozen=True)
class BatchOutcome:
    diagnosed: int
    dead_lettered: int


@dataclass
class _Valid:
    message: IncomingMessage
    recording: Recording
    ingested_at: datetime | None


@dataclass(frozen=True)
class PreparedBatch:
    """A decoded batch: its valid recordings and the dead letters of the invalid messages."""

    size: int  # messages consumed
    received_at: datetime
    valid: list[_Valid]
    dead: list[DeadLetter]


@dataclass(frozen=True)
class AnalysisResult:
    """The analysis of a batch's valid recordings, and the recordings it could not analyse."""

    predictions: AnalysedBatch
    failed: list[tuple[_Valid, EcgstreamError]]
    diagnosed_at: datetime  # when the analysis ended (the batch may then wait for its predecessor)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _seconds_between(start: datetime | None, end: datetime) -> float | None:
    if start is None:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return (end - start).total_seconds()


class BatchProcessor:
    """Turns a batch of recordings-topic messages into stored diagnoses, events and dead letters."""

    def __init__(
        self,
        predictor: Predictor,
        sink: DiagnosisSink,
        publisher: ResultPublisher,
        metrics: WorkerMetrics,
        config: ProcessorConfig,
        executor: Executor | None = None,
        skipped_batches: deque[SkippedBatch] | None = None,
        assessment_pool: AssessmentPool | None = None,
        shadow: ShadowRunner | None = None,
    ) -> None:
        self.predictor = predictor
        self.shadow = shadow  # a second model version, recorded apart (stream_processor.shadow)
        self.skipped_batches = skipped_batches if skipped_batches is not None else deque()
        self.sink = sink
        self.publisher = publisher
        self.metrics = metrics
        self.config = config
        self.executor = executor
        options = AnalysisOptions(measure=config.measure, fusion=config.fusion)
        self.analyser = BatchAnalyser(predictor, options, assessment_pool)
        metrics.model_info.labels(version=predictor.version).set(1)
        self.protection = OriginalProtection(config.patient_hmac_secret, config.deadletter_key, DEAD_LETTER_PREFIX_BYTES)

    async def process(self, messages: Sequence[IncomingMessage]) -> BatchOutcome:
        """Process one batch. Returns only when every message is stored+published or dead-lettered."""
        batch = self.prepare(messages)
        return await self.finish(batch, await self.analyse(batch))

    def prepare(self, messages: Sequence[IncomingMessage]) -> PreparedBatch:
        """Step 1 (event loop): decode and validate; invalid messages become dead letters."""
        received_at = _utcnow()
        self.metrics.batch_records.observe(len(messages))
        valid, dead = self._decode_all(messages, received_at)
        return PreparedBatch(len(messages), received_at, valid, dead)

    async def analyse(self, batch: PreparedBatch) -> AnalysisResult:
        """Step 2 (executor): the analysis of the valid recordings; poison recordings are isolated."""
        predictions, failed = await self._predict(list(batch.valid))
        return AnalysisResult(predictions, failed, _utcnow())

    async def finish(self, batch: PreparedBatch, analysis: AnalysisResult) -> BatchOutcome:
        """Step 3 (event loop): store, publish results and dead letters. Returns when all are done."""
        dead = [*batch.dead, *self._skipped_batch_letters()]
        predictions, failed = analysis.predictions, analysis.failed
        dead.extend(self._dead_letter(item.message, error) for item, error in failed)
        failed_ids = {id(item) for item, _ in failed}
        valid = [item for item in batch.valid if id(item) not in failed_ids]
        shadows = dict(zip((item.recording.recording_id for item in valid), predictions.shadow or (), strict=False))
        results = [
            self._result(item, outcome, batch.received_at, analysis.diagnosed_at, predictions)
            for item, outcome in zip(valid, predictions.outcomes, strict=True)
        ] if valid else []  # fmt: skip
        if results:
            try:
                outcome = await self._write(results)
            except StorageError as exc:  # not transient: keep the stream moving, lose nothing
                logger.error("storage rejected a batch; dead-lettering it", extra={"error": repr(exc)})
                dead.extend(self._dead_letter(item.message, exc, STORAGE_ERROR) for item in valid)
                valid, results = [], []
            else:  # events are built from what was stored; conflicting duplicates get none
                valid, results, conflicts = split_conflicts(valid, outcome)
                dead.extend(self._dead_letter(item.message, error) for item, error in conflicts)
        events = [self._event(result) for result in results]
        await self._publish_dead_letters(dead)
        await self._publish(self.config.diagnoses_topic, [encode_diagnosis(event) for event in events], always=True)
        self._observe(valid, results, events, predictions)
        logger.info(
            "batch processed",
            extra={"records": batch.size, "diagnosed": len(results), "dead_lettered": len(dead)},
        )
        if self.shadow is not None and shadows:  # after the authoritative results; never raises
            pairs = [(r, s) for r in results if (s := shadows.get(r.recording_id)) is not None]
            await self.shadow.record(pairs, analysis.diagnosed_at, predictions.shadow_inference_seconds)
        return BatchOutcome(diagnosed=len(results), dead_lettered=len(dead))

    # -- stages ---------------------------------------------------------------------------------

    def _decode_all(
        self, messages: Sequence[IncomingMessage], received_at: datetime
    ) -> tuple[list[_Valid], list[DeadLetter]]:
        valid: list[_Valid] = []
        dead: list[DeadLetter] = []
        for message in messages:
            try:
                if len(message.value) > self.config.max_recording_bytes:
                    raise InvalidRecording(
                        f"message of {len(message.value)} bytes exceeds MAX_RECORDING_BYTES="
                        f"{self.config.max_recording_bytes}",
                        reason=OVERSIZE,
                    )
                recording = decode_recording(message.value, message.headers)
                validate_recording(recording, encoded_size=len(message.value))
            except EcgstreamError as exc:
                dead.append(self._dead_letter(message, exc))
                continue
            ingested_at = recording_ingested_at(message.headers) or message.timestamp
            wait = _seconds_between(ingested_at, received_at)
            if wait is not None:
                self.metrics.queue_wait.observe(max(0.0, wait))
            valid.append(_Valid(message, recording, ingested_at))
        return valid, dead

    async def report_skipped_batches(self) -> int:
        """Dead-letter the record batches the consumer skipped, without waiting for the next batch."""
        letters = self._skipped_batch_letters()
        if letters:
            await self._publish_dead_letters(letters)
        return len(letters)

    def _skipped_batch_letters(self) -> list[DeadLetter]:
        """Dead letters for the record batches the consumer skipped (``inflate_guard``) since the last batch."""
        letters = []
        while self.skipped_batches:
            batch = self.skipped_batches.popleft()
            self.metrics.dead_letters.labels(reason=DECOMPRESSION_BOMB).inc()
            letters.append(DeadLetter(
                reason=DECOMPRESSION_BOMB,
                message=f"{batch.codec} record batch at offsets {batch.first_offset}-{batch.last_offset} inflates "
                        f"beyond {batch.limit_bytes} bytes; skipped without decoding (original bytes omitted)",
                source_topic=batch.topic, source_partition=batch.partition, source_offset=batch.first_offset,
                original_value=b"", original_headers=[], failed_at=_utcnow(),
            ))  # fmt: skip
        return letters

    def _run_model(self, items: Sequence[_Valid]) -> AnalysedBatch:
        recordings = [item.recording for item in items]
        if self.shadow is not None:
            return self.shadow.analyse(self.analyser, recordings)
        return self.analyser.run(recordings)

    async def _predict(self, valid: list[_Valid]) -> tuple[AnalysedBatch, list[tuple[_Valid, EcgstreamError]]]:
        """One analysis of the batch in the executor; on failure, isolate the poison recordings."""
        if not valid:
            return AnalysedBatch([]), []
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, self._run_model, valid), []
        except Exception as batch_error:  # noqa: BLE001 - isolate which recording is at fault
            logger.warning("batch analysis failed; retrying one by one", extra={"error": repr(batch_error)})
        good: list[_Valid] = []
        singles: list[AnalysedBatch] = []
        failed: list[tuple[_Valid, EcgstreamError]] = []
        for item in valid:
            try:
                single = await loop.run_in_executor(self.executor, self._run_model, [item])
            except Exception as exc:  # noqa: BLE001
                error = exc if isinstance(exc, EcgstreamError) else EcgstreamError(repr(exc), reason=INFERENCE_ERROR)
                failed.append((item, error))
                continue
            good.append(item)
            singles.append(single)
        valid[:] = good
        return AnalysedBatch.join(singles), failed

    async def _write(self, results: list[DiagnosisResult]) -> WriteOutcome:
        started = time.perf_counter()
        outcome = await retry_forever(
            lambda: self.sink.write_batch(results),
            transient=(DatabaseUnavailable,),
            what="database write",
            max_delay=self.config.retry_max_seconds,
            on_retry=lambda _exc: self.metrics.db_retries.inc(),
        )
        self.metrics.db_write.observe(time.perf_counter() - started)
        return outcome

    async def _publish(self, topic: str, events: list[EncodedEvent], *, always: bool = False) -> None:
        """Publish, retrying retriable Kafka errors (``always``: every error) with backoff."""
        if not events:
            return
        await retry_forever(
            lambda: self.publisher.publish(topic, events),
            transient=(lambda _exc: True) if always else is_retriable_kafka_error,
            what=f"publish to {topic}",
            max_delay=self.config.retry_max_seconds,
        )

    async def _publish_dead_letters(self, dead: list[DeadLetter]) -> None:
        """Dead letters go out whole; one the broker refuses for good goes out without its original bytes."""
        try:
            await self._publish(self.config.deadletter_topic, [encode_dead_letter(dl) for dl in dead])
            return
        except Exception as exc:  # noqa: BLE001 - a non-retriable refusal; see policy table
            logger.error("dead letters refused; resending without original bytes", extra={"error": repr(exc)})
        stripped = [
            replace(dl, original_value=b"", message=f"{dl.message} [original bytes omitted: refused by the broker]")
            for dl in dead
        ]
        try:
            await self._publish(self.config.deadletter_topic, [encode_dead_letter(dl) for dl in stripped])
        except Exception as exc:  # noqa: BLE001
            for dl in dead:
                logger.error(
                    "dead letter lost; the original stays in the recordings topic",
                    extra={"position": f"{dl.source_topic}[{dl.source_partition}]@{dl.source_offset}",
                           "reason": dl.reason, "error": repr(exc)},
                )  # fmt: skip

    # -- builders -------------------------------------------------------------------------------

    def _dead_letter(self, message: IncomingMessage, error: EcgstreamError, reason: str | None = None) -> DeadLetter:
        reason = reason or dead_letter_reason(error)
        self.metrics.dead_letters.labels(reason=reason).inc()
        protected = protect_original(
            message, self.protection, error.message, oversize=len(message.value) > self.config.max_recording_bytes
        )  # the error text may quote the input, so logs and the letter get the protected text only
        logger.warning(
            "message dead-lettered",
            extra={"reason": reason, "error": protected.message, "position": message.position},
        )
        return DeadLetter(
            reason=reason,
            message=protected.message,
            source_topic=message.topic,
            source_partition=message.partition,
            source_offset=message.offset,
            original_value=protected.value,
            original_headers=protected.headers,
            failed_at=_utcnow(),
        )

    def _result(
        self,
        item: _Valid,
        outcome: RecordingOutcome,
        received_at: datetime,
        diagnosed_at: datetime,
        batch: AnalysedBatch,
    ) -> DiagnosisResult:
        rec = item.recording
        signal_bytes = np.ascontiguousarray(rec.signal, dtype="<f4").tobytes()  # (12, N) little-endian float32 mV
        return with_findings(DiagnosisResult(
            recording_id=rec.recording_id,
            model_version=self.predictor.version,
            statements=[asdict(statement) for statement in outcome.statements],
            probabilities=outcome.probabilities,
            device_id=rec.device_id,
            patient_ref=rec.patient_ref,
            age=rec.age,
            sex=rec.sex,
            height_cm=rec.height_cm,
            weight_kg=rec.weight_kg,
            sampling_rate_hz=float(rec.fs),
            n_samples=rec.n_samples,
            acquired_at=rec.acquired_at,
            ingested_at=item.ingested_at,
            signal_sha256=hashlib.sha256(signal_bytes).hexdigest(),
            signal=signal_bytes if self.config.store_signal else None,
            received_at=received_at,
            diagnosed_at=diagnosed_at,
            queue_wait_seconds=max(0.0, _seconds_between(item.ingested_at, received_at) or 0.0),
            preprocess_seconds=batch.preprocess_seconds,
            inference_seconds=batch.inference_seconds,
            source_topic=item.message.topic,
            source_partition=item.message.partition,
            source_offset=item.message.offset,
            content_sha256=recording_content_sha256(rec, self.config.patient_hmac_secret, signal_bytes),
            readable=outcome.readable,
            unreadable_reasons=list(outcome.unreadable_reasons),
            measurements=None if outcome.measurements is None else outcome.measurements.as_record(),
            quality=None if outcome.quality is None else outcome.quality.as_record(),
        ), outcome)  # verdict, critical findings, beats: computed once, stored, carried in the event

    def _event(self, result: DiagnosisResult) -> DiagnosisEvent:
        return DiagnosisEvent(
            recording_id=result.recording_id,
            model_version=result.model_version,
            statements=[Statement(**s) for s in result.statements],
            probabilities=dict(result.probabilities),
            device_id=result.device_id,
            acquired_at=result.acquired_at,
            ingested_at=result.ingested_at,
            diagnosed_at=result.diagnosed_at,
            latency_seconds=_seconds_between(result.ingested_at, result.diagnosed_at),
            readable=result.readable,
            unreadable_reasons=list(result.unreadable_reasons),
            measurements=None if result.measurements is None else EventMeasurements.from_record(result.measurements),
            quality=None if result.quality is None else EventQuality.from_record(result.quality),
            **stored_summary(result).as_json(),  # as stored (the first write's on a redelivery)
        )  # fmt: skip

    def _observe(
        self,
        valid: list[_Valid],
        results: list[DiagnosisResult],
        events: list[DiagnosisEvent],
        predictions: AnalysedBatch,
    ) -> None:
        if not results:
            return
        done = _utcnow()
        self.metrics.preprocess.observe(predictions.preprocess_seconds)
        self.metrics.inference.observe(predictions.inference_seconds)
        self.metrics.observe_analysis(predictions)
        self.metrics.records_processed.inc(len(results))
        self.metrics.diagnoses_published.inc(len(events))
        for result in results:
            for statement in result.statements:
                self.metrics.label_positives.labels(code=str(statement["code"])).inc()
            self.metrics.observe_critical(result.statements, result.measurements)
            from_ingest = _seconds_between(result.ingested_at, done)
            if from_ingest is not None:
                self.metrics.latency_from_ingest.observe(max(0.0, from_ingest))
            from_acquisition = _seconds_between(result.acquired_at, done)
            if from_acquisition is not None:
                self.metrics.latency_from_acquisition.observe(max(0.0, from_acquisition))
