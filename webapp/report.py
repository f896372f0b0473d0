"""The PDF report of one diagnosis, built with reportlab (platypus); pure: data in, PDF bytes out.

Contents: the patient data as entered at upload (age, sex, height, weight; never the patient
reference or its hash), the tracing (the matplotlib rendering as a print-resolution PNG), the
headline verdict, critical findings with their rules, statements with probabilities and
provenance, measurements, signal quality, model version, times, and the decision-support notice.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from interpretation.critical import critical_findings
from interpretation.verdict import headline_verdict
from storage import DiagnosisView
from webapp.tracing import PAPER_HEIGHT_MM, PAPER_WIDTH_MM

__all__ = ["NOTICE", "MEASUREMENT_ROWS", "build_report"]

NOTICE = (
    "Research software for decision support, not a medical device. The statements are produced by "
    "automated measurements and a machine-learning model and may be wrong. They must be reviewed by a "
    "qualified clinician and must not be used on their own for diagnosis or treatment."
)
MEASUREMENT_ROWS: tuple[tuple[str, str, str], ...] = (
    ("heart_rate_bpm", "Heart rate (ventricular)", "bpm"), ("atrial_rate_bpm", "Atrial rate", "bpm"),
    ("pr_ms", "PR", "ms"), ("qrs_ms", "QRS", "ms"),
    ("qt_ms", "QT", "ms"), ("qtc_bazett_ms", "QTc (Bazett)", "ms"), ("qtc_fridericia_ms", "QTc (Fridericia)", "ms"),
    ("p_axis_deg", "P axis", "deg"), ("qrs_axis_deg", "QRS axis", "deg"), ("t_axis_deg", "T axis", "deg"),
)  # fmt: skip
_PROVENANCE = {"measurement": "measurements", "model": "model", "both": "measurements + model"}
_SEX = {"F": "female", "M": "male"}


def _text(value: object) -> str:
    return escape(str(value))


def _or_dash(value: object, unit: str = "", number_format: str = ".0f") -> str:
    if value is None:
        return "-"
    number = format(value, number_format) if isinstance(value, float) else str(value)
    return f"{number} {unit}".strip()


_CELL = ParagraphStyle("cell", fontName="Helvetica", fontSize=8, leading=9.5)


def _table(rows: list[list[str]], widths: list[float], header: bool = True) -> Table:
    """A grid table; body cells are paragraphs, so long text (evidence) wraps inside its column."""
    first_body = 1 if header else 0
    cells: list[list[Any]] = [
        row if i < first_body else [Paragraph(_text(cell), _CELL) for cell in row] for i, row in enumerate(rows)
    ]
    table = Table(cells, colWidths=widths, hAlign="LEFT")
    style = [("FONTSIZE", (0, 0), (-1, -1), 8), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
             ("VALIGN", (0, 0), (-1, -1), "TOP")]  # fmt: skip
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")), ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold")]
    table.setStyle(TableStyle(style))
    return table


def _statement_rows(view: DiagnosisView) -> list[list[str]]:
    rows = [["AHA code", "Statement", "Decided by", "Model probability", "Evidence"]]
    for s in view.statements:
        probability = s.get("probability")
        rows.append([
            str(s["code"]) + (f" (of {s['modifies']})" if s.get("modifies") else ""),
            ("Possible: " if s.get("certainty") == "possible" else "") + str(s.get("description", "")),
            _PROVENANCE.get(str(s.get("provenance") or "model"), str(s.get("provenance"))),
            "-" if probability is None else f"{float(probability):.2f}",
            str(s.get("evidence") or ""),
        ])  # fmt: skip
    return rows


def _quality_line(quality: Mapping[str, Any] | None) -> str:
    if not quality:
        return "not assessed"
    marked = [f"{q['lead']} {q['verdict']}" for q in quality.get("leads") or [] if q.get("verdict") != "good"]
    problems = ", ".join(str(p).replace("_", " ") for p in quality.get("problems") or [])
    return "; ".join(part for part in (str(quality.get("verdict")), problems, ", ".join(marked)) if part)


def build_report(view: DiagnosisView, tracing_png: bytes, *, generated_at: datetime | None = None) -> bytes:
    """The report of ``view`` with the tracing image ``tracing_png`` (PNG, landscape A4, 1-2 pages)."""
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=8, leading=10)
    alert = ParagraphStyle("alert", parent=styles["Normal"], textColor=colors.HexColor("#991b1b"), fontSize=10)
    verdict = headline_verdict(
        view.statements, readable=view.readable, unreadable_reasons=view.unreadable_reasons or (), quality=view.quality
    )
    findings = critical_findings(view.statements, view.measurements)
    generated = generated_at or datetime.now(UTC)
    page_width = landscape(A4)[0] - 20 * mm
    patient = (
        f"Age {_or_dash(view.age, 'years')} | Sex {_SEX.get(view.sex or '', '-')} | "
        f"Height {_or_dash(view.height_cm, 'cm', 'g')} | Weight {_or_dash(view.weight_kg, 'kg', 'g')}"
    )
    story: list[Any] = [
        Paragraph("12-lead ECG report", styles["Title"]),
        Paragraph(f"<b>Patient (as entered):</b> {_text(patient)}", styles["Normal"]),
        Paragraph(f"<b>Verdict:</b> {_text(verdict.text)}", styles["Heading2"]),
    ]
    for f in findings:
        story.append(Paragraph(f"<b>CRITICAL: {_text(f.title)}</b> ({_text(f.evidence)}; rule: {_text(f.rule)})", alert))
    image = Image(io.BytesIO(tracing_png), width=PAPER_WIDTH_MM * mm, height=PAPER_HEIGHT_MM * mm)  # true scale
    story += [Spacer(1, 2 * mm), image, Paragraph("25 mm/s, 10 mm/mV when printed at 100 %", small)]
    story += [Spacer(1, 3 * mm), Paragraph("Statements", styles["Heading3"])]
    if view.statements:
        story.append(_table(_statement_rows(view), [30 * mm, 75 * mm, 40 * mm, 30 * mm, page_width - 175 * mm]))
    else:
        story.append(Paragraph("No statement was made.", styles["Normal"]))
    m = view.measurements or {}
    rows = [[label, _or_dash(m.get(key), unit)] for key, label, unit in MEASUREMENT_ROWS]
    story += [Paragraph("Measurements", styles["Heading3"]), _table(rows, [40 * mm, 30 * mm], header=False)]
    facts = [
        ["Signal quality", _quality_line(view.quality)],
        ["Model version", view.model_version],
        ["Recording", f"{view.duration_s:.1f} s at {view.sampling_rate_hz:.0f} Hz, id {view.recording_id}"],
        ["Received", view.received_at.isoformat(timespec="seconds")],
        ["Diagnosed", view.diagnosed_at.isoformat(timespec="seconds")],
        ["Report generated", generated.isoformat(timespec="seconds")],
    ]
    story += [Paragraph("Quality and provenance", styles["Heading3"]), _table(facts, [40 * mm, page_width - 40 * mm], header=False)]
    story += [Spacer(1, 3 * mm), Paragraph(f"<b>Decision support only.</b> {_text(NOTICE)}", small)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                            topMargin=10 * mm, bottomMargin=10 * mm, title="12-lead ECG report",
                            author="ecgstream", invariant=1)  # fmt: skip
    doc.build(story)
    return out.getvalue()
