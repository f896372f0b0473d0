"""The walking skeleton, end to end: real Tansu broker, real Postgres, a real worker process.

Recordings (synthetic SPH-layout files and the real CinC 2021 WFDB records converted to the SPH
layout) are published over the Kafka protocol; the test asserts one diagnosis row and one diagnosis
event per recording, with the right ids, and that the worker's Prometheus counters moved.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ecgstream.results_watch import collect_diagnoses
from ecgstream.stack import LocalStack
from ingest import read_recording
from ingest.synthetic import write_sph_dataset
from ingest.writers.sph import write_sph_folder
from tests.conftest import shared_data_dir
from tests.e2e.helpers import db_counts, isolated_settings, metric_value, publish_all, scrape

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
