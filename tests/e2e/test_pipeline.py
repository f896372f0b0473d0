"""The walking skeleton, end to end: real Tansu broker, real Postgres, a real worker process.

Recordings (synthetic SPH-layout files and the real CinC 2021 WFDB records converted to the SPH
layout) are published over the Kafka protocol; the test asserts one diagnosis row and one diagnosis
event per recording, with the right ids, and that the worker's Prometheus counters moved. A second
test follows measurements, signal quality and statement provenance through the same path, and an
unreadable recording (real record, four electrodes off) to its event, its row and its metric.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from ecgstream.results_watch import collect_diagnoses
from ecgstream.stack import LocalStack
from ingest import read_recording
from ingest.synthetic import write_sph_dataset
from ingest.writers.sph import write_sph_folder
from interpretation.summary import clinical_summary
from model.predictor import Predictor
from schemas.recording import new_recording_id
from schemas.recording_event import decode_recording, encode_recording
from storage import create_engine, get_diagnosis
from storage.queries import DiagnosisView
from stream_processor.analysis import BatchAnalyser
from tests.conftest import shared_data_dir
from tests.e2e.helpers import db_counts, isolated_settings, metric_value, publish_all, scrape
from tests.stream_processor.records import cinc_recordings, leads_off_recording
from webapp.results import diagnosis_json

pytestmark = pytest.mark.integration


def _cinc_as_sph(folder: Path) -> Path:
    """Convert the real CinC 2021 WFDB records to the SPH layout, then read them back from there."""
    cinc = shared_data_dir("cinc2021")
    recordings = [read_recording(header) for header in sorted(cinc.glob("*.hea"))]
    return write_sph_folder(folder, [(recording, "") for recording in recordings])


def test_recordings_travel_the_whole_path(tansu, fresh_postgres_url, unique_name, tmp_path):
    sph_real = _cinc_as_sph(tmp_path / "cinc-sph")
    sph_synthetic = write_sph_dataset(tmp_path / "synthetic-sph", 4, seed=11)
    files = sorted((sph_real / "records").glob("*.h5")) + sorted((sph_synthetic / "records").glob("*.h5"))
    recordings = [read_recording(path) for path in files]
    ids = [recording.recording_id for recording in recordings]
    assert len(set(ids)) == len(ids) == 14

    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        asyncio.run(publish_all(stack.bootstrap, settings.recordings_topic, recordings))
        events = asyncio.run(collect_diagnoses(stack.bootstrap, settings.diagnoses_topic, ids, timeout=120))
        metrics = scrape(stack.workers[0].metrics_url)

    assert sorted(events) == sorted(ids), "every recording gets a diagnosis event with its own id"
    assert all(len(got) == 1 for got in events.values()), "exactly one event per recording"
    assert db_counts(fresh_postgres_url) == {recording_id: 1 for recording_id in ids}
    first = next(iter(events.values()))[0]
    assert first.model_version and len(first.probabilities) == 59
    assert metric_value(metrics, "ecgstream_records_processed_total") == len(ids)

    assert metric_value(metrics, "ecgstream_diagnoses_published_total") == len(ids)
    assert metric_value(metrics, "ecgstream_latency_from_ingest_seconds_count") == len(ids)
    assert metric_value(metrics, "ecgstream_model_info", f'version="{first.model_version}"') == 1.0


def _stored(database_url: str, ids: list[str]) -> dict[str, DiagnosisView]:
    async def read() -> dict[str, DiagnosisView]:
        engine = create_engine(database_url)
        try:
            views = {i: await get_diagnosis(engine, i) for i in ids}
        finally:
            await engine.dispose()
        return {i: v for i, v in views.items() if v is not None}

    return asyncio.run(read())


def test_measurements_quality_and_provenance_travel_the_whole_path(
    tansu, fresh_postgres_url, unique_name, tmp_path
):
    real = cinc_recordings()
    unreadable = leads_off_recording(real[0])
    # A real record with 3 flat leads: refused nowhere, the good leads read (issue 16).
    flat3 = dataclasses.replace(real[1], signal=real[1].signal.copy(), recording_id=new_recording_id())
    flat3.signal[[2, 8, 11]] = 0.0
    recordings = [*real, unreadable, flat3]
    ids = [r.recording_id for r in recordings]

    settings = isolated_settings(tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name)
    assert settings.measurements and settings.fusion, "on by default"
    with LocalStack(settings, workers=1) as stack:
        stack.wait_ready()
        asyncio.run(publish_all(stack.bootstrap, settings.recordings_topic, recordings))
        events = asyncio.run(collect_diagnoses(stack.bootstrap, settings.diagnoses_topic, ids, timeout=120))
        metrics = scrape(stack.workers[0].metrics_url)
    rows = _stored(fresh_postgres_url, ids)
    assert sorted(events) == sorted(ids) and sorted(rows) == sorted(ids)

    readable = [events[r.recording_id][0] for r in real if events[r.recording_id][0].readable]
    assert len(readable) >= 8, "clean real records are readable"
    for event in readable:
        row = rows[event.recording_id]
        assert event.measurements is not None and event.measurements.heart_rate_bpm is not None
        assert event.quality is not None and len(event.quality.leads) == 12
        assert row.readable and row.measurements == event.measurements.as_record()
        assert row.quality == event.quality.as_record()
        assert [s["provenance"] for s in row.statements] == [s.provenance for s in event.statements]
        assert [s["code"] for s in row.statements] == [s.code for s in event.statements]
    assert {s.provenance for e in readable for s in e.statements} & {"measurement", "both"}

    bad = events[unreadable.recording_id][0]
    assert bad.readable is False and bad.statements == [] and bad.probabilities == {}
    assert bad.unreadable_reasons and bad.quality is not None and bad.quality.verdict == "unreadable"
    row = rows[unreadable.recording_id]
    assert row.readable is False and row.unreadable_reasons == bad.unreadable_reasons and row.statements == []
    reason = bad.unreadable_reasons[0]
    assert metric_value(metrics, "ecgstream_unreadable_total", f'reason="{reason}"') == 1.0
    assert (
        metric_value(metrics, "ecgstream_heart_rate_bpm_count") == len(readable) + 1
    )  # + the 3-flat-lead record
    assert metric_value(metrics, "ecgstream_measurement_seconds_count") >= 1
    assert metric_value(metrics, "ecgstream_records_processed_total") == len(ids)

    flat_event = events[flat3.recording_id][0]
    assert flat_event.readable and flat_event.measurements is not None
    assert flat_event.measurements.excluded_leads == ["III", "V3", "V6"]
    # The same record gets the same answer on every path: the worker's event and row, `ecgstream
    # diagnose` (BatchAnalyser on the recording as the worker decoded it) and the page/API JSON.
    analyser = BatchAnalyser(Predictor.load(settings.model_path, torch_threads=1))
    for rec in [*real, flat3]:
        encoded = encode_recording(rec)
        local = analyser.run([decode_recording(encoded.value, encoded.headers)]).outcomes[0]
        event = events[rec.recording_id][0]
        assert [(s.code, s.certainty) for s in local.statements] == [
            (s.code, s.certainty) for s in event.statements
        ]
        page = diagnosis_json(rows[rec.recording_id])
        assert page["verdict_detail"] == event.verdict
        assert page["critical_findings"] == event.critical_findings
        # computed once by the worker: stored with the row, carried in the event, equal to a recomputation
        row = rows[rec.recording_id]
        assert (row.verdict, row.critical_findings) == (event.verdict, event.critical_findings)
        recomputed = clinical_summary(row.statements, row.measurements, readable=row.readable,
                                      unreadable_reasons=row.unreadable_reasons or (), quality=row.quality)  # fmt: skip
        assert recomputed.as_json() == {"verdict": row.verdict, "critical_findings": row.critical_findings}
        assert row.beats is not None and row.measurements is not None and row.beats["fs"] == float(rec.fs)
        assert {c: row.beats["classes"].count(c) for c in "NSVQ"} == row.measurements["beats"]
    assert bad.verdict is not None and bad.verdict["kind"] == "unreadable"
    assert (
        rows[unreadable.recording_id].verdict == bad.verdict and rows[unreadable.recording_id].beats is None
    )
