"""``ecgstream export`` on physician overreads, end to end: real Tansu broker, real Postgres, real FHIR and
MLLP receivers. A diagnosis is stored through the real SQL sink and its preliminary event published on
the diagnoses topic; overreads (confirm, then an edit, then a rejection, then a confirm of a second
recording) are stored and published exactly as the gateway does it (``webapp.overread_events``). The
exporter consumes both topics and must send:

- the preliminary Bundle (status preliminary, HL7 P),
- the confirmation as ``final`` / HL7 ``F`` naming the physician,
- the edit as ``amended`` / HL7 ``C`` with the physician's statements and free text, updating the same
  FHIR resources (same ids) under a new HL7 message control id,
- nothing for the rejection (counted as skipped).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from hl7apy.parser import parse_message

from ingest.publisher import Publisher
from schemas import encode_diagnosis
from storage import DiagnosisResult, SqlDiagnosisSink, create_engine, get_diagnosis, upgrade
from storage.overreads import add_overread
from stream_processor.export.metrics import ExportMetrics
from stream_processor.export.service import ExportService
from tests.e2e.helpers import isolated_settings
from tests.stream_processor.export_servers import FhirTestServer, MllpTestServer, read_topic
from webapp.overread_events import publish_overreads

pytestmark = pytest.mark.integration

AF_RVR = [{"code": 50, "description": "Atrial fibrillation", "probability": 0.9, "provenance": "model", "evidence": None}]
PHYSICIAN = "dr-house"


def _result(recording_id: str) -> DiagnosisResult:
    now = datetime.now(UTC)
    return DiagnosisResult(
        recording_id=recording_id, model_version="cae-test", device_id="cart-3", patient_ref=f"MRN-{recording_id}",
        statements=AF_RVR, probabilities={"50": 0.9}, age=80, sex="M", height_cm=170.0, weight_kg=80.0,
        sampling_rate_hz=500.0, n_samples=5000, acquired_at=now - timedelta(minutes=3), ingested_at=now,
        signal_sha256="0" * 64, signal=None, received_at=now, diagnosed_at=now + timedelta(seconds=1),
        queue_wait_seconds=0.1, preprocess_seconds=0.01, inference_seconds=0.01,
        measurements={"heart_rate_bpm": 160.0, "qrs_ms": 90.0, "rate_confirmed": True},
    )  # fmt: skip


async def _prepare(settings) -> None:  # type: ignore[no-untyped-def]
    """Diagnoses stored and their preliminary events published; four overreads stored and published."""
    engine = create_engine(settings.database_url)
    try:
        await SqlDiagnosisSink(engine, hmac_secret=settings.patient_hmac_secret).write_batch([_result("r1"), _result("r2")])
        async with Publisher(settings.kafka_bootstrap, settings.recordings_topic) as publisher:
            view = await get_diagnosis(engine, "r1")  # r1's preliminary diagnosis event, as the worker sends it
            assert view is not None
            await publisher.publish_event(settings.diagnoses_topic, encode_diagnosis(_event_of(view)))
            common = {"model_version": "cae-test", "reader": f"token:{PHYSICIAN}", "reader_name": PHYSICIAN}
            confirm = [{"code": 50, "description": "Atrial fibrillation", "modifies": None, "source": "physician"}]
            edit = confirm + [{"code": 346, "description": "Rapid ventricular response", "modifies": 50, "source": "physician"}]
            records = [
                await add_overread(engine, "r1", action="confirm", statements=confirm, **common),
                await add_overread(engine, "r1", action="edit", statements=edit, free_text="Rate 160/min, | ^ & ~.",
                                   reason="RVR", **common),  # fmt: skip
                await add_overread(engine, "r2", action="reject", statements=[], reason="artefact", **common),
                await add_overread(engine, "r2", action="confirm", statements=confirm, **common),
            ]
            assert await publish_overreads(engine, publisher, settings.overreads_topic, records) == 4
    finally:
        await engine.dispose()


def _event_of(view):  # type: ignore[no-untyped-def]
    from schemas import DiagnosisEvent, EventMeasurements, Statement

    return DiagnosisEvent(
        recording_id=view.recording_id, model_version=view.model_version,
        statements=[Statement(s["code"], s["description"], s["probability"], s["provenance"]) for s in view.statements],
        probabilities=view.probabilities, acquired_at=view.acquired_at, diagnosed_at=view.diagnosed_at,
        measurements=EventMeasurements.from_record(view.measurements),
    )  # fmt: skip


async def _run_exporter(settings, expected: int):  # type: ignore[no-untyped-def]
    metrics = ExportMetrics.create()
    async with MllpTestServer() as mllp:
        service = ExportService(settings.with_overrides(hl7_mllp_host="127.0.0.1", hl7_mllp_port=mllp.port),
                                settings.kafka_bootstrap, metrics)  # fmt: skip
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        try:
            for _ in range(1200):
                if service.exported >= expected or task.done():
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # the rejection is consumed too
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
        bundles = await read_topic(settings.kafka_bootstrap, settings.fhir_topic, expected)
    return service, metrics, mllp, bundles


def test_confirmed_overreads_are_exported_final_then_amended(tansu, fresh_postgres_url, unique_name, tmp_path):
    upgrade(fresh_postgres_url)
    settings = isolated_settings(
        tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name, fhir_topic=f"fhir-{unique_name}",
        export_group=f"export-{unique_name}", overreads_topic=f"overreads-{unique_name}", export_waveform=False,
    )  # fmt: skip
    asyncio.run(_prepare(settings))
    with FhirTestServer() as fhir:
        settings = settings.with_overrides(fhir_base_url=fhir.base_url)
        service, metrics, mllp, records = asyncio.run(_run_exporter(settings, expected=4))

    assert service.exported == 4  # r1 preliminary, r1 final, r1 amended, r2 final; the rejection skipped
    reports = {}
    for record in records:
        bundle = json.loads(record.value)
        Bundle.model_validate(bundle)
        report = bundle["entry"][0]["resource"]
        reports.setdefault(record.key.decode(), []).append(report)
    by_status = {(rid, r["status"]): r for rid, items in reports.items() for r in items}
    assert set(by_status) == {("r1", "preliminary"), ("r1", "final"), ("r1", "amended"), ("r2", "final")}
    final, amended = by_status[("r1", "final")], by_status[("r1", "amended")]
    assert final["id"] == amended["id"] == by_status[("r1", "preliminary")]["id"]  # one report, updated
    assert final["resultsInterpreter"] == [{"display": PHYSICIAN}] and "Confirmed by dr-house." in final["conclusion"]
    assert [c["coding"][0]["code"] for c in amended["conclusionCode"]] == ["50", "50+346"]
    assert "Comment: Rate 160/min, | ^ & ~." in amended["conclusion"]
    assert "Critical: Atrial fibrillation with rapid ventricular response" in amended["conclusion"]
    assert "Unconfirmed" in by_status[("r1", "preliminary")]["conclusion"]
    assert len(fhir.received) == 4

    statuses = {}
    for text in mllp.messages:
        message = parse_message(text)
        rid = message.oru_r01_patient_result.oru_r01_order_observation.obr.obr_3.to_er7().split("^")[0]
        status = message.oru_r01_patient_result.oru_r01_order_observation.obr.obr_25.to_er7()
        statuses.setdefault(rid, []).append((status, message.msh.msh_10.to_er7()))
    assert sorted(s for s, _ in statuses["r1"]) == ["C", "F", "P"] and [s for s, _ in statuses["r2"]] == ["F"]
    assert len({control for items in statuses.values() for _, control in items}) == 4  # every message its own id
    corrected = next(t for t in mllp.messages if "|C|" in t and "r1^" in t)
    assert "\\F\\ \\S\\ \\T\\ \\R\\" in corrected and "dr-house" in corrected  # free text escaped, physician named
    registry = metrics.registry
    assert registry.get_sample_value("ecgstream_confirmed_exports_total", {"status": "final"}) == 2
    assert registry.get_sample_value("ecgstream_confirmed_exports_total", {"status": "amended"}) == 1
    assert registry.get_sample_value("ecgstream_exports_skipped_total", {"reason": "overread_rejected"}) == 1
