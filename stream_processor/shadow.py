"""Shadow mode: a second model version on the live stream, recorded apart, never in the way.

With ``SHADOW_MODEL_PATH`` set, the executor call of each batch runs the authoritative analysis as
without it, then the shadow model on the same recordings, reusing their quality, measurements and
rule statements (``BatchAnalyser.assess``): only the forward pass, fusion, consistency and certainty
run twice. The authoritative results are stored and published exactly as before; then the shadow
outcomes are counted (``ecgstream_shadow_records_total``, ``ecgstream_shadow_disagreements_total{code}``:
a statement code called by one version and not the other) and written to ``shadow_diagnoses``
(``storage.shadow``). ``ecgstream replay --shadow`` prints their agreement report.

Why a table and not a topic: a shadow result is for comparison, never for a reader. Beside the
authoritative row in the same database, it joins to it by recording (the report reads the pairs
back in one query, over any period), while a topic would keep it only for its retention and would
invite consumers (the exporter, a RIS) to take a shadow result for a diagnosis.

Isolation: the authoritative path never sees a shadow failure.

- A checkpoint that cannot be loaded: logged, counted (``ecgstream_shadow_failures_total{stage="load"}``),
  and the worker runs without a shadow.
- An exception in the shadow analysis is caught inside the executor call, after the authoritative
  outcomes exist: the batch has no shadow (stage ``analysis``).
- The shadow write starts after the authoritative rows are stored and the events published, as a
  background task the batch does not wait for: one attempt bounded by ``SHADOW_WRITE_TIMEOUT_SECONDS``,
  one write at a time (a batch's shadow rows arriving while the previous write runs are dropped);
  a failure, timeout or drop is logged and counted (stage ``storage``), never retried. (Awaiting
  the write would not do: a cancelled write on a locked SQLite file still waits out its busy timeout.)

Cost: one more model forward pass (plus fusion) per batch in the executor, so every diagnosis of
the batch waits for it. Counters count each analysed batch, so a redelivered batch counts again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path

from model import Predictor
from schemas import Recording
from storage.results import DiagnosisResult
from storage.shadow import ShadowResult, ShadowStore
from stream_processor.analysis import AnalysedBatch, AnalysisOptions, BatchAnalyser, RecordingOutcome
from stream_processor.metrics import WorkerMetrics

__all__ = ["ShadowRunner", "SHADOW_WRITE_TIMEOUT_SECONDS", "disagreeing_codes"]

logger = logging.getLogger(__name__)

SHADOW_WRITE_TIMEOUT_SECONDS = 5.0


def disagreeing_codes(stored: DiagnosisResult, shadow: RecordingOutcome) -> set[int]:
    """Statement codes called by exactly one of the authoritative diagnosis (as stored) and the shadow."""
    return {int(s["code"]) for s in stored.statements} ^ {s.code for s in shadow.statements}


class ShadowRunner:
    """Runs a shadow model beside the authoritative analysis and records its outcomes."""

    def __init__(
        self,
        predictor: Predictor,
        options: AnalysisOptions,
        store: ShadowStore,
        metrics: WorkerMetrics,
        write_timeout: float = SHADOW_WRITE_TIMEOUT_SECONDS,
    ) -> None:
        self.version = predictor.version
        self.analyser = BatchAnalyser(predictor, options)  # no pool: the assessment is reused
        self.store = store
        self.metrics = metrics
        self.write_timeout = write_timeout
        self._writing: asyncio.Task[None] | None = None
        for stage in ("load", "analysis", "storage"):
            metrics.shadow_failures.labels(stage=stage)
        metrics.shadow_model_info.labels(version=self.version).set(1)

    @classmethod
    def load(
        cls,
        path: Path,
        options: AnalysisOptions,
        store: ShadowStore,
        metrics: WorkerMetrics,
        torch_threads: int | None = None,
        warm_up: Callable[[Predictor], object] | None = None,
    ) -> ShadowRunner | None:
        """The runner for the checkpoint at ``path``, or None (logged and counted) when it cannot be
        loaded or ``warm_up(predictor)`` (a throw-away prediction) fails."""
        try:
            predictor = Predictor.load(path, torch_threads=torch_threads)
            if warm_up is not None:
                warm_up(predictor)
        except Exception as exc:  # noqa: BLE001 - any broken checkpoint: the worker runs without a shadow
            metrics.shadow_failures.labels(stage="load").inc()
            logger.error("shadow model not loaded; running without a shadow",
                         extra={"path": str(path), "error": repr(exc)})  # fmt: skip
            return None
        logger.info("shadow model loaded", extra={"shadow_model_version": predictor.version})
        return cls(predictor, options, store, metrics)

    def analyse(self, primary: BatchAnalyser, recordings: Sequence[Recording]) -> AnalysedBatch:
        """The authoritative analysis (exceptions propagate, as without a shadow) with the shadow's
        outcomes attached; the shadow's own failure leaves ``shadow`` None. Runs in the executor."""
        if primary.options.measure:
            started = time.perf_counter()
            assessed = primary.assess(recordings)
            batch = primary.conclude(recordings, assessed, time.perf_counter() - started)
        else:
            assessed, batch = None, primary.run(recordings)
        try:
            if assessed is not None and self.analyser.options.measure:
                shadow = self.analyser.conclude(recordings, assessed)
            else:
                shadow = self.analyser.run(recordings)
        except Exception as exc:  # noqa: BLE001 - the authoritative outcomes stand
            self.metrics.shadow_failures.labels(stage="analysis").inc()
            logger.error("shadow analysis failed; authoritative results unaffected",
                         extra={"shadow_model_version": self.version, "records": len(recordings),
                                "error": repr(exc)})  # fmt: skip
            return batch
        return replace(batch, shadow=tuple(shadow.outcomes), shadow_inference_seconds=shadow.inference_seconds)

    async def record(
        self,
        pairs: Sequence[tuple[DiagnosisResult, RecordingOutcome]],
        diagnosed_at: datetime,
        inference_seconds: float,
    ) -> None:
        """Count agreement and start storing the shadow outcomes of stored diagnoses in the background.

        Returns at once and never raises: the write runs as its own task, one at a time; the rows of
        a batch that arrives while the previous write is still running are dropped (counted as a
        storage failure), so a slow shadow database costs memory for one batch and no latency.
        """
        try:
            for stored, shadow in pairs:
                self.metrics.shadow_records.inc()
                for code in disagreeing_codes(stored, shadow):
                    self.metrics.shadow_disagreements.labels(code=str(code)).inc()
            rows = [self._result(stored, shadow, diagnosed_at, inference_seconds) for stored, shadow in pairs]
        except Exception as exc:  # noqa: BLE001 - a shadow outcome that cannot be recorded
            self._failed("shadow results not recorded", exc, len(pairs))
            return
        if self._writing is not None and not self._writing.done():
            self._failed("previous shadow write still running; these shadow results dropped", None, len(rows))
            return
        self._writing = asyncio.create_task(self._write(rows), name="shadow-write")

    async def drain(self) -> None:
        """Wait for the shadow write in progress, if any (tests; a stopping worker may skip it)."""
        if self._writing is not None:
            await asyncio.wait({self._writing})

    async def _write(self, rows: list[ShadowResult]) -> None:
        try:
            await asyncio.wait_for(self.store.write_batch(rows), timeout=self.write_timeout)
        except Exception as exc:  # noqa: BLE001 - TimeoutError, DatabaseUnavailable, StorageError, anything
            self._failed("shadow results not stored", exc, len(rows))

    def _failed(self, message: str, error: BaseException | None, records: int) -> None:
        self.metrics.shadow_failures.labels(stage="storage").inc()
        logger.error(f"{message}; authoritative results unaffected",
                     extra={"shadow_model_version": self.version, "records": records, "error": repr(error)})  # fmt: skip

    def _result(
        self, stored: DiagnosisResult, shadow: RecordingOutcome, diagnosed_at: datetime, inference_seconds: float
    ) -> ShadowResult:
        return ShadowResult(
            recording_id=stored.recording_id,
            model_version=self.version,
            authoritative_version=stored.model_version,
            statements=[asdict(s) for s in shadow.statements],
            probabilities=dict(shadow.probabilities),
            readable=shadow.readable,
            unreadable_reasons=list(shadow.unreadable_reasons),
            diagnosed_at=diagnosed_at,
            inference_seconds=inference_seconds,
        )
