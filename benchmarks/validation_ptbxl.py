"""The product's analysis on ptbxl-sph with out-of-fold model probabilities (no network is run).

ptbxl-sph's signals are band-passed and z-scored per lead, not mV (../shared/data/README.md). The
worker has no switch for that: it treats every input as mV (``stream_processor.assessment.assess``
calls ``assess_quality`` and ``rule_statements`` with their mV defaults). Here the same steps run
with the amplitude checks off, as docs/fusion.md measured them: ``assess_quality(...,
amplitudes_in_mv=False)``, ``measure``, ``rule_statements(..., amplitudes_valid=False)``, then
``interpretation.fuse`` (the worker's ``DEFAULT_TABLE``) with the OOF probabilities in place of the
network's. Without OOF probabilities only the statements the rules decide alone are meaningful.

OOF file (``model.crossval.save_oof``; ``benchmarks/crossval.py``): ``ECG_ID``, ``labels`` (codes),
``y``, ``probabilities`` (raw), ``fold``, optionally ``probabilities_calibrated`` and ``thresholds``.
Decisions (``load_oof``): calibrated probabilities from the file if it has them, else the shipped
checkpoint's calibration applied to the raw ones; thresholds from the file if it has them, else the
shipped checkpoint's; ``fit=True`` fits Platt + prevalence-matched thresholds on the file itself
(``model.oof_rules.fit_oof_decisions``, as ``ecgstream train --oof`` does for a new network).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from interpretation import fuse
from measurements import measure
from measurements.quality import assess_quality
from measurements.rules import rule_statements
from model.calibration import Calibration
from model.crossval import load_oof
from model.oof_rules import fit_oof_decisions
from model.predictor import Predictor
from schemas import Recording
from stream_processor.analysis import event_measurements, unreadable_reasons

__all__ = ["AMPLITUDE_RULE_CODES", "OofDecisions", "ZscoredOutcome", "analyse_zscored", "load_decisions"]

AMPLITUDE_RULE_CODES = (125, 142)  # rules on mV voltages (measurements.rules._voltage_statements): off here


@dataclass(frozen=True)
class OofDecisions:
    """Calibrated OOF probabilities per record and the thresholds that turn them into statements."""

    probabilities: Mapping[str, Mapping[int, float]]  # ECG_ID -> code -> calibrated probability
    thresholds: Mapping[int, float]
    source: str


@dataclass(frozen=True)
class ZscoredOutcome:
    statements: list[dict[str, Any]]  # asdict-like, as stored by the worker
    measurements: dict[str, Any] | None
    readable: bool
    reasons: tuple[str, ...]
    quality: dict[str, Any]


def load_decisions(path: Path, shipped: Predictor, fit: bool = False) -> OofDecisions:
    """The OOF file's probabilities and thresholds (see the module docstring for the choices)."""
    oof = load_oof(path)
    codes = [int(c) for c in oof["labels"]]
    raw = np.asarray(oof["probabilities"], dtype=np.float64)
    shipped_codes = [label.code for label in shipped.labels]
    by_code = {c: j for j, c in enumerate(shipped_codes)}
    if fit:
        calibration, fitted = fit_oof_decisions(np.asarray(oof["y"], dtype=float), raw)
        calibrated, thresholds = calibration.apply(raw), np.asarray(fitted, dtype=float)
        source = f"{path.name}: Platt + prevalence thresholds fitted on this file"
    else:
        if "probabilities_calibrated" in oof:
            calibrated, how = (
                np.asarray(oof["probabilities_calibrated"], dtype=np.float64),
                "calibrated in the file",
            )
        else:
            cal = shipped.calibration
            slope = np.asarray([cal.slope[by_code[c]] if c in by_code else 1.0 for c in codes], np.float32)
            intercept = np.asarray(
                [cal.intercept[by_code[c]] if c in by_code else 0.0 for c in codes], np.float32
            )
            calibrated, how = (
                Calibration(slope, intercept).apply(raw),
                f"raw, calibrated by {shipped.version}",
            )
        if "thresholds" in oof:
            thresholds, told = np.asarray(oof["thresholds"], dtype=float), "thresholds in the file"
        else:
            shipped_t = {c: float(t) for c, t in zip(shipped_codes, shipped.thresholds, strict=True)}
            thresholds, told = (
                np.asarray([shipped_t.get(c, 0.5) for c in codes]),
                f"{shipped.version} thresholds",
            )
        source = f"{path.name}: probabilities {how}; {told}"
    probabilities = {
        str(ecg_id): {c: float(p) for c, p in zip(codes, row, strict=True)}
        for ecg_id, row in zip(oof["ECG_ID"], calibrated, strict=True)
    }
    return OofDecisions(probabilities, {c: float(t) for c, t in zip(codes, thresholds, strict=True)}, source)


def analyse_zscored(
    recording: Recording, probabilities: Mapping[int, float], thresholds: Mapping[int, float]
) -> ZscoredOutcome:
    """Quality, measurements, rules and fusion of one z-scored recording (amplitude checks off)."""
    x = np.asarray(recording.signal, dtype=np.float64)
    quality = assess_quality(x, recording.fs, amplitudes_in_mv=False)
    quality_record = {"verdict": quality.verdict, "problems": list(quality.problems),
                      "leads": [{"lead": q.lead, "verdict": q.verdict} for q in quality.leads]}  # fmt: skip
    if not quality.readable:
        return ZscoredOutcome([], None, False, unreadable_reasons(quality), quality_record)
    m = measure(x, recording.fs)
    rules = rule_statements(m, quality, sex=recording.sex, age=recording.age, amplitudes_valid=False)
    fused = fuse(probabilities, thresholds, rules, quality)
    statements = [
        {"code": s.code, "description": s.description, "probability": s.probability,
         "provenance": s.provenance, "evidence": s.evidence, "modifies": s.modifies}
        for s in fused
    ]  # fmt: skip
    return ZscoredOutcome(statements, event_measurements(m).as_record(), True, (), quality_record)
