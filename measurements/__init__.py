"""Measurements of a 12-lead ECG from the raw mV signal: beats, rate, intervals, axes, voltages,
signal quality, and the statements decided from them. Pure: numpy/scipy/neurokit2, no IO."""

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
    "BEAT_CLASSES",
    "BeatClass",
    "Beats",
    "LeadQuality",
    "Measurements",
    "QualityReport",
    "QualityVerdict",
    "RuleStatement",
]
