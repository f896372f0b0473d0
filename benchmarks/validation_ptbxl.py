"""The product's analysis on ptbxl-sph with out-of-fold model probabilities (no network is run).

ptbxl-sph's signals are band-passed and z-scored per lead, not mV (../shared/data/README.md); the
worker recognises such input itself (``measurements.units``) and switches the amplitude criteria
off. Here the worker's own steps run (``stream_processor.assessment.assess``, then
``interpretation.final``: fusion with the worker's ``DEFAULT_TABLE``, the consistency table,
certainty) with the OOF probabilities in place of the network's. Without OOF probabilities only the
statements the rules decide alone are meaningful.

OOF file (``model.training.crossval.save_oof``; ``benchmarks/crossval.py``): ``ECG_ID``, ``labels`` (codes),
``y``, ``probabilities`` (raw), ``fold``, optionally ``probabilities_calibrated`` and ``thresholds``.
Decisions (``load_oof``): calibrated probabilities from the file if it has them, else the shipped
checkpoint's calibration applied to the raw ones; thresholds from the file if it has them, else the
shipped checkpoint's; ``fit=True`` fits Platt + prevalence-matched thresholds on the file itself
(``model.training.oof_rules.fit_oof_decisions``, as ``ecgstream train --oof`` does for a new network).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from interpretation.final import final_statements
from model.calibration import Calibration
from model.predictor import Predictor
from model.training.crossval import load_oof
from model.training.oof_rules import fit_oof_decisions
from schemas import Recording
from stream_processor.analysis import event_measurements, unreadable_reasons
from stream_processor.assessment import AssessmentInput, assess

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
    """The worker's quality, measurements, rules (``stream_processor.assessment.assess``: the
    amplitude checks switch themselves off on z-scored input) and final statements (fusion,
    consistency, certainty: ``interpretation.final``) of one recording, with OOF probabilities."""
    x = np.asarray(recording.signal, dtype=np.float64)
    assessed = assess([AssessmentInput(x, float(recording.fs), recording.sex, recording.age)])[0]
    quality = assessed.quality
    quality_record = {"verdict": quality.verdict, "problems": list(quality.problems),
                      "leads": [{"lead": q.lead, "verdict": q.verdict} for q in quality.leads]}  # fmt: skip
    if not quality.readable or assessed.measurements is None:
        return ZscoredOutcome([], None, False, unreadable_reasons(quality), quality_record)
    m = assessed.measurements
    final = final_statements(probabilities, thresholds, assessed.rules, quality, m, sex=recording.sex)
    statements = [
        {"code": f.statement.code, "description": f.statement.description, "probability": f.statement.probability,
         "provenance": f.statement.provenance, "evidence": f.statement.evidence, "modifies": f.statement.modifies,
         "certainty": f.certainty}
        for f in final
    ]  # fmt: skip
    return ZscoredOutcome(statements, event_measurements(m).as_record(), True, (), quality_record)
