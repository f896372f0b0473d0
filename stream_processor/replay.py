"""Replay stored recordings through another model version, side by side with their stored diagnoses.

Read-only: the caller passes an engine that refuses writes (``create_engine(url, read_only=True)``);
nothing here writes anywhere. Page by page (``storage.stored_recordings``): each stored recording is
rebuilt from its stored samples and demographics, checked like the worker checks a message
(``validate_recording``), analysed with ``BatchAnalyser`` (the same quality, measurements, rules,
fusion, consistency and certainty as the worker, with the other model) and compared with its stored
diagnosis (``interpretation.agreement``). Memory: one page of samples plus bounded counts.

Skipped and counted, never compared: recordings without kept samples (neither ``STORE_SIGNAL`` nor a
gateway tracing), without a stored diagnosis, whose samples fail validation, or whose analysis
raises (the page is then analysed one recording at a time, as the worker does).

``shadow_agreement`` builds the same report from the shadow model's results the worker already stored
(``shadow_diagnoses``), without analysing anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine

from interpretation.agreement import AgreementReport, AgreementTally, Conclusion, conclusion_of
from schemas import InvalidRecording, Recording
from schemas.recording import STANDARD_LEADS
from schemas.validation import validate_recording
from storage.shadow import iter_shadow_pairs
from storage.stored_recordings import DEFAULT_PAGE_SIZE, StoredRecording, iter_stored_recordings
from stream_processor.analysis import BatchAnalyser, RecordingOutcome

__all__ = [
    "ReplayCounts", "ReplayResult", "recording_from_stored", "outcome_conclusion", "replay_stored",
    "shadow_agreement",
]  # fmt: skip

logger = logging.getLogger(__name__)


@dataclass
class ReplayCounts:
    """Where every recording read went."""

    read: int = 0
    compared: int = 0
    no_samples: int = 0
    no_diagnosis: int = 0
    invalid: int = 0
    failed: int = 0
    sample_sources: Counter[str] = field(default_factory=Counter)  # signal (STORE_SIGNAL) / tracing (gateway)
    stored_versions: Counter[str] = field(default_factory=Counter)  # model versions of the stored diagnoses

    def as_json(self) -> dict[str, Any]:
        return {
            "read": self.read, "compared": self.compared,
            "skipped": {"no_samples": self.no_samples, "no_diagnosis": self.no_diagnosis, "invalid_samples": self.invalid,
                        "analysis_failed": self.failed},
            "sample_sources": dict(self.sample_sources), "stored_versions": dict(self.stored_versions),
        }  # fmt: skip


@dataclass(frozen=True)
class ReplayResult:
    """``model_version``: the replayed (or shadow) version; ``report``: its agreement with the stored diagnoses."""

    model_version: str
    counts: ReplayCounts
    report: AgreementReport

    def as_json(self) -> dict[str, Any]:
        return {"model_version": self.model_version, **self.counts.as_json(), "agreement": self.report.as_json()}


def _standard_order(signal: np.ndarray, leads: Sequence[str]) -> np.ndarray:
    """``signal`` with its rows in ``STANDARD_LEADS`` order; InvalidRecording when the leads are not those 12."""
    index = {lead.lower(): i for i, lead in enumerate(leads)}
    if len(index) != len(leads) or set(index) != {lead.lower() for lead in STANDARD_LEADS}:
        raise InvalidRecording(f"stored leads {' '.join(leads)} are not the 12 standard leads", reason="missing_leads")
    return signal[[index[lead.lower()] for lead in STANDARD_LEADS]]


def recording_from_stored(stored: StoredRecording) -> Recording:
    """The recording as the worker analysed it (samples, rate, demographics); raises ``InvalidRecording``."""
    if stored.signal is None:
        raise InvalidRecording("no samples kept", reason="no_samples")
    sex = stored.sex if stored.sex in ("M", "F") else None
    recording = Recording(
        signal=np.ascontiguousarray(_standard_order(stored.signal, stored.leads), dtype=np.float32),
        fs=stored.fs, recording_id=stored.recording_id, age=stored.age, sex=sex,  # type: ignore[arg-type]
        height_cm=stored.height_cm, weight_kg=stored.weight_kg,
    )  # fmt: skip
    validate_recording(recording)
    return recording


def outcome_conclusion(outcome: RecordingOutcome) -> Conclusion:
    """The conclusion of a fresh analysis, by the same functions as the stored diagnosis's."""
    return conclusion_of(
        [asdict(s) for s in outcome.statements], readable=outcome.readable,
        unreadable_reasons=outcome.unreadable_reasons,
        quality=None if outcome.quality is None else outcome.quality.as_record(),
        measurements=None if outcome.measurements is None else outcome.measurements.as_record(),
    )  # fmt: skip


