"""The tracing and the report mark the beats the worker stored, and measure the kept samples only
for rows stored without them (before revision 0009_summary).

A real CinC 2021 record: the worker's analysis of the samples it decodes (``stream_processor``'s
assessment), the diagnosis written by the real SQL sink and the samples kept by the gateway's own
``store_tracing``, read back from a SQLite file. ``measure`` is handed to the renderers as a counting
wrapper around the real ``measurements.measure`` (the renderers take it as a parameter, so no
monkeypatch is needed): a render with stored beats must not call it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from defusedxml import ElementTree

from measurements.measure import measure
from schemas import decode_recording, encode_recording
from storage import DiagnosisView, SqlDiagnosisSink, create_engine, get_diagnosis, upgrade
from storage.tracings import StoredTracing, load_tracing, store_tracing
from stream_processor.analysis import beat_positions, event_measurements, event_quality
from stream_processor.assessment import AssessmentInput, assess
from tests.storage.conftest import SECRET, make_result
from tests.webapp.conftest import cinc_recording
from webapp.rendering import report_pdf, tracing_inputs, tracing_svg
from webapp.report import ReportContext

SVG = "{http://www.w3.org/2000/svg}"


class CountingMeasure:
    """``measurements.measure.measure``, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, signal: np.ndarray, fs: float) -> Any:
        self.calls += 1
        return measure(signal, fs)


@pytest.fixture
async def stored(tmp_path: Path) -> AsyncIterator[tuple[StoredTracing, DiagnosisView]]:
    """A real record as the worker diagnoses it (beats stored) and as the gateway keeps its samples."""
    rec = cinc_recording()
    encoded = encode_recording(rec)
    decoded = decode_recording(encoded.value, encoded.headers)  # what the worker measures
    (assessed,) = assess([AssessmentInput(decoded.signal, float(decoded.fs), decoded.sex, decoded.age)])
    assert assessed.measurements is not None, "a clean real record is measured"
    url = f"sqlite+aiosqlite:///{tmp_path / 'ecgstream.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        result = make_result(
            recording_id=rec.recording_id, measurements=event_measurements(assessed.measurements).as_record(),
            quality=event_quality(assessed.quality).as_record(), beats=beat_positions(assessed.measurements).as_record(),
        )  # fmt: skip
        await SqlDiagnosisSink(engine, hmac_secret=SECRET).write_batch([result])
        await store_tracing(engine, rec.recording_id, rec.signal, rec.fs, tuple(rec.leads))  # as at upload
        tracing, view = (
            await load_tracing(engine, rec.recording_id),
            await get_diagnosis(engine, rec.recording_id),
        )
    finally:
        await engine.dispose()
    assert tracing is not None and view is not None and view.beats is not None
    yield tracing, view


def _without_ids(svg: bytes) -> bytes:
    """``svg`` without matplotlib's random clip-path, marker and hatch ids (new on every render)."""
    return re.sub(rb"\b([pmh])[0-9a-f]{10}\b", rb"\1", svg)


def _beat_markers(svg: bytes) -> int:
    groups = {g.get("id"): g for g in ElementTree.fromstring(svg).iter(f"{SVG}g") if g.get("id")}
    return len(list(groups["beats"].iter(f"{SVG}use"))) + len(
        list(groups["premature-beats"].iter(f"{SVG}use"))
    )


def test_stored_beats_are_marked_without_measuring(stored: tuple[StoredTracing, DiagnosisView]) -> None:
    tracing, view = stored
    counting = CountingMeasure()
    options = tracing_inputs(tracing, view, counting)
    assert counting.calls == 0
    assert view.beats is not None
    assert list(options["beats"].r_peaks) == view.beats["r_peaks"]
    assert list(options["beats"].classes) == view.beats["classes"]

    svg = tracing_svg(tracing, view, counting)
    pdf = report_pdf(tracing, view, ReportContext(), counting)
    assert counting.calls == 0, "neither the tracing nor the report measured the samples again"
    in_strip = [p for p in view.beats["r_peaks"] if p / tracing.fs <= 10.0]
    assert _beat_markers(svg) == len(in_strip) >= 5 and pdf.startswith(b"%PDF")


def test_a_row_without_stored_beats_is_measured_as_before_with_the_same_marks(
    stored: tuple[StoredTracing, DiagnosisView],
) -> None:
    """NULL (a row from before the revision): the kept samples are measured once per render; on this
    real record that finds the very beats the worker stored, so the drawing is the same."""
    tracing, view = stored
    older = dataclasses.replace(view, verdict=None, critical_findings=None, beats=None)
    counting = CountingMeasure()
    measured = tracing_inputs(tracing, older, counting)
    assert counting.calls == 1
    assert measured == tracing_inputs(tracing, view, counting) and counting.calls == 1
    assert _without_ids(tracing_svg(tracing, older, counting)) == _without_ids(
        tracing_svg(tracing, view, counting)
    )
    assert counting.calls == 2, "only the render of the older row measured"


def test_beats_at_another_rate_or_without_measurements_are_not_drawn_from_the_store(
    stored: tuple[StoredTracing, DiagnosisView],
) -> None:
    tracing, view = stored
    assert view.beats is not None
    counting = CountingMeasure()
    other_rate = dataclasses.replace(view, beats={**view.beats, "fs": 250.0})
    assert tracing_inputs(tracing, other_rate, counting)["beats"] is not None and counting.calls == 1
    unmeasured = dataclasses.replace(view, measurements=None)
    assert tracing_inputs(tracing, unmeasured, counting)["beats"] is None and counting.calls == 1
    assert tracing_inputs(tracing, None, counting) == {"beats": None, "unreadable_leads": set()}
