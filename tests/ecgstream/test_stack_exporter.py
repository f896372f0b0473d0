"""``LocalStack`` runs ``ecgstream export`` as a supervised child process, like its workers: a real Tansu
broker, a fresh Postgres, the real exporter OS process and a real local FHIR server. Diagnosis events are
published straight to the diagnoses topic (no worker: the model is not what is tested here). The exporter
delivers the first; SIGKILLed, it is restarted by ``supervise()`` and delivers the next; ``stop()`` ends it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from datetime import UTC, datetime

import pytest

from core.config import Settings
from ecgstream.stack import LocalStack, export_destinations
from ingest.publisher import Publisher
from schemas import DiagnosisEvent, Statement, encode_diagnosis
from tests.e2e.helpers import isolated_settings
from tests.stream_processor.export_servers import FhirTestServer


def test_export_destinations_name_the_receivers_without_url_path_or_credentials() -> None:
    assert export_destinations(Settings()) == []
    settings = Settings(fhir_base_url="https://user:secret@fhir.example.org:8443/r4?token=x", hl7_mllp_host="ehr-engine")
    assert export_destinations(settings) == ["FHIR server https://fhir.example.org:8443", "HL7 receiver ehr-engine:2575 (MLLP)"]
    assert export_destinations(Settings(hl7_mllp_host="10.0.0.9", hl7_mllp_port=6661)) == [
        "HL7 receiver 10.0.0.9:6661 (MLLP)"
    ]


async def _publish(settings: Settings, bootstrap: str, recording_id: str) -> None:
    event = DiagnosisEvent(recording_id, "cae-test", [Statement(21, "Sinus tachycardia", 0.9)], {"21": 0.9},
                           acquired_at=datetime.now(UTC), diagnosed_at=datetime.now(UTC))  # fmt: skip
    async with Publisher(bootstrap, settings.recordings_topic) as publisher:
        await publisher.publish_event(settings.diagnoses_topic, encode_diagnosis(event))


def _delivered(fhir: FhirTestServer, recording_id: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        identifiers = [json.loads(r.body)["identifier"]["value"] for r in list(fhir.received)]
        if f"{recording_id}/cae-test" in identifiers:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.integration
def test_local_stack_runs_restarts_and_stops_the_exporter(tansu, fresh_postgres_url, unique_name, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with FhirTestServer() as fhir:
        settings = isolated_settings(
            tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name, fhir_base_url=fhir.base_url,
            fhir_topic=f"fhir-{unique_name}", export_group=f"export-{unique_name}",
            overreads_topic=f"overreads-{unique_name}", export_waveform=False,
        )  # fmt: skip
        with LocalStack(settings, workers=0) as stack:
            exporter = stack.start_exporter()
            assert stack.exporter is exporter and exporter.log_path == stack.log_dir / "exporter.log"
            exporter.wait_metrics(60)
            asyncio.run(_publish(settings, stack.bootstrap, "rec-before"))
            assert _delivered(fhir, "rec-before"), exporter.log_path.read_text()[-3000:]
            assert stack.supervise() is None and stack.supervisor.restarts(exporter) == 0

            first_pid = exporter.pid
            assert first_pid is not None
            os.kill(first_pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while not (exporter.running and exporter.pid != first_pid) and time.monotonic() < deadline:
                assert stack.supervise() is None
                time.sleep(0.1)
            assert exporter.running and exporter.pid != first_pid, "the killed exporter was not restarted"
            assert stack.supervisor.restarts(exporter) == 1

            asyncio.run(_publish(settings, stack.bootstrap, "rec-after"))
            assert _delivered(fhir, "rec-after"), exporter.log_path.read_text()[-3000:]
            process = exporter.process
        assert process is not None and process.poll() is not None, "stop() ends the exporter"
        assert not exporter.running
    statuses = {json.loads(r.body)["entry"][0]["resource"]["status"] for r in fhir.received}
    assert statuses == {"preliminary"}