def _analyse(analyser: BatchAnalyser, recordings: list[Recording]) -> list[RecordingOutcome | None]:
    """Outcomes in order; on a failed batch, one at a time (None for a recording that fails alone)."""
    try:
        return list(analyser.run(recordings).outcomes)
    except Exception as exc:  # noqa: BLE001 - isolate the recording at fault, as the worker does
        logger.warning("replay batch failed; analysing one by one", extra={"error": repr(exc)})
    outcomes: list[RecordingOutcome | None] = []
    for recording in recordings:
        try:
            outcomes.append(analyser.run([recording]).outcomes[0])
        except Exception as exc:  # noqa: BLE001
            logger.warning("replay analysis failed", extra={"recording_id": recording.recording_id, "error": repr(exc)})
            outcomes.append(None)
    return outcomes


async def replay_stored(
    engine: AsyncEngine,
    analyser: BatchAnalyser,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    examples: int = 5,
    progress: Callable[[ReplayCounts], None] | None = None,
) -> ReplayResult:
    """Replay the stored recordings of the window through ``analyser`` (see the module docstring)."""
    counts, tally = ReplayCounts(), AgreementTally(examples)
    pages = iter_stored_recordings(engine, since=since, until=until, limit=limit, page_size=page_size)
    async for page in pages:
        counts.read += len(page)
        ready: list[tuple[StoredRecording, Recording]] = []
        for stored in page:
            if stored.diagnosis is None:
                counts.no_diagnosis += 1
            elif stored.signal is None or stored.sample_source is None:
                counts.no_samples += 1
            else:
                try:
                    ready.append((stored, recording_from_stored(stored)))
                except InvalidRecording as exc:
                    counts.invalid += 1
                    logger.warning("stored samples refused", extra={"recording_id": stored.recording_id,
                                                                    "reason": exc.reason})  # fmt: skip
        outcomes = await asyncio.to_thread(_analyse, analyser, [rec for _, rec in ready]) if ready else []
        for (stored, _), outcome in zip(ready, outcomes, strict=True):
            if outcome is None:
                counts.failed += 1
                continue
            diagnosis = stored.diagnosis
            assert diagnosis is not None and stored.sample_source is not None
            tally.describe(diagnosis.statements)
            tally.describe([asdict(s) for s in outcome.statements])
            before = conclusion_of(
                diagnosis.statements, readable=diagnosis.readable, unreadable_reasons=diagnosis.unreadable_reasons,
                quality=diagnosis.quality, measurements=diagnosis.measurements,
            )  # fmt: skip
            tally.add(stored.recording_id, before, outcome_conclusion(outcome))
            counts.compared += 1
            counts.sample_sources[stored.sample_source] += 1
            counts.stored_versions[diagnosis.model_version] += 1
        if progress is not None:
            progress(counts)
    return ReplayResult(analyser.predictor.version, counts, tally.report())


async def shadow_agreement(
    engine: AsyncEngine,
    *,
    shadow_version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    examples: int = 5,
    progress: Callable[[ReplayCounts], None] | None = None,
) -> ReplayResult:
    """The agreement report of the shadow results the worker stored (``shadow_diagnoses``)."""
    counts, tally = ReplayCounts(), AgreementTally(examples)
    versions: Counter[str] = Counter()
    pages = iter_shadow_pairs(engine, shadow_version=shadow_version, since=since, until=until, limit=limit)
    async for page in pages:
        for pair in page:
            tally.describe(pair.statements)
            tally.describe(pair.shadow_statements)
            before = conclusion_of(pair.statements, readable=pair.readable, unreadable_reasons=pair.unreadable_reasons,
                                   quality=pair.quality, measurements=pair.measurements)  # fmt: skip
            after = conclusion_of(pair.shadow_statements, readable=pair.shadow_readable,
                                  unreadable_reasons=pair.shadow_unreadable_reasons, quality=pair.quality,
                                  measurements=pair.measurements)  # fmt: skip
            tally.add(pair.recording_id, before, after)
            versions[pair.shadow_version] += 1
            counts.stored_versions[pair.authoritative_version] += 1
        counts.read += len(page)
        counts.compared += len(page)
        if progress is not None:
            progress(counts)
    shown = shadow_version or ", ".join(sorted(versions)) or "(no shadow results)"
    return ReplayResult(shown, counts, tally.report())
