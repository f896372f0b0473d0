"""``ecgstream export`` on physician overreads, end to end: real Tansu broker, real Postgres, real FHIR and
MLLP receivers. A diagnosis is stored through the real SQL sink and its preliminary event published on
the diagnoses topic; overreads (confirm, then an edit of the first recording; a rejection, then a confirm
of the second) are stored and published exactly as the gateway does it (``webapp.overread_events``). The
exporter consumes both topics and must send:

- the preliminary Bundles (status preliminary, HL7 P),
- the confirmation as ``final`` / HL7 ``F`` naming the physician,
- the edit as ``amended`` / HL7 ``C`` with the physician's statements and free text, updating the same
  FHIR resources (same ids) under a new HL7 message control id,
- the rejection as the withdrawal of the second recording's preliminary report: the same report and
  measurement Observations ``entered-in-error`` with the reason, HL7 OBR-25 ``C`` with every OBX-11 ``W``.
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
            for recording_id in ("r1", "r2"):  # the preliminary diagnosis events, as the worker sends them
                view = await get_diagnosis(engine, recording_id)
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
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
        bundles = await read_topic(settings.kafka_bootstrap, settings.fhir_topic, expected)
    return service, metrics, mllp, bundles


def test_overreads_are_exported_final_amended_and_rejections_withdrawn(tansu, fresh_postgres_url, unique_name, tmp_path):
    upgrade(fresh_postgres_url)
    settings = isolated_settings(
        tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name, fhir_topic=f"fhir-{unique_name}",
        export_group=f"export-{unique_name}", overreads_topic=f"overreads-{unique_name}", export_waveform=False,
    )  # fmt: skip
    asyncio.run(_prepare(settings))
    with FhirTestServer() as fhir:
        settings = settings.with_overrides(fhir_base_url=fhir.base_url)
        service, metrics, mllp, records = asyncio.run(_run_exporter(settings, expected=6))

    assert service.exported == 6  # r1 preliminary, final, amended; r2 preliminary, withdrawn, final
    reports = {}
    for record in records:
        bundle = json.loads(record.value)
        Bundle.model_validate(bundle)
        reports.setdefault(record.key.decode(), []).append(bundle)
    by_status = {(rid, b["entry"][0]["resource"]["status"]): b for rid, items in reports.items() for b in items}
    assert set(by_status) == {("r1", "preliminary"), ("r1", "final"), ("r1", "amended"),
                              ("r2", "preliminary"), ("r2", "entered-in-error"), ("r2", "final")}  # fmt: skip
    final, amended = (by_status[("r1", s)]["entry"][0]["resource"] for s in ("final", "amended"))
    assert final["id"] == amended["id"] == by_status[("r1", "preliminary")]["entry"][0]["resource"]["id"]  # one report, updated
    assert final["resultsInterpreter"] == [{"display": PHYSICIAN}] and "Confirmed by dr-house." in final["conclusion"]
    assert [c["coding"][0]["code"] for c in amended["conclusionCode"]] == ["50", "50+346"]
    assert "Comment: Rate 160/min, | ^ & ~." in amended["conclusion"]
    assert "Critical: Atrial fibrillation with rapid ventricular response" in amended["conclusion"]
    assert "Unconfirmed" in by_status[("r1", "preliminary")]["entry"][0]["resource"]["conclusion"]
    # the rejection withdraws r2's preliminary report and its measurements: same ids, entered-in-error
    withdrawn, preliminary = by_status[("r2", "entered-in-error")], by_status[("r2", "preliminary")]
    assert [e["resource"]["id"] for e in withdrawn["entry"]] == [e["resource"]["id"] for e in preliminary["entry"]]
    assert {e["resource"]["status"] for e in withdrawn["entry"]} == {"entered-in-error"}
    assert len(withdrawn["entry"]) == 3  # the report, heart rate and QRS duration
    assert "rejected by dr-house" in withdrawn["entry"][0]["resource"]["conclusion"]
    assert "Reason: artefact" in withdrawn["entry"][0]["resource"]["conclusion"]
    assert len(fhir.received) == 6
    posted = [json.loads(r.body) for r in fhir.received]
    assert withdrawn in posted, "the withdrawal reached the FHIR server"

    statuses = {}
    for text in mllp.messages:
        message = parse_message(text, find_groups=True)
        order = message.oru_r01_patient_result.oru_r01_order_observation
        rid = order.obr.obr_3.to_er7().split("^")[0]
        observations = {group.obx.obx_11.to_er7() for group in order.children.get("ORU_R01_OBSERVATION")}
        statuses.setdefault(rid, []).append((order.obr.obr_25.to_er7(), observations, message.msh.msh_10.to_er7()))
    assert sorted((s, o) for s, o, _ in statuses["r1"]) == [("C", {"C"}), ("F", {"F"}), ("P", {"P"})]
    assert sorted((s, o) for s, o, _ in statuses["r2"]) == [("C", {"W"}), ("F", {"F"}), ("P", {"P"})]
    assert len({control for items in statuses.values() for *_, control in items}) == 6  # every message its own id
    corrected = next(t for t in mllp.messages if "|C|" in t and "r1^" in t)
    assert "\\F\\ \\S\\ \\T\\ \\R\\" in corrected and "dr-house" in corrected  # free text escaped, physician named
    withdrawal = next(t for t in mllp.messages if "|W|" in t)
    assert "\rNTE|1|L|" in withdrawal and "Reason: artefact" in withdrawal and "r2^" in withdrawal
    registry = metrics.registry
    assert registry.get_sample_value("ecgstream_confirmed_exports_total", {"status": "final"}) == 2
    assert registry.get_sample_value("ecgstream_confirmed_exports_total", {"status": "amended"}) == 1
    assert registry.get_sample_value("ecgstream_confirmed_exports_total", {"status": "entered-in-error"}) == 1
    assert registry.get_sample_value("ecgstream_hl7_deliveries_total", {"outcome": "delivered"}) == 6
    assert registry.get_sample_value("ecgstream_fhir_deliveries_total", {"outcome": "delivered"}) == 6
    assert registry.get_sample_value("ecgstream_exports_skipped_total", {"reason": "overread_rejected"}) is None
