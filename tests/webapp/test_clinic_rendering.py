"""The tracing renderer and the PDF report as pure functions, on a real CinC 2021 recording."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from defusedxml import ElementTree

from storage import DiagnosisView
from storage.overreads import OverreadRecord
from tests.webapp.conftest import cinc_recording
from webapp.report import NOTICE, ReportContext, build_report
from webapp.tracing import (
    LAYOUT,
    PAPER_HEIGHT_MM,
    BeatMarks,
    display_band,
    render_tracing_png,
    render_tracing_svg,
    tracing_layout,
)

SVG = "{http://www.w3.org/2000/svg}"


def _groups(svg: bytes) -> dict[str, object]:
    root = ElementTree.fromstring(svg)
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("id")}


def test_svg_has_13_traces_grid_calibration_beats_and_marks_unreadable_leads() -> None:
    rec = cinc_recording()
    peaks = [int(rec.fs * s) for s in (0.5, 1.3, 2.0, 2.9)]
    svg = render_tracing_svg(rec.signal, rec.fs, rec.leads, beats=BeatMarks(peaks, ("N", "N", "V", "N")),
                             unreadable_leads={"V3"})  # fmt: skip
    groups = _groups(svg)
    traces = sorted(name for name in groups if name.startswith("trace-"))
    assert len(traces) == 13 and "trace-II-rhythm" in traces and "trace-aVR" in traces
    for name in traces:
        assert groups[name].find(f"{SVG}path") is not None, name  # each trace is a drawn path
    assert {"grid-minor", "grid-major", "beats", "premature-beats", "unreadable-V3"} <= set(groups)
    assert {f"calibration-{row}" for row in range(4)} <= set(groups)
    texts = [t.text for t in ElementTree.fromstring(svg).iter(f"{SVG}text")]
    assert "V3 (unreadable)" in texts and "V" in texts and "25 mm/s   10 mm/mV" in texts
    assert "unreadable-V1" not in groups


def test_calibration_pulse_is_one_mv_high_and_200_ms_wide() -> None:
    """On paper: 10 mm high, 5 mm wide (the figure is sized in millimetres, 1 data unit = 1 mm)."""
    from webapp import tracing

    rec = cinc_recording()
    fig = tracing._figure(rec.signal, rec.fs, rec.leads, None, ())
    (line,) = [a for a in fig.axes[0].lines if a.get_gid() == "calibration-0"]
    xs, ys = line.get_xdata(), line.get_ydata()
    assert max(ys) - min(ys) == pytest.approx(10.0) and xs[3] - xs[1] == pytest.approx(5.0)
    assert fig.get_figwidth() * 25.4 == pytest.approx(tracing.PAPER_WIDTH_MM)


def test_a_signal_that_does_not_match_its_leads_is_refused() -> None:
    rec = cinc_recording()
    with pytest.raises(ValueError, match="does not match"):
        render_tracing_svg(rec.signal[:11], rec.fs, rec.leads)


def _view(**overrides: object) -> DiagnosisView:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    values: dict[str, object] = dict(
        recording_id="rec-1", model_version="cae-9.9.9",
        statements=[{"code": 50, "description": "Atrial fibrillation", "probability": 0.91, "provenance": "both",
                     "evidence": "irregular RR, no P waves"},
                    {"code": 346, "description": "Rapid ventricular response", "probability": None,
                     "provenance": "measurement", "evidence": "HR 156 bpm", "modifies": 50}],
        probabilities={"50": 0.91}, received_at=now, diagnosed_at=now + timedelta(seconds=1),
        queue_wait_seconds=0.1, preprocess_seconds=0.01, inference_seconds=0.002,
        latency_from_acquisition_seconds=None, latency_from_ingest_seconds=0.3, device_id="cart-1",
        patient_ref_hash="PATIENTHASH", age=61, sex="F", height_cm=164.5, weight_kg=70.0, sampling_rate_hz=500.0,
        n_samples=5000, duration_s=10.0, acquired_at=None, ingested_at=now, signal_sha256="00", has_signal=False,
        measurements={"heart_rate_bpm": 156.0, "qrs_ms": 92.0, "qtc_fridericia_ms": 455.0, "qrs_axis_deg": 45.0},
        quality={"verdict": "acceptable", "problems": [], "leads": [{"lead": "V3", "verdict": "unreadable",
                                                                     "problems": ["lead_off"]}]},
    )  # fmt: skip
    values.update(overrides)
    return DiagnosisView(**values)  # type: ignore[arg-type]


def _pages(pdf: bytes) -> tuple[str, str]:
    """The text of page 1 and of the pages after it."""
    from pypdf import PdfReader

    assert pdf.startswith(b"%PDF-")
    pages = [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages]
    return pages[0], " ".join(pages[1:])


BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MEASURED = {"heart_rate_bpm": 156.0, "atrial_rate_bpm": None, "pr_ms": None, "qrs_ms": 92.0, "qt_ms": 300.0,
            "qtc_fridericia_ms": 455.0, "qtc_bazett_ms": 480.0, "p_axis_deg": None, "qrs_axis_deg": 45.0,
            "t_axis_deg": 60.0}  # fmt: skip


def _chart_pdf(**context: object) -> bytes:
    rec = cinc_recording()
    shown, band = display_band(rec.signal, rec.fs)
    png = render_tracing_png(shown, rec.fs, rec.leads, dpi=100, filter_label=band)
    previous = _view(recording_id="rec-0", statements=[{"code": 1, "description": "Normal ECG", "probability": 0.9}],
                     measurements={"heart_rate_bpm": 70.0, "qrs_ms": 90.0}, acquired_at=NOW - timedelta(days=30))  # fmt: skip
    values: dict[str, object] = dict(zone=BERLIN, filter_label=band, patient_name="Müller-Łukasiewicz, Anna",
                                     patient_ref="MRN-0042", previous=previous)  # fmt: skip
    values.update(context)
    view = _view(acquired_at=NOW - timedelta(minutes=5), measurements=MEASURED)
    return build_report(view, png, context=ReportContext(**values), generated_at=NOW + timedelta(hours=1))  # type: ignore[arg-type]


def test_unconfirmed_report_page_one_prints_what_a_cart_prints() -> None:
    first, details = _pages(_chart_pdf())
    for expected in (
        "12-lead ECG", "Unconfirmed", "Name: Müller-Łukasiewicz, Anna", "Patient ID: MRN-0042",
        "Age 61 years", "Sex female", "Height 164.5 cm", "Weight 70 kg",
        "Acquired: 2026-11-25 12:55:00 CET (Europe/Berlin)",  # 11:55 UTC in the site's zone
        "Vent. rate 156 bpm", "Atrial rate - bpm", "PR interval - ms", "QRS duration 92 ms", "QT/QTcF 300/455 ms",
        "P-R-T axes - 45 60 deg",
        "Abnormal ECG: 1 statement, most important: Atrial fibrillation",
        "Atrial fibrillation, rapid ventricular response",
        "CRITICAL: Atrial fibrillation with rapid ventricular response", "CRITICAL: Severe tachycardia",
        "Compared with the ECG of 2026-10-26 13:00:00 CET (Europe/Berlin): new: Atrial fibrillation",
        "no longer present: Normal ECG", "Heart rate +86 bpm",
        "0.5-150 Hz, 25 mm/s, 10 mm/mV",
    ):  # fmt: skip
        assert expected in first, expected
    assert "p=" not in first and "threshold" not in first and "0.91" not in first  # words, not model output
    for expected in (
        "0.91", "measurements + model", "346 (of 50)", "irregular RR, no P waves", "QTc (Fridericia)", "455 ms",
        "V3 unreadable", "cae-9.9.9", "Not read by a physician yet: unconfirmed", "Compared with the previous ECG",
        "Report generated 2026-11-25 14:00:00 CET (Europe/Berlin)", "Decision support only",
        " ".join(NOTICE.split()[:6]),
    ):  # fmt: skip
        assert expected in details, expected
    assert "PATIENTHASH" not in first + details and "cart-1" not in first + details


def test_confirmed_report_names_the_physician_and_prints_the_confirmed_interpretation() -> None:
    edit = OverreadRecord(
        7, "rec-1", 2, "cae-9.9.9", "edit",
        [{"code": 50, "description": "Atrial fibrillation", "modifies": None, "source": "physician"},
         {"code": 346, "description": "Rapid ventricular response", "modifies": 50, "source": "physician"},
         {"code": 147, "description": "T-wave abnormality", "modifies": None, "source": "physician"}],
        "Rate control advised.", "T waves", "user:drsmith", "drsmith", NOW + timedelta(hours=2), 1,
    )  # fmt: skip
    confirm = OverreadRecord(6, "rec-1", 1, "cae-9.9.9", "confirm", [], None, None, "user:drsmith", "drsmith", NOW)
    first, details = _pages(_chart_pdf(overreads=(confirm, edit)))
    assert "Confirmed by drsmith at 2026-11-25 15:00:00 CET (Europe/Berlin)" in first
    assert "Unconfirmed" not in first
    for expected in ("Abnormal ECG: 2 statements", "T-wave abnormality", "Comment: Rate control advised.",
                     "CRITICAL: Atrial fibrillation with rapid ventricular response"):  # fmt: skip
        assert expected in first, expected
    assert "1 confirm drsmith" in details and "2 edit drsmith" in details and "T waves" in details


def test_rejected_and_possible_statements_are_worded_for_a_chart() -> None:
    reject = OverreadRecord(1, "rec-1", 1, "cae-9.9.9", "reject", [], None, "lead reversal", "user:dr", "dr", NOW)
    (first, _) = _pages(_chart_pdf(overreads=(reject,), patient_name=None, patient_ref=None, previous=None))
    assert "Rejected by dr at 2026-11-25 13:00:00 CET" in first and "rejected: lead reversal" in first
    assert "Name: not entered" in first and "No earlier ECG of this patient" in first
    rec = cinc_recording()
    png = render_tracing_png(rec.signal, rec.fs, rec.leads, dpi=60)
    possible = _view(statements=[{"code": 142, "description": "Left ventricular hypertrophy", "probability": 0.4,
                                  "provenance": "model", "certainty": "possible",
                                  "evidence": "model p=0.40 >= threshold 0.30"},
                                 {"code": 88, "description": "AV block, complete (third-degree)", "probability": 0.4,
                                  "provenance": "model", "certainty": "possible"}])  # fmt: skip
    first, details = _pages(build_report(possible, png))
    assert "Possible left ventricular hypertrophy" in first and "Possible AV block, complete" in first
    assert "Unconfirmed" in first and "25 mm/s, 10 mm/mV" in first
    assert "p=0.40" not in first + details and "threshold" not in first + details


def test_report_page_one_renders_for_a_person_to_look_at(artifacts_dir: Path, tmp_path: Path) -> None:
    """Page 1 as PNG (poppler's pdftoppm) beside the PDF in the artifacts folder."""
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_chart_pdf())
    (artifacts_dir / "report-unconfirmed.pdf").write_bytes(pdf.read_bytes())
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-r", "110", "-f", "1", "-l", "1", "-png", "-singlefile", str(pdf),
                    str(artifacts_dir / "report-page1")], check=True, timeout=60)  # fmt: skip
    png = (artifacts_dir / "report-page1.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 50_000


def _synthetic(r_mv: float, s_mv: float) -> tuple[np.ndarray, float, tuple[str, ...]]:
    """12 leads of flat line with one tall R in V4 (top row) and one deep S in lead II (rhythm strip)."""
    rec = cinc_recording()
    signal = np.zeros((12, 5000), dtype=np.float32)
    leads = tuple(rec.leads)
    signal[leads.index("V4"), 4000:4010] = r_mv
    signal[leads.index("II"), 2000:2010] = -s_mv
    return signal, 500.0, leads


@pytest.mark.parametrize(("r_mv", "s_mv", "gain"), [(1.5, 1.5, 10.0), (2.4, 1.0, 10.0), (1.0, 2.2, 10.0), (2.4, 2.2, 5.0), (4.5, 3.0, 5.0)])
def test_tall_waves_are_never_clipped(r_mv: float, s_mv: float, gain: float) -> None:
    from webapp import tracing

    signal, fs, leads = _synthetic(r_mv, s_mv)
    layout = tracing_layout(signal, fs, leads)
    assert layout.gain_mm_per_mv == gain
    fig = tracing._figure(signal, fs, leads, None, ())
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert fig.get_figheight() * 25.4 == pytest.approx(layout.height_mm) == pytest.approx(high - low)
    for line in ax.lines:
        if str(line.get_gid()).startswith("trace-"):
            ys = np.asarray(line.get_ydata(), dtype=float)
            assert low <= ys.min() and ys.max() <= high, (line.get_gid(), ys.min(), ys.max(), low, high)
    peak = max(float(np.asarray(line.get_ydata(), dtype=float).max()) for line in ax.lines if line.get_gid() == "trace-V4")
    assert peak == pytest.approx(PAPER_HEIGHT_MM - 2.0 - 15.0 + r_mv * gain)  # drawn at its true height
    (pulse,) = [a for a in ax.lines if a.get_gid() == "calibration-0"]
    pulse_ys = np.asarray(pulse.get_ydata(), dtype=float)
    assert pulse_ys.max() - pulse_ys.min() == pytest.approx(gain)  # the pulse says the gain
    texts = [t.get_text() for t in ax.texts]
    assert f"25 mm/s   {gain:g} mm/mV" in texts


def test_lead_labels_sit_on_white_boxes_above_the_traces() -> None:
    from webapp import tracing

    rec = cinc_recording()
    fig = tracing._figure(rec.signal, rec.fs, rec.leads, None, {"V3"}, "0.5-150 Hz")
    ax = fig.axes[0]
    trace_z = max(line.get_zorder() for line in ax.lines if str(line.get_gid()).startswith("trace-"))
    labels = {t.get_text(): t for t in ax.texts}
    names = [lead for row in LAYOUT for lead in row] + ["II (rhythm)", "V3 (unreadable)"]
    for name in names:
        if name == "V3":
            continue
        text = labels[name]
        box = text.get_bbox_patch()
        assert box is not None and box.get_facecolor()[:3] == (1.0, 1.0, 1.0), name
        assert text.get_zorder() > trace_z, name
    assert "0.5-150 Hz   25 mm/s   10 mm/mV" in labels
