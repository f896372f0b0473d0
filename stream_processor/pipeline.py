"""Overlapping batches: decode the next batch and store/publish/ack the previous one during an analysis.

``BatchProcessor`` runs the worker's chain in three steps: ``prepare`` (decode -> validate, on the
event loop), ``analyse`` (quality, measurements, model and fusion, in the executor) and ``finish``
(store -> events -> publish, on the event loop); the pipeline then acks. Run one after the other
(``BatchProcessor.process``), the loop waits for the executor and the executor for the loop.
``BatchPipeline`` lets them overlap, with these guarantees:

- **at most one batch in analysis**: a batch's analysis starts only after the previous one ended;
- **in order**: batch *k* is finished (stored, published) and acked only after batch *k-1* was
  finished and acked, so acks stay in offset order per partition;
- **acked only when done**: ``ack(events)`` is called only after ``finish`` returned for that batch;
  a batch whose step fails or is cancelled is never acked (it is redelivered: at-least-once);
- **bounded**: at most two batches between analysis and ack; ``submit`` waits (back-pressure on the
  consumer) while the oldest is still being stored, e.g. while the database is down.

``close()`` cancels the batches in flight (worker shutdown, rebalance); none of them is acked.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from stream_processor.messages import IncomingMessage
from stream_processor.processing import AnalysisResult, BatchOutcome, BatchProcessor, PreparedBatch

__all__ = ["BatchPipeline", "MAX_UNFINISHED"]

logger = logging.getLogger(__name__)

MAX_UNFINISHED = 2  # batches analysed or in analysis but not yet acked


class BatchPipeline:
    """Feeds batches through a ``BatchProcessor`` with analysis overlapping decode and storage."""

    def __init__(self, processor: BatchProcessor, ack: Callable[[Sequence[Any]], Awaitable[None]]) -> None:
        self.processor = processor
        self._ack = ack
        self._analysis: asyncio.Future[AnalysisResult] | None = None
        self._unfinished: deque[asyncio.Task[BatchOutcome]] = deque()

    async def submit(self, events: Sequence[Any], messages: Sequence[IncomingMessage]) -> None:
        """Start a batch; returns once its analysis has started. ``events`` are what ``ack`` receives.

        Raises the error of an earlier batch that failed (that batch and the ones after it are not acked).
        """
        batch = self.processor.prepare(messages)  # decode while the previous batch is in analysis
        self._raise_failure()
        if self._analysis is not None:
            await asyncio.wait({self._analysis})  # at most one batch in analysis
        while len(self._unfinished) >= MAX_UNFINISHED:
            await asyncio.wait({self._unfinished[0]})
            self._raise_failure()
        self._analysis = asyncio.ensure_future(self.processor.analyse(batch))
        previous = self._unfinished[-1] if self._unfinished else None
        task = asyncio.create_task(self._finish(events, batch, self._analysis, previous))
        task.add_done_callback(self._log_failure)
        self._unfinished.append(task)

    async def _finish(
        self,
        events: Sequence[Any],
        batch: PreparedBatch,
        analysis: asyncio.Future[AnalysisResult],
        previous: asyncio.Task[BatchOutcome] | None,
    ) -> BatchOutcome:
        result = await analysis
        if previous is not None:
            await previous  # store, publish and ack in batch order; a failed predecessor fails this one
        outcome = await self.processor.finish(batch, result)  # store -> events -> publish
        await self._ack(events)  # ack
        return outcome

    def _raise_failure(self) -> None:
        while self._unfinished and self._unfinished[0].done():
            self._unfinished.popleft().result()  # raises the batch's error, if any

    @staticmethod
    def _log_failure(task: asyncio.Task[BatchOutcome]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("batch failed; it and the batches after it stay unacknowledged",
                         extra={"error": repr(task.exception())})  # fmt: skip

    async def flush(self) -> None:
        """Wait until every submitted batch is finished and acked (raises a batch's error)."""
        while self._unfinished:
            await asyncio.wait({self._unfinished[0]})
            self._raise_failure()

    async def close(self) -> None:
        """Cancel the batches in flight; none of them is acked."""
        pending: list[asyncio.Future[Any]] = [*self._unfinished]
        if self._analysis is not None:
            pending.append(self._analysis)
        for future in pending:
            future.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        self._unfinished.clear()
        self._analysis = None
