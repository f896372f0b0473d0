"""Measurements of a 12-lead ECG from the raw mV signal: beats, rate, intervals, axes, voltages,
signal quality, and the statements decided from them. Pure: numpy/scipy/neurokit2, no IO."""

from measurements.measure import measure, measure_batch
from measurements.types import (
    BEAT_CLASSES,
    BeatClass,
    Beats,
    LeadQuality,
    Measurements,
    QualityReport,
    QualityVerdict,
    RuleStatement,
)

__all__ = [
    "measure",
    "measure_batch",
    "BEAT_CLASSES",
    "BeatClass",
    "Beats",
    "LeadQuality",
    "Measurements",
    "QualityReport",
    "QualityVerdict",
    "RuleStatement",
]
