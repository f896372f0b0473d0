"""analyse: one executor call for a batch's valid recordings; a recording that crashes it is isolated.

If the batch call fails, the recordings are analysed one by one: those that fail alone are the
poison (``inference_error``, ``stream_processor.policy``), the others keep their outcomes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime

from core.errors import EcgstreamError
from schemas import Recording
from stream_processor.analysis import AnalysedBatch
from stream_processor.policy import INFERENCE_ERROR
from stream_processor.steps.clock import utcnow
from stream_processor.steps.decode import Admitted

__all__ = ["AnalysisResult", "Analyse", "analyse"]

logger = logging.getLogger(__name__)

Analyse = Callable[[Sequence[Recording]], AnalysedBatch]  # runs in the executor


@dataclass(frozen=True)
class AnalysisResult:
    """The analysis of a batch's valid recordings, and the recordings it could not analyse."""

    analysed: list[Admitted]  # in the order of ``predictions.outcomes``
    predictions: AnalysedBatch
    failed: list[tuple[Admitted, EcgstreamError]]
    diagnosed_at: datetime  # when the analysis ended (the batch may then wait for its predecessor)


async def analyse(valid: Sequence[Admitted], run: Analyse, executor: Executor | None) -> AnalysisResult:
    """``run`` over the recordings of ``valid`` in ``executor``; on failure, one by one."""
    if not valid:
        return AnalysisResult([], AnalysedBatch([]), [], utcnow())
    loop = asyncio.get_running_loop()
    try:
        predictions = await loop.run_in_executor(executor, run, [item.recording for item in valid])
        return AnalysisResult(list(valid), predictions, [], utcnow())
    except Exception as batch_error:  # noqa: BLE001 - isolate which recording is at fault
        logger.warning("batch analysis failed; retrying one by one", extra={"error": repr(batch_error)})
    analysed: list[Admitted] = []
    singles: list[AnalysedBatch] = []
    failed: list[tuple[Admitted, EcgstreamError]] = []
    for item in valid:
        try:
            single = await loop.run_in_executor(executor, run, [item.recording])
        except Exception as exc:  # noqa: BLE001
            error = (
                exc if isinstance(exc, EcgstreamError) else EcgstreamError(repr(exc), reason=INFERENCE_ERROR)
            )
            failed.append((item, error))
            continue
        analysed.append(item)
        singles.append(single)
    return AnalysisResult(analysed, AnalysedBatch.join(singles), failed, utcnow())
