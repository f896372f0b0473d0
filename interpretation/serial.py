"""Serial comparison: what changed between a patient's earlier recording and the current one. Pure.

Statements are compared by AHA code (modifiers included): ``new`` are asserted now and not before,
``resolved`` were asserted before and not now, ``persisting`` both. Measurements: the change of
heart rate, PR, QRS, QTc (Fridericia and Bazett) and the frontal P, QRS and T axes, current minus
previous; an axis change is the shorter way round the circle, in (-180, 180]. A change at or above
``NOTABLE_CHANGE`` is flagged ``notable`` for display only (it is not a diagnostic rule).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["COMPARED_MEASUREMENTS", "NOTABLE_CHANGE", "MeasurementChange", "SerialComparison", "compare_serial"]

# (key in the measurements JSON, label, unit, is an angle)
COMPARED_MEASUREMENTS: tuple[tuple[str, str, str, bool], ...] = (
    ("heart_rate_bpm", "Heart rate", "bpm", False),
    ("pr_ms", "PR", "ms", False),
    ("qrs_ms", "QRS", "ms", False),
    ("qtc_fridericia_ms", "QTc (Fridericia)", "ms", False),
    ("qtc_bazett_ms", "QTc (Bazett)", "ms", False),
    ("p_axis_deg", "P axis", "deg", True),
    ("qrs_axis_deg", "QRS axis", "deg", True),
    ("t_axis_deg", "T axis", "deg", True),
)
NOTABLE_CHANGE: dict[str, float] = {
    "heart_rate_bpm": 20.0, "pr_ms": 40.0, "qrs_ms": 20.0, "qtc_fridericia_ms": 30.0, "qtc_bazett_ms": 30.0,
    "p_axis_deg": 45.0, "qrs_axis_deg": 45.0, "t_axis_deg": 45.0,
}  # fmt: skip


@dataclass(frozen=True)
class MeasurementChange:
    """One measurement before and now; ``change`` is None when either is missing."""

    key: str
    label: str
    unit: str
    previous: float | None
    current: float | None
    change: float | None
    notable: bool

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "unit": self.unit, "previous": self.previous,
                "current": self.current, "change": self.change, "notable": self.notable}  # fmt: skip


@dataclass(frozen=True)
class SerialComparison:
    """Statements as ``{"code", "name"}`` dicts in code order; measurement changes in
    ``COMPARED_MEASUREMENTS`` order."""

    new_statements: list[dict[str, Any]]
    resolved_statements: list[dict[str, Any]]
    persisting_statements: list[dict[str, Any]]
    measurement_changes: list[MeasurementChange]

    @property
    def changed(self) -> bool:
        """Any statement appeared or resolved, or any measurement changed notably."""
        notable = any(item.notable for item in self.measurement_changes)
        return bool(self.new_statements or self.resolved_statements or notable)

    def as_json(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "new_statements": self.new_statements,
            "resolved_statements": self.resolved_statements,
            "persisting_statements": self.persisting_statements,
            "measurement_changes": [item.as_json() for item in self.measurement_changes],
        }


def _by_code(statements: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    named = {}
    for item in statements:
        code = int(item["code"])
        named[code] = {"code": code, "name": str(item.get("description") or item.get("name") or f"statement {code}")}
    return named


def _number(measurements: Mapping[str, Any] | None, key: str) -> float | None:
    value = (measurements or {}).get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def angle_change(previous: float, current: float) -> float:
    """``current - previous`` the shorter way round the circle, in (-180, 180] degrees."""
    change = (current - previous) % 360.0
    return change - 360.0 if change > 180.0 else change


def _change(key: str, label: str, unit: str, angle: bool, previous: float | None, current: float | None) -> MeasurementChange:
    change = None
    if previous is not None and current is not None:
        change = round(angle_change(previous, current) if angle else current - previous, 1)
    notable = change is not None and abs(change) >= NOTABLE_CHANGE[key]
    return MeasurementChange(key, label, unit, previous, current, change, notable)


def compare_serial(
    previous_statements: Sequence[Mapping[str, Any]],
    current_statements: Sequence[Mapping[str, Any]],
    previous_measurements: Mapping[str, Any] | None,
    current_measurements: Mapping[str, Any] | None,
) -> SerialComparison:
    """What changed from the previous recording to the current one (see the module docstring)."""
    before, now = _by_code(previous_statements), _by_code(current_statements)
    changes = [
        _change(key, label, unit, angle, _number(previous_measurements, key), _number(current_measurements, key))
        for key, label, unit, angle in COMPARED_MEASUREMENTS
    ]
    return SerialComparison(
        new_statements=[now[code] for code in sorted(now.keys() - before.keys())],
        resolved_statements=[before[code] for code in sorted(before.keys() - now.keys())],
        persisting_statements=[now[code] for code in sorted(now.keys() & before.keys())],
        measurement_changes=changes,
    )
