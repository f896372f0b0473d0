"""One micro-batch through the worker's chain: decode -> validate -> analyse -> store -> events -> publish -> ack.

Each step is a module of ``stream_processor.steps``; what happens on each failure, and the dead
letter it sends, is ``stream_processor.policy``. No faust in here.

``BatchProcessor.process`` runs the chain for one batch, in order. The agent runs the same steps
through ``stream_processor.pipeline``, which overlaps batches: ``prepare`` (decode -> validate, event
loop), ``analyse`` (the executor) and ``finish`` (store -> events -> publish, event loop), then acks.

Analysis (signal quality, measurements, rule statements, the model, fusion; ``stream_processor.analysis``)
is one executor call per batch; an unreadable recording is stored and published with its reasons and
no statements. Messages are acked only after the database write and the result events have
succeeded, so offsets are committed only then (at-least-once; idempotent by upsert).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from core.config import DEV_HMAC_SECRET
from model import Predictor
from schemas import DeadLetter, Recording
from storage import DiagnosisResult, DiagnosisSink
from stream_processor.analysis import AnalysedBatch, AnalysisOptions, BatchAnalyser
from stream_processor.assessment import AssessmentPool
from stream_processor.inflate_guard import SkippedBatch
from stream_processor.messages import IncomingMessage
from stream_processor.metrics import WorkerMetrics
from stream_processor.policy import DEAD_LETTER_PREFIX_BYTES, DeadLetters
from stream_processor.publishing import ResultPublisher
from stream_processor.redaction import OriginalProtection
from stream_processor.shadow import ShadowRunner
from stream_processor.steps.analyse import AnalysisResult, analyse
from stream_processor.steps.decode import PreparedBatch, decode_batch
from stream_processor.steps.events import diagnosis_event
from stream_processor.steps.observe import observe_stored
from stream_processor.steps.publish import Publishing
from stream_processor.steps.store import DiagnosisStore, RowOptions

__all__ = ["BatchProcessor", "BatchOutcome", "ProcessorConfig", "PreparedBatch", "AnalysisResult", "Ack"]

logger = logging.getLogger(__name__)

Ack = Callable[[Sequence[IncomingMessage]], Awaitable[None]]


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
        self.metrics = metrics
        self.config = config
        self.executor = executor
        options = AnalysisOptions(measure=config.measure, fusion=config.fusion)
        self.analyser = BatchAnalyser(predictor, options, assessment_pool)
        metrics.model_info.labels(version=predictor.version).set(1)
        protection = OriginalProtection(
            config.patient_hmac_secret, config.deadletter_key, DEAD_LETTER_PREFIX_BYTES
        )
        self.letters = DeadLetters(protection, config.max_recording_bytes, metrics.dead_letters)
        rows = RowOptions(predictor.version, config.patient_hmac_secret, config.store_signal)
        self.diagnoses = DiagnosisStore(sink, rows, self.letters, metrics, config.retry_max_seconds)
        self.publishing = Publishing(
            publisher, config.diagnoses_topic, config.deadletter_topic, config.retry_max_seconds
        )

    async def process(self, messages: Sequence[IncomingMessage], ack: Ack | None = None) -> BatchOutcome:
        """The chain for one batch; returns once every message is stored and published or
        dead-lettered, and then acked (``ack``; the agent acks through ``BatchPipeline`` instead)."""
        batch = self.prepare(messages)  # decode -> validate
        analysis = await self.analyse(batch)  # analyse
        outcome = await self.finish(batch, analysis)  # store -> events -> publish
        if ack is not None:
            await ack(messages)  # ack: only now may the offsets be committed
        return outcome

    def prepare(self, messages: Sequence[IncomingMessage]) -> PreparedBatch:
        """decode -> validate (event loop); invalid messages become dead letters."""
        return decode_batch(messages, self.config.max_recording_bytes, self.letters, self.metrics)

    async def analyse(self, batch: PreparedBatch) -> AnalysisResult:
        """analyse (executor): the valid recordings; a recording that crashes the analysis is isolated."""
        return await analyse(batch.valid, self._run_model, self.executor)

    async def finish(self, batch: PreparedBatch, analysis: AnalysisResult) -> BatchOutcome:
        """store -> events -> publish (event loop); returns when all are done, then the caller acks."""
        letters = [*batch.dead, *self._skipped_batch_letters(), *self._analysis_letters(analysis)]
        stored = await self.diagnoses.store(batch, analysis)
        letters.extend(stored.letters)  # conflicting duplicates, or a batch storage refused
        events = [diagnosis_event(result) for result in stored.results]
        await self.publishing.dead_letters(letters)
        await self.publishing.diagnoses(events)
        observe_stored(self.metrics, stored.results, events, analysis.predictions)
        logger.info(
            "batch processed",
            extra={"records": batch.size, "diagnosed": len(stored.results), "dead_lettered": len(letters)},
        )
        await self._record_shadow(stored.results, analysis)
        return BatchOutcome(diagnosed=len(stored.results), dead_lettered=len(letters))

    async def report_skipped_batches(self) -> int:
        """Dead-letter the record batches the consumer skipped, without waiting for the next batch."""
        letters = self._skipped_batch_letters()
        if letters:
            await self.publishing.dead_letters(letters)
        return len(letters)

    def _skipped_batch_letters(self) -> list[DeadLetter]:
        """Dead letters for the record batches the consumer skipped (``inflate_guard``) since the last batch."""
        letters = []
        while self.skipped_batches:
            letters.append(self.letters.skipped_batch(self.skipped_batches.popleft()))
        return letters

    def _analysis_letters(self, analysis: AnalysisResult) -> list[DeadLetter]:
        """Dead letters for the recordings the analysis could not take (``inference_error``)."""
        return [self.letters.rejected(item.message, error) for item, error in analysis.failed]

    def _run_model(self, recordings: Sequence[Recording]) -> AnalysedBatch:
        """The analysis of ``recordings`` (in the executor), with the shadow model's beside it if any."""
        if self.shadow is not None:
            return self.shadow.analyse(self.analyser, recordings)
        return self.analyser.run(recordings)

    async def _record_shadow(self, stored: list[DiagnosisResult], analysis: AnalysisResult) -> None:
        """The shadow outcomes of the stored diagnoses, after the authoritative results; never raises."""
        ids = (item.recording.recording_id for item in analysis.analysed)
        shadows = dict(zip(ids, analysis.predictions.shadow or (), strict=False))
        if self.shadow is not None and shadows:
            pairs = [(r, s) for r in stored if (s := shadows.get(r.recording_id)) is not None]
            await self.shadow.record(
                pairs, analysis.diagnosed_at, analysis.predictions.shadow_inference_seconds
            )
