"""``ecgstream export`` end to end: real Tansu broker, real Postgres, a real worker process, real receivers.

Real CinC 2021 recordings with clear patient references are published; the worker diagnoses them
(STORE_SIGNAL, so the samples are kept); the exporter consumes the diagnoses topic and
- publishes one FHIR transaction Bundle per diagnosis to the FHIR topic,
- POSTs it to a local FHIR server that answers 503 to the first POST (then 200): retried, delivered,
- sends an ORU^R01 over MLLP to a local receiver that ACKs AA,
naming each patient only by the keyed hash the database stores; the counters say so.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import numpy as np
import pytest
from fhir.resources.R4B.bundle import Bundle

from ecgstream.stack import LocalStack
from schemas.pseudonym import patient_pseudonym
from stream_processor.export.metrics import ExportMetrics
from stream_processor.export.service import ExportService
from tests.e2e.helpers import TEST_PATIENT_SECRET, isolated_settings, publish_all
from tests.stream_processor.export_servers import FhirTestServer, MllpTestServer, read_topic
from tests.stream_processor.records import cinc_recordings

pytestmark = pytest.mark.integration


async def _export(settings, bootstrap: str, fhir: FhirTestServer, expected: int):  # type: ignore[no-untyped-def]
    metrics = ExportMetrics.create()
    async with MllpTestServer() as mllp:
        settings = settings.with_overrides(hl7_mllp_host="127.0.0.1", hl7_mllp_port=mllp.port)
        service = ExportService(settings, bootstrap, metrics)
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        try:
            for _ in range(1200):  # 120 s at most
                if service.exported >= expected or task.done():
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
        bundles = await read_topic(bootstrap, settings.fhir_topic, expected)
    return service, metrics, mllp, bundles


def test_diagnoses_are_published_posted_and_sent_over_mllp(tansu, fresh_postgres_url, unique_name, tmp_path):
    recordings = [
        dataclasses.replace(rec, patient_ref=f"MRN-{9000 + i}", device_id="cart-7")
        for i, rec in enumerate(cinc_recordings()[:3])
    ]
    settings = isolated_settings(
        tansu.bootstrap, fresh_postgres_url, tmp_path / "home", unique_name, store_signal=True,
        fhir_topic=f"fhir-{unique_name}", export_group=f"export-{unique_name}",
        export_retry_base_seconds=0.05, export_retry_max_seconds=0.5,
    )  # fmt: skip
    with LocalStack(settings, workers=1) as stack, FhirTestServer([503]) as fhir:
        stack.wait_ready()
        asyncio.run(publish_all(stack.bootstrap, settings.recordings_topic, recordings))
        settings = settings.with_overrides(fhir_base_url=fhir.base_url)
        service, metrics, mllp, records = asyncio.run(_export(settings, stack.bootstrap, fhir, len(recordings)))

    by_id = {rec.recording_id: rec for rec in recordings}
    assert service.exported == len(recordings)
    # the FHIR topic: one transaction Bundle per diagnosis, keyed by recording id
    assert sorted(r.key.decode() for r in records) == sorted(by_id)
    for record in records:
        assert dict(record.headers)["content-type"].startswith(b"application/fhir+json")
        bundle = json.loads(record.value)
        Bundle.model_validate(bundle)
        rec = by_id[record.key.decode()]
        report = bundle["entry"][0]["resource"]
        assert bundle["type"] == "transaction" and report["status"] == "preliminary"
        assert report["subject"]["identifier"]["value"] == patient_pseudonym(rec.patient_ref, TEST_PATIENT_SECRET)
        assert rec.patient_ref not in record.value.decode()
        waveform = next(e["resource"] for e in bundle["entry"] if "component" in e["resource"])
        lead_ii = waveform["component"][1]["valueSampledData"]
        samples = np.array([float(v) for v in lead_ii["data"].split()]) * lead_ii["factor"]
        np.testing.assert_allclose(samples, rec.signal[1], atol=0.0015)  # int16 on the wire, whole µV in FHIR
    # the FHIR server: 1 refused + 3 accepted POSTs, the refused one sent again
    assert len(fhir.received) == len(recordings) + 1
    posted = [json.loads(r.body) for r in fhir.received]
    assert posted[0] == posted[1], "the 503'd Bundle is the one retried"
    assert sorted(p["identifier"]["value"].split("/")[0] for p in posted[1:]) == sorted(by_id)
    # the HL7 receiver: one validated ORU^R01 per diagnosis, patient by hash only
    assert len(mllp.messages) == len(recordings)
    for text in mllp.messages:
        assert "ORU^R01^ORU_R01" in text and not any(rec.patient_ref in text for rec in recordings)
    registry = metrics.registry
    assert registry.get_sample_value("ecgstream_fhir_deliveries_total", {"outcome": "delivered"}) == 3
    assert registry.get_sample_value("ecgstream_export_retries_total", {"receiver": "fhir"}) == 1
    assert registry.get_sample_value("ecgstream_hl7_deliveries_total", {"outcome": "delivered"}) == 3
    assert registry.get_sample_value("ecgstream_fhir_bundles_published_total") == 3
