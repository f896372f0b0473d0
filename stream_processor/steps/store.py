"""store: the diagnosis rows of a batch's analysed recordings, written in one transaction.

The write is retried while the database is unreachable (``DatabaseUnavailable``), forever; a
conflicting duplicate, or the whole batch when storage refuses it (``StorageError``), becomes a dead
letter (``stream_processor.policy``). What was stored is what the events are built from: a
redelivered recording gets the diagnosis stored the first time.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np

from schemas import DeadLetter
from storage import DatabaseUnavailable, DiagnosisResult, DiagnosisSink, StorageError, WriteOutcome
from stream_processor.analysis import AnalysedBatch, RecordingOutcome
from stream_processor.duplicates import recording_content_sha256, split_conflicts
from stream_processor.findings import with_findings
from stream_processor.metrics import WorkerMetrics
from stream_processor.policy import STORAGE_ERROR, DeadLetters
from stream_processor.retry import retry_forever
from stream_processor.steps.analyse import AnalysisResult
from stream_processor.steps.clock import seconds_between
from stream_processor.steps.decode import Admitted, PreparedBatch

__all__ = ["RowOptions", "Stored", "DiagnosisStore", "diagnosis_result"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowOptions:
    """What a diagnosis row records beyond the analysis."""

    model_version: str
    patient_hmac_secret: str  # keys the content hash's patient pseudonym
    store_signal: bool = False


@dataclass(frozen=True)
class Stored:
    """The diagnoses as stored, and the dead letters of the recordings that were not."""

    results: list[DiagnosisResult]
    letters: list[DeadLetter]


def diagnosis_result(
    item: Admitted,
    outcome: RecordingOutcome,
    received_at: datetime,
    diagnosed_at: datetime,
    batch: AnalysedBatch,
    options: RowOptions,
) -> DiagnosisResult:
    """The row of one analysed recording."""
    rec = item.recording
    signal_bytes = np.ascontiguousarray(rec.signal, dtype="<f4").tobytes()  # (12, N) little-endian float32 mV
    result = DiagnosisResult(
        recording_id=rec.recording_id,
        model_version=options.model_version,
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
        signal=signal_bytes if options.store_signal else None,
        received_at=received_at,
        diagnosed_at=diagnosed_at,
        queue_wait_seconds=max(0.0, seconds_between(item.ingested_at, received_at) or 0.0),
        preprocess_seconds=batch.preprocess_seconds,
        inference_seconds=batch.inference_seconds,
        source_topic=item.message.topic,
        source_partition=item.message.partition,
        source_offset=item.message.offset,
        content_sha256=recording_content_sha256(rec, options.patient_hmac_secret, signal_bytes),
        readable=outcome.readable,
        unreadable_reasons=list(outcome.unreadable_reasons),
        measurements=None if outcome.measurements is None else outcome.measurements.as_record(),
        quality=None if outcome.quality is None else outcome.quality.as_record(),
    )
    return with_findings(result, outcome)  # verdict, critical findings, beats: computed once, stored, carried in the event


class DiagnosisStore:
    """Writes a batch's diagnoses through a ``DiagnosisSink`` under the failure policy."""

    def __init__(
        self,
        sink: DiagnosisSink,
        options: RowOptions,
        letters: DeadLetters,
        metrics: WorkerMetrics,
        retry_max_seconds: float,
    ) -> None:
        self.sink = sink
        self.options = options
        self.letters = letters
        self.metrics = metrics
        self.retry_max_seconds = retry_max_seconds

    async def store(self, batch: PreparedBatch, analysis: AnalysisResult) -> Stored:
        """Store the analysed recordings of ``batch``; returns when written (or dead-lettered)."""
        items, predictions = analysis.analysed, analysis.predictions
        if not items:
            return Stored([], [])
        results = [
            diagnosis_result(
                item, outcome, batch.received_at, analysis.diagnosed_at, predictions, self.options
            )
            for item, outcome in zip(items, predictions.outcomes, strict=True)
        ]
        try:
            outcome = await self._write(results)
        except StorageError as exc:  # not transient: keep the stream moving, lose nothing
            logger.error("storage rejected a batch; dead-lettering it", extra={"error": repr(exc)})
            return Stored([], [self.letters.rejected(item.message, exc, STORAGE_ERROR) for item in items])
        _kept, stored, conflicts = split_conflicts(items, outcome)  # conflicting duplicates get no event
        return Stored(stored, [self.letters.rejected(item.message, error) for item, error in conflicts])

    async def _write(self, results: list[DiagnosisResult]) -> WriteOutcome:
        started = time.perf_counter()
        outcome = await retry_forever(
            lambda: self.sink.write_batch(results),
            transient=(DatabaseUnavailable,),
            what="database write",
            max_delay=self.retry_max_seconds,
            on_retry=lambda _exc: self.metrics.db_retries.inc(),
        )
        self.metrics.db_write.observe(time.perf_counter() - started)
        return outcome
