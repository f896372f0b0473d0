"""What the chart report says, in words (pure; no IO, no layout): times in the site's zone, the
measurement block as carts print it, the interpretation, the confirmation line and the comparison.

The interpretation uses the statements' own descriptions, "Possible ..." for a statement of
certainty ``possible``, a modifier joined to the statement it qualifies ("Atrial premature
complex(es), frequent"); never a model probability or threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from interpretation.serial import compare_serial

__all__ = [
    "format_time", "measurement_block", "interpretation_lines", "confirmation_line", "comparison_line",
    "speed_gain_filter",
]  # fmt: skip

FIRST_MODIFIER = 300


def format_time(moment: datetime | None, zone: tzinfo) -> str:
    """``2026-11-25 13:00:00 CET (Europe/Berlin)``; ``-`` for None (naive times are UTC)."""
    if moment is None:
        return "-"
    from datetime import UTC

    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)
    name, key = local.tzname() or "", str(getattr(zone, "key", zone))
    return f"{local:%Y-%m-%d %H:%M:%S} {name}" + ("" if key == name else f" ({key})")


def _number(measurements: Mapping[str, Any], key: str) -> float | None:
    value = measurements.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value)


def _whole(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def measurement_block(measurements: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) rows as a cart prints them: rates, PR, QRS, QT/QTc and the P-R-T axes; a value
    that was not measured is ``-``. QTc is Fridericia's (QT/QTcF), Bazett's (QT/QTcB) only when
    Fridericia's is missing."""
    m = measurements or {}
    fridericia, bazett = _number(m, "qtc_fridericia_ms"), _number(m, "qtc_bazett_ms")
    qtc, formula = (fridericia, "F") if fridericia is not None else (bazett, "B")
    axes = " ".join(_whole(_number(m, key)) for key in ("p_axis_deg", "qrs_axis_deg", "t_axis_deg"))
    return [
        ("Vent. rate", f"{_whole(_number(m, 'heart_rate_bpm'))} bpm"),
        ("Atrial rate", f"{_whole(_number(m, 'atrial_rate_bpm'))} bpm"),
        ("PR interval", f"{_whole(_number(m, 'pr_ms'))} ms"),
        ("QRS duration", f"{_whole(_number(m, 'qrs_ms'))} ms"),
        (f"QT/QTc{formula}", f"{_whole(_number(m, 'qt_ms'))}/{_whole(qtc)} ms"),
        ("P-R-T axes", f"{axes} deg"),
    ]


def _possible(description: str) -> str:
    """"Possible left ventricular hypertrophy"; acronyms keep their capitals ("Possible AV block")."""
    head = description[:1].lower() if description[1:2].islower() else description[:1]
    return f"Possible {head}{description[1:]}"


def interpretation_lines(statements: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per primary statement, its modifiers joined to it; a modifier that names no
    statement present gets its own line."""
    primaries = [s for s in statements if int(s["code"]) < FIRST_MODIFIER]
    modifiers = [s for s in statements if int(s["code"]) >= FIRST_MODIFIER]
    present = {int(s["code"]) for s in primaries}
    lines = []
    for s in primaries:
        text = str(s.get("description") or f"AHA statement {s['code']}")
        for m in modifiers:
            if m.get("modifies") is not None and int(m["modifies"]) == int(s["code"]):
                text += f", {str(m.get('description') or m['code']).lower()}"
        lines.append(_possible(text) if s.get("certainty") == "possible" else text)
    for m in modifiers:
        if m.get("modifies") is None or int(m["modifies"]) not in present:
            lines.append(str(m.get("description") or f"AHA modifier {m['code']}"))
    return lines


def confirmation_line(action: str | None, reader: str | None, at: datetime | None, zone: tzinfo) -> str:
    """"Unconfirmed", "Confirmed by <name> at <time>" or "Rejected by <name> at <time>"."""
    if action is None or reader is None:
        return "Unconfirmed"
    verb = "Rejected" if action == "reject" else "Confirmed"
    return f"{verb} by {reader} at {format_time(at, zone)}"


def comparison_line(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any], zone: tzinfo
) -> str:
    """The comparison with the previous ECG in one sentence. ``previous`` / ``current``:
    ``{"statements", "measurements", "taken_at"}``; None: there is no earlier ECG of this patient."""
    if previous is None:
        return "No earlier ECG of this patient to compare with."
    changes = compare_serial(previous["statements"], current["statements"], previous.get("measurements"),
                             current.get("measurements"))  # fmt: skip
    head = f"Compared with the ECG of {format_time(previous.get('taken_at'), zone)}"
    parts = []
    if changes.new_statements:
        parts.append("new: " + ", ".join(s["name"] for s in changes.new_statements))
    if changes.resolved_statements:
        parts.append("no longer present: " + ", ".join(s["name"] for s in changes.resolved_statements))
    notable = [c for c in changes.measurement_changes if c.notable and c.change is not None]
    if notable:
        parts.append("; ".join(f"{c.label} {c.change:+.0f} {c.unit}" for c in notable))
    return f"{head}: " + ("; ".join(parts) if parts else "no significant change") + "."


def speed_gain_filter(filter_label: str | None, gain_mm_per_mv: float) -> str:
    """"0.5-150 Hz, 25 mm/s, 10 mm/mV" (the filter only when the tracing was filtered)."""
    parts = [filter_label] if filter_label else []
    return ", ".join([*parts, "25 mm/s", f"{gain_mm_per_mv:g} mm/mV"])
