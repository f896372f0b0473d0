"""The st_elevation critical finding is raised by the J-point rule (measurement -> rules -> fusion ->
critical findings, on a synthetic recording with a known elevation), not by a model-only
elevation, and not when the elevated leads are unreadable."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from interpretation.critical import critical_findings
from interpretation.fusion import fuse
from measurements import measure
from measurements.quality import assess_quality
from measurements.rules import rule_statements
from measurements.st_elevation import LEADS
from measurements.types import LeadQuality, QualityReport
from tests.measurements.synthetic import FS
from tests.measurements.test_st_elevation import stemi_signal

THRESHOLDS = {145: 0.5, 1: 0.5}


def findings_for(q: QualityReport | None = None, model: dict[int, float] | None = None) -> list[str]:
    x = stemi_signal(("V2", "V3", "V4"), 0.3)
    quality = q if q is not None else assess_quality(x, FS)
    m = measure(x, FS)
    rules = rule_statements(m, quality, sex="M", age=58.0)
    fused = fuse(model or {1: 0.9}, THRESHOLDS, rules, quality)
    return [f.finding for f in critical_findings([asdict(s) for s in fused], {"heart_rate_bpm": 75.0})]


def test_measured_st_elevation_is_critical() -> None:
    assert findings_for() == ["st_elevation"]
    # The model's own 145 (below or above its threshold) does not change it.
    assert findings_for(model={145: 0.2}) == ["st_elevation"]
    assert findings_for(model={145: 0.9}) == ["st_elevation"]


def test_unreadable_elevated_leads_raise_nothing() -> None:
    q = QualityReport(
        "acceptable", tuple(LeadQuality(n, "unreadable" if n == "V3" else "good") for n in LEADS)
    )
    assert findings_for(q) == []


def test_model_only_elevation_is_not_critical() -> None:
    statements: list[dict[str, Any]] = [
        {"code": 145, "modifies": None, "provenance": "model"},
        {"code": 363, "modifies": 145, "provenance": "model"},
    ]
    assert critical_findings(statements, None) == []
    measured = [dict(s, provenance="measurement") for s in statements]
    assert [f.finding for f in critical_findings(measured, None)] == ["st_elevation"]
