"""Quality, measurements, rule statements, model and fusion for one batch: the work of the executor.

``BatchAnalyser.run`` is synchronous and pure apart from timing (no faust, Kafka or SQL): the worker
calls it once per micro-batch in its executor thread, and ``ecgstream diagnose`` calls it directly.
For each recording, in order:

1. signal quality (``measurements.quality.assess_quality``); an **unreadable** recording stops here:
   it is never classified, its outcome has no statements and no probabilities, only the reasons;
2. measurements of the readable recordings (``measurements.measure_batch``, native rate, mV);
3. statements decided from measurements (``measurements.rules.rule_statements``);
4. the model on the readable recordings (one forward pass for the batch);
5. fusion (``interpretation.fuse``): each statement with its provenance (measurement, model, both);
6. the consistency table (``interpretation.consistency``): statements that contradict the
   measurements beside them are removed, modifiers without their statement too;
7. certainty (``interpretation.certainty``): definite, or possible (model alone, weak).

``measure=False`` skips 1-3 and 5 (the model alone, every recording classified: the pre-measurement
behaviour, kept for benchmarks and as a fallback); ``fusion=False`` keeps 1-3 (quality gate,
measurements in the event) but states the model's statements only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from interpretation.final import final_statements
from measurements import Measurements, QualityReport
from model import BatchPrediction, Predictor
from schemas import EventMeasurements, EventQuality, LeadMeasurement, LeadQualityRecord, Recording, Statement
from schemas.beat_positions import BeatPositions
from schemas.recording import STANDARD_LEADS
from stream_processor.assessment import Assessed, AssessmentInput, AssessmentPool

__all__ = [
    "AnalysisOptions", "RecordingOutcome", "AnalysedBatch", "BatchAnalyser", "unreadable_reasons", "beat_positions",
]  # fmt: skip

logger = logging.getLogger(__name__)

GENERIC_UNREADABLE = "unreadable"  # reason when the quality report names no problem


@dataclass(frozen=True)
class AnalysisOptions:
    measure: bool = True  # quality gate, measurements and rules
    fusion: bool = True  # fused statements (else the model's alone)


@dataclass(frozen=True)
class RecordingOutcome:
    """What the service says about one recording."""

    statements: tuple[Statement, ...]
    probabilities: dict[str, float]  # every model label; empty when unreadable
    readable: bool = True
    unreadable_reasons: tuple[str, ...] = ()
    measurements: EventMeasurements | None = None
    quality: EventQuality | None = None
    beats: BeatPositions | None = None  # where the measurements found the beats (stored, not in the event)


@dataclass(frozen=True)
class AnalysedBatch:
    outcomes: list[RecordingOutcome]
    preprocess_seconds: float = 0.0
    inference_seconds: float = 0.0
    measurement_seconds: float = 0.0  # quality + measurements + rules + fusion
    measured: bool = False
    # a shadow model's outcome per recording (None where it failed); None: no shadow ran (stream_processor.shadow)
    shadow: tuple[RecordingOutcome | None, ...] | None = None
    shadow_inference_seconds: float = 0.0

    @staticmethod
    def join(batches: Sequence[AnalysedBatch]) -> AnalysedBatch:
        """One batch from several (the worker's one-by-one fallback after a failed batch)."""
        shadowed = any(b.shadow is not None for b in batches)
        return AnalysedBatch(
            outcomes=[o for b in batches for o in b.outcomes],
            preprocess_seconds=sum(b.preprocess_seconds for b in batches),
            inference_seconds=sum(b.inference_seconds for b in batches),
            measurement_seconds=sum(b.measurement_seconds for b in batches),
            measured=any(b.measured for b in batches),
            shadow=tuple(s for b in batches for s in (b.shadow or (None,) * len(b.outcomes)))
            if shadowed
            else None,
            shadow_inference_seconds=sum(b.shadow_inference_seconds for b in batches),
        )


def unreadable_reasons(quality: QualityReport) -> tuple[str, ...]:
    """Reason codes of an unreadable recording: its own problems, then those of its unreadable leads.

    Codes only (no lead names), so they are a bounded set; the first is the primary reason the
    worker counts in ``ecgstream_unreadable_total{reason}``.
    """
    reasons = list(quality.problems)
    for lead in quality.leads:
        if lead.verdict == "unreadable":
            reasons.extend(lead.problems)
    unique = tuple(dict.fromkeys(reasons))
    return unique or (GENERIC_UNREADABLE,)


def event_measurements(m: Measurements) -> EventMeasurements:
    """The event/database form of ``Measurements``, by the field names of ``EventMeasurements`` and
    ``LeadMeasurement`` (the one list of them): every field read from the measurement of the same
    name (non-finite values become None), except the beats (counts per class) and the leads (one
    record per lead of the per-lead tuples)."""
    per_lead = {f.name: getattr(m, f.name) for f in fields(LeadMeasurement) if f.name != "lead"}
    leads = [
        {"lead": lead, **{name: values[i] if i < len(values) else None for name, values in per_lead.items()}}
        for i, lead in enumerate(STANDARD_LEADS)
    ]
    same_names = {
        f.name: getattr(m, f.name) for f in fields(EventMeasurements) if f.name not in ("beats", "leads")
    }
    return EventMeasurements.from_record({**same_names, "beats": m.beats.counts(), "leads": leads})


def beat_positions(m: Measurements) -> BeatPositions:
    """Where ``m`` found the beats: R peaks (samples at the measured rate) and their classes."""
    return BeatPositions(float(m.beats.fs), [int(peak) for peak in m.beats.r_peaks], list(m.beats.classes))


def event_quality(q: QualityReport) -> EventQuality:
    return EventQuality(
        verdict=q.verdict,
        leads=[LeadQualityRecord(lead.lead, lead.verdict, list(lead.problems)) for lead in q.leads],
        problems=list(q.problems),
    )


class BatchAnalyser:
    """Runs quality, measurements, rules, the model and fusion over a batch (synchronously)."""

    def __init__(
        self, predictor: Predictor, options: AnalysisOptions | None = None, pool: AssessmentPool | None = None
    ) -> None:
        self.predictor = predictor
        self.options = options or AnalysisOptions()
        self.pool = pool or AssessmentPool(0)  # steps 1-3 here, or spread over processes
        self._codes = [label.code for label in predictor.labels]
        self._thresholds = {code: float(t) for code, t in zip(self._codes, predictor.thresholds, strict=True)}

    def run(self, recordings: Sequence[Recording]) -> AnalysedBatch:
        """Outcomes in input order.

        An exception in any step fails the whole call; the worker then analyses the batch one
        recording at a time and dead-letters only the recording at fault (``inference_error``).
        """
        if not self.options.measure:
            return self._model_only(recordings)
        started = time.perf_counter()
        assessed = self.assess(recordings)
        return self.conclude(recordings, assessed, time.perf_counter() - started)

    def assess(self, recordings: Sequence[Recording]) -> list[Assessed]:
        """Steps 1-3: quality, measurements and rule statements (model-independent, so a second model
        version can reuse them: ``stream_processor.shadow``)."""
        return self.pool.assess([AssessmentInput(r.signal, float(r.fs), r.sex, r.age) for r in recordings])

    def conclude(
        self, recordings: Sequence[Recording], assessed: Sequence[Assessed], measuring_s: float = 0.0
    ) -> AnalysedBatch:
        """Steps 4-7 on ``assess(recordings)``: the model on the readable recordings, fusion, consistency, certainty."""
        readable = [r for r, a in zip(recordings, assessed, strict=True) if a.quality.readable]
        prediction = self._predict(readable) if readable else None
        started = time.perf_counter()
        outcomes: list[RecordingOutcome] = []
        rows = iter(prediction.probabilities if prediction is not None else ())
        for rec, a in zip(recordings, assessed, strict=True):
            quality = event_quality(a.quality)
            if not a.quality.readable:
                reasons = unreadable_reasons(a.quality)
                outcomes.append(RecordingOutcome((), {}, False, reasons, None, quality))
                continue
            row = next(rows)
            measured = None if a.measurements is None else event_measurements(a.measurements)
            beats = None if a.measurements is None else beat_positions(a.measurements)
            outcomes.append(RecordingOutcome(self._statements(row, a, rec.sex), self._probabilities(row), True, (),
                                             measured, quality, beats))  # fmt: skip
        return AnalysedBatch(
            outcomes,
            preprocess_seconds=prediction.preprocess_seconds if prediction else 0.0,
            inference_seconds=prediction.inference_seconds if prediction else 0.0,
            measurement_seconds=measuring_s + time.perf_counter() - started,
            measured=True,
        )

    # -- steps ----------------------------------------------------------------------------------

    def _predict(self, recordings: Sequence[Recording]) -> BatchPrediction:
        return self.predictor.predict(
            [r.signal for r in recordings], [r.fs for r in recordings],
            [r.age for r in recordings], [r.sex for r in recordings],
        )  # fmt: skip

    def _probabilities(self, row: np.ndarray) -> dict[str, float]:
        return {str(code): round(float(p), 5) for code, p in zip(self._codes, row, strict=True)}

    def _model_statements(self, row: np.ndarray) -> tuple[Statement, ...]:
        positives = self.predictor.statements(row[None, :])[0]
        return tuple(Statement(label.code, label.description, round(float(p), 4)) for label, p in positives)

    def _statements(self, row: np.ndarray, assessed: Assessed, sex: str | None) -> tuple[Statement, ...]:
        if not self.options.fusion:
            return self._model_statements(row)
        probabilities = {code: float(p) for code, p in zip(self._codes, row, strict=True)}
        final = final_statements(
            probabilities, self._thresholds, assessed.rules, assessed.quality, assessed.measurements, sex=sex
        )
        return tuple(
            Statement(
                int(f.statement.code), f.statement.description,
                None if f.statement.probability is None else round(float(f.statement.probability), 4),
                f.statement.provenance, f.statement.evidence or None, f.statement.modifies, f.certainty,
            )
            for f in final  # primary statements by code, then modifiers whose statement is present
        )  # fmt: skip

    def _model_only(self, recordings: Sequence[Recording]) -> AnalysedBatch:
        prediction = self._predict(recordings)
        outcomes = [
            RecordingOutcome(self._model_statements(row), self._probabilities(row))
            for row in prediction.probabilities
        ]
        return AnalysedBatch(outcomes, prediction.preprocess_seconds, prediction.inference_seconds)
