"""The tracing renderer and the PDF report as pure functions, on a real CinC 2021 recording."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from defusedxml import ElementTree

from storage import DiagnosisView
from tests.webapp.conftest import cinc_recording
from webapp.report import NOTICE, build_report
from webapp.tracing import BeatMarks, render_tracing_png, render_tracing_svg

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


def test_pdf_report_has_the_expected_fields_and_no_patient_reference() -> None:
    from pypdf import PdfReader

    rec = cinc_recording()
    png = render_tracing_png(rec.signal, rec.fs, rec.leads, dpi=100)
    pdf = build_report(_view(), png, generated_at=datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join((page.extract_text() or "") for page in reader.pages)
    flat = " ".join(text.split())
    for expected in (
        "Age 61 years", "Sex female", "Height 164.5 cm", "Weight 70 kg",
        "Verdict: Abnormal ECG: 1 statement, most important: Atrial fibrillation",
        "CRITICAL: Atrial fibrillation with rapid ventricular response", "CRITICAL: Severe tachycardia",
        "Atrial fibrillation", "0.91", "measurements + model", "346 (of 50)",
        "Heart rate", "156 bpm", "QTc (Fridericia)", "455 ms", "QRS axis", "45 deg",
        "V3 unreadable", "cae-9.9.9", "2026-11-25T12:00:01+00:00", "2026-11-25T13:00:00+00:00",
        "Decision support only", " ".join(NOTICE.split()[:6]),
    ):  # fmt: skip
        assert expected in flat, expected
    assert "PATIENTHASH" not in flat and "cart-1" not in flat
    images = [img for page in reader.pages for img in page.images]
    assert images, "the tracing is embedded as an image"
