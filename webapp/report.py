"""The PDF report of one diagnosis, fit for a chart; built with reportlab (platypus). Pure: data in,
PDF bytes out (``webapp.clinic`` gathers the data).

Page 1, as a cart prints it (landscape A4):

- top line: "12-lead ECG" and the confirmation: "Unconfirmed" or "Confirmed by <name> at <time>"
  (or "Rejected by ...");
- left: the patient's name and identifier as entered at upload (``storage.identity``), age, sex,
  height, weight, the acquisition time in the site's time zone (``SITE_TIMEZONE``);
- middle: the measurement block (vent. rate, atrial rate, PR, QRS, QT/QTc, P-R-T axes);
- right: the interpretation in words (the confirmed statements and free text once a physician
  confirmed, else the computer's, "Possible ..." where uncertain), critical findings, and the
  comparison with the patient's previous ECG;
- the 12-lead tracing at true scale, with the filter, speed and gain beneath it.

Page 2: the computer's statements with their provenance and measurement evidence, every
measurement, the comparison table, the overread audit trail, signal quality, model version, times
and the decision-support notice. Text uses DejaVu Sans (shipped with matplotlib) so any name prints.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    Image,
    KeepInFrame,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from interpretation.serial import compare_serial
from interpretation.summary import ClinicalSummary, clinical_summary, stored_summary
from storage import DiagnosisView
from storage.overreads import OverreadRecord
from webapp.report_text import (
    comparison_line,
    confirmation_line,
    format_time,
    interpretation_lines,
    measurement_block,
    speed_gain_filter,
)
from webapp.tracing import GAIN_MM_PER_MV, PAPER_WIDTH_MM

__all__ = ["NOTICE", "MEASUREMENT_ROWS", "ReportContext", "build_report"]

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
_MARGIN = 8 * mm
_PAGE_W, _PAGE_H = landscape(A4)
_ALERT = colors.HexColor("#991b1b")


@dataclass(frozen=True)
class ReportContext:
    """Everything beside the diagnosis: the printed tracing, the site's zone, the patient as entered,
    the physician's overreads and the previous ECG."""

    gain_mm_per_mv: float = GAIN_MM_PER_MV
    filter_label: str | None = None
    zone: tzinfo = UTC
    patient_name: str | None = field(default=None, repr=False)
    patient_ref: str | None = field(default=None, repr=False)
    identity_note: str | None = None  # why the name is missing ("not available: ...")
    overreads: Sequence[OverreadRecord] = ()  # the audit trail, oldest first
    previous: DiagnosisView | None = None


@cache
def _fonts() -> tuple[str, str]:
    """DejaVu Sans (regular, bold) from matplotlib's data, else Helvetica."""
    from matplotlib import get_data_path
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(get_data_path()) / "fonts" / "ttf"
    try:
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
    except Exception:  # noqa: BLE001 - a missing font file: the standard font still prints Latin text
        return "Helvetica", "Helvetica-Bold"
    return "DejaVuSans", "DejaVuSans-Bold"


@cache
def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=8, leading=10)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=8.5),
        "bold": ParagraphStyle("bold", parent=base, fontName=bold),
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=13, leading=15),
        "status": ParagraphStyle("status", parent=base, fontName=bold, fontSize=11, leading=13, alignment=2),
        "heading": ParagraphStyle(
            "heading", parent=base, fontName=bold, fontSize=10, leading=13, spaceBefore=4
        ),
        "alert": ParagraphStyle("alert", parent=base, fontName=bold, textColor=_ALERT),
    }


def _p(text: str, style: str = "base") -> Paragraph:
    return Paragraph(escape(text), _styles()[style])


def _or_dash(value: object, unit: str = "", number_format: str = ".0f") -> str:
    if value is None:
        return "-"
    number = format(value, number_format) if isinstance(value, float) else str(value)
    return f"{number} {unit}".strip()


def _table(rows: list[list[str]], widths: list[float], header: bool = True) -> Table:
    """A grid table of paragraphs (long text wraps inside its column); the first row bold."""
    cells = [
        [_p(cell, "bold" if header and i == 0 else "base") for cell in row] for i, row in enumerate(rows)
    ]
    table = Table(cells, colWidths=widths, hAlign="LEFT")
    style = [("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")))
    table.setStyle(TableStyle(style))
    return table


def _interpreted(view: DiagnosisView, latest: OverreadRecord | None) -> list[Mapping[str, Any]]:
    """The statements the chart carries: the confirmed ones once a physician confirmed (decided by the
    physician: critical rules that need a measured statement take them), else the computer's."""
    if latest is not None and latest.confirms:
        return [{**s, "provenance": "physician"} for s in latest.statements]
    return list(view.statements)


def _summary(
    view: DiagnosisView, statements: Sequence[Mapping[str, Any]], *, confirmed: bool
) -> ClinicalSummary:
    """The verdict and critical findings the chart prints: of the physician's statements once
    confirmed, else the computer's as the worker stored them."""
    if not confirmed:
        return stored_summary(view)
    return clinical_summary(statements, view.measurements, readable=view.readable,
                            unreadable_reasons=view.unreadable_reasons or (), quality=view.quality)  # fmt: skip


def _patient_cell(view: DiagnosisView, ctx: ReportContext) -> list[Any]:
    missing = ctx.identity_note or "not entered"
    body = f"Age {_or_dash(view.age, 'years')} | Sex {_SEX.get(view.sex or '', '-')} | " \
           f"Height {_or_dash(view.height_cm, 'cm', 'g')} | Weight {_or_dash(view.weight_kg, 'kg', 'g')}"  # fmt: skip
    acquired = format_time(view.acquired_at, ctx.zone) if view.acquired_at else "not given by the device"
    return [
        _p(f"Name: {ctx.patient_name or missing}", "bold"),
        _p(f"Patient ID: {ctx.patient_ref or missing}", "bold"),
        _p(body),
        _p(f"Acquired: {acquired}"),
        _p(f"Received: {format_time(view.received_at, ctx.zone)}"),
        _p(f"Recording: {view.duration_s:.1f} s at {view.sampling_rate_hz:.0f} Hz"),
    ]


def _measurement_cell(view: DiagnosisView) -> Table:
    rows = [[_p(label), _p(value, "bold")] for label, value in measurement_block(view.measurements)]
    table = Table(rows, colWidths=[24 * mm, 34 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 1),
                               ("TOPPADDING", (0, 0), (-1, -1), 0.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5)]))  # fmt: skip
    return table


def _interpretation_cell(view: DiagnosisView, ctx: ReportContext) -> list[Any]:
    latest = ctx.overreads[-1] if ctx.overreads else None
    statements = _interpreted(view, latest)
    cell: list[Any] = []
    if latest is not None and not latest.confirms:
        cell.append(_p(f"Computer interpretation rejected: {latest.reason or 'no reason given'}", "alert"))
    else:
        summary = _summary(view, statements, confirmed=latest is not None)
        cell.append(_p(summary.verdict.text, "bold"))
        cell += [_p(line) for line in interpretation_lines(statements) if view.readable]
        for finding in summary.critical_findings:
            cell.append(_p(f"CRITICAL: {finding.title} ({finding.evidence})", "alert"))
    if latest is not None and latest.free_text:
        cell.append(_p(f"Comment: {latest.free_text}"))
    previous = None if ctx.previous is None else {
        "statements": ctx.previous.statements, "measurements": ctx.previous.measurements,
        "taken_at": ctx.previous.acquired_at or ctx.previous.ingested_at or ctx.previous.received_at}  # fmt: skip
    current = {"statements": statements, "measurements": view.measurements}  # what this chart says
    cell.append(_p(comparison_line(previous, current, ctx.zone), "small"))
    return cell


def _first_page(view: DiagnosisView, png: bytes, ctx: ReportContext) -> list[Any]:
    latest = ctx.overreads[-1] if ctx.overreads else None
    status = confirmation_line(None if latest is None else latest.action, None if latest is None else latest.reader_name,
                               None if latest is None else latest.at, ctx.zone)  # fmt: skip
    frame_w = _PAGE_W - 2 * _MARGIN
    top = Table(
        [[_p("12-lead ECG", "title"), _p(status, "status")]], colWidths=[frame_w * 0.4, frame_w * 0.6]
    )
    width_px, height_px = ImageReader(io.BytesIO(png)).getSize()
    tracing_w = PAPER_WIDTH_MM * mm
    tracing_h = tracing_w * height_px / width_px  # true scale: the PNG is the paper's width
    header_h = _PAGE_H - 2 * _MARGIN - 9 * mm - tracing_h - 8 * mm
    columns = [88 * mm, 62 * mm, frame_w - 150 * mm]
    header = Table([[_patient_cell(view, ctx), _measurement_cell(view), _interpretation_cell(view, ctx)]],
                   colWidths=columns, hAlign="LEFT")  # fmt: skip
    header.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey)])
    )
    footer = f"{speed_gain_filter(ctx.filter_label, ctx.gain_mm_per_mv)} (true scale when printed at 100 %). " \
             f"Recording {view.recording_id}. Decision support only: see page 2."  # fmt: skip
    return [
        top,
        KeepInFrame(frame_w, max(header_h, 20 * mm), [header], mode="shrink"),
        Spacer(1, 1 * mm),
        Image(io.BytesIO(png), width=tracing_w, height=tracing_h),
        _p(footer, "small"),
    ]


def _statement_rows(view: DiagnosisView) -> list[list[str]]:
    rows = [["AHA code", "Statement", "Decided by", "Model probability", "Measurement evidence"]]
    for s in view.statements:
        probability = s.get("probability")
        evidence = "; ".join(
            part for part in str(s.get("evidence") or "").split("; ") if part and not part.startswith("model")
        )
        rows.append([
            str(s["code"]) + (f" (of {s['modifies']})" if s.get("modifies") else ""),
            ("Possible: " if s.get("certainty") == "possible" else "") + str(s.get("description", "")),
            _PROVENANCE.get(str(s.get("provenance") or "model"), str(s.get("provenance"))),
            "-" if probability is None else f"{float(probability):.2f}",
            evidence or "-",
        ])  # fmt: skip
    return rows


def _quality_line(quality: Mapping[str, Any] | None) -> str:
    if not quality:
        return "not assessed"
    marked = [f"{q['lead']} {q['verdict']}" for q in quality.get("leads") or [] if q.get("verdict") != "good"]
    problems = ", ".join(str(p).replace("_", " ") for p in quality.get("problems") or [])
    return "; ".join(part for part in (str(quality.get("verdict")), problems, ", ".join(marked)) if part)


def _trail_rows(overreads: Sequence[OverreadRecord], zone: tzinfo) -> list[list[str]]:
    rows = [["Version", "Action", "By", "At", "Statements", "Free text / reason"]]
    for r in overreads:
        codes = "; ".join(f"{s['code']} {s.get('description', '')}" for s in r.statements) or "-"
        note = " / ".join(part for part in (r.free_text, r.reason) if part) or "-"
        rows.append([str(r.version), r.action, r.reader_name, format_time(r.at, zone), codes, note])
    return rows


def _details(view: DiagnosisView, ctx: ReportContext, generated: datetime) -> list[Any]:
    width = _PAGE_W - 2 * _MARGIN
    story: list[Any] = [PageBreak(), _p("Computer analysis (as produced, before any overread)", "heading")]
    if view.statements:
        story.append(_table(_statement_rows(view), [24 * mm, 80 * mm, 36 * mm, 28 * mm, width - 168 * mm]))
    else:
        story.append(_p("No statement was made."))
    m = view.measurements or {}
    rows = [[label, _or_dash(m.get(key), unit)] for key, label, unit in MEASUREMENT_ROWS]
    story += [_p("Measurements", "heading"), _table(rows, [40 * mm, 30 * mm], header=False)]
    if ctx.previous is not None:
        changes = compare_serial(
            ctx.previous.statements, view.statements, ctx.previous.measurements, view.measurements
        )
        rows = [["Measurement", "Earlier", "Now", "Change"]] + [
            [c.label, _or_dash(c.previous, c.unit), _or_dash(c.current, c.unit),
             "-" if c.change is None else f"{c.change:+.0f} {c.unit}" + (" (notable)" if c.notable else "")]
            for c in changes.measurement_changes
        ]  # fmt: skip
        story += [
            _p("Compared with the previous ECG", "heading"),
            _table(rows, [40 * mm, 30 * mm, 30 * mm, 40 * mm]),
        ]
    story.append(_p("Physician overread (audit trail)", "heading"))
    if ctx.overreads:
        story.append(_table(_trail_rows(ctx.overreads, ctx.zone),
                            [18 * mm, 18 * mm, 30 * mm, 50 * mm, 90 * mm, width - 206 * mm]))  # fmt: skip
    else:
        story.append(_p("Not read by a physician yet: unconfirmed."))
    facts = [
        ["Signal quality", _quality_line(view.quality)],
        ["Model version", view.model_version],
        ["Recording id", view.recording_id],
        ["Received", format_time(view.received_at, ctx.zone)],
        ["Diagnosed", format_time(view.diagnosed_at, ctx.zone)],
        ["Report generated", format_time(generated, ctx.zone)],
    ]
    story += [
        _p("Quality and provenance", "heading"),
        _table(facts, [40 * mm, width - 40 * mm], header=False),
    ]
    story += [Spacer(1, 3 * mm), _p(f"Decision support only. {NOTICE}", "small")]
    return story


def build_report(
    view: DiagnosisView,
    tracing_png: bytes,
    *,
    context: ReportContext | None = None,
    generated_at: datetime | None = None,
) -> bytes:
    """The report of ``view`` with the tracing image ``tracing_png`` (a PNG whose width is the paper's
    ``PAPER_WIDTH_MM``; its height follows), landscape A4, page 1 as a cart prints it."""
    ctx = context or ReportContext()
    generated = generated_at or datetime.now(UTC)
    story = _first_page(view, tracing_png, ctx) + _details(view, ctx, generated)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=_MARGIN, rightMargin=_MARGIN,
                            topMargin=_MARGIN, bottomMargin=_MARGIN, title="12-lead ECG report",
                            author="ecgstream", invariant=1)  # fmt: skip
    doc.build(story)
    return out.getvalue()
