"""Delivery of real exports to real local receivers: a FHIR server (HTTP) and an HL7 receiver (MLLP).

Retries with backoff after a 503 / a dropped connection, no retry after a refusal (4xx, AE/AR), a
limit of attempts; failures logged with the recording id only, never patient data.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from fhir.resources.R4B.bundle import Bundle

from exports import diagnosis_bundle, message_control_id, oru_r01
from stream_processor.export.delivery import RetryPolicy, deliver_with_retries
from stream_processor.export.fhir_client import FhirClient
from stream_processor.export.mllp import MllpClient
from tests.exports.diagnoses import real_diagnoses
from tests.stream_processor.export_servers import FhirTestServer, MllpTestServer

FAST = RetryPolicy(max_attempts=4, base_seconds=0.05, max_seconds=0.4)


def _bundle() -> tuple[str, dict]:
    real = real_diagnoses()["E07501"]
    bundle = diagnosis_bundle(real.event, patient=real.patient, waveform=real.waveform, bundle_type="transaction")
    return real.event.recording_id, bundle


async def _post(server: FhirTestServer, bundle: dict, recording_id: str, policy: RetryPolicy = FAST,
                token: str | None = None) -> tuple[str, int]:  # fmt: skip
    client = FhirClient(server.base_url, timeout=5, bearer_token=token)
    retries = 0

    def counted() -> None:
        nonlocal retries
        retries += 1

    try:
        outcome = await deliver_with_retries(lambda: client.post_bundle(bundle), policy, receiver="fhir",
                                             recording_id=recording_id, on_retry=counted)  # fmt: skip
    finally:
        await client.aclose()
    return outcome, retries


async def test_fhir_post_is_retried_after_a_503_then_delivered() -> None:
    recording_id, bundle = _bundle()
    with FhirTestServer([503], retry_after="0") as server:
        outcome, retries = await _post(server, bundle, recording_id, token="s3cret-token")
    assert outcome == "delivered" and retries == 1
    first, second = server.received
    assert second.at - first.at >= 0.04, "the retry waited its backoff"
    assert first.body == second.body and first.path == "/fhir", "a transaction goes to the base URL"
    posted = json.loads(second.body)
    Bundle.model_validate(posted)
    assert posted == bundle
    assert second.headers["Content-Type"].startswith("application/fhir+json")
    assert second.headers["Authorization"] == "Bearer s3cret-token"


async def test_fhir_refusal_is_not_retried() -> None:
    recording_id, bundle = _bundle()
    with FhirTestServer([422]) as server:
        outcome, retries = await _post(server, bundle, recording_id)
    assert outcome == "rejected" and retries == 0 and len(server.received) == 1


async def test_fhir_gives_up_after_the_attempts_and_logs_no_patient_data(caplog: pytest.LogCaptureFixture) -> None:
    real = real_diagnoses()["E07501"]
    recording_id, bundle = _bundle()
    caplog.set_level(logging.INFO)
    with FhirTestServer([503] * 10) as server:
        outcome, retries = await _post(server, bundle, recording_id, RetryPolicy(3, 0.01, 0.05))
    assert outcome == "failed" and retries == 2 and len(server.received) == 3
    records = [r for r in caplog.records if r.name.startswith("stream_processor.export")]
    assert [r.getMessage() for r in records][-1] == "delivery failed; giving up"
    logged = " ".join(json.dumps({k: str(v) for k, v in vars(r).items()}) for r in records)
    assert recording_id in logged and "HTTP 503" in logged
    assert str(real.patient.pseudonym) not in logged and str(real.recording.patient_ref) not in logged
    assert server.base_url not in logged, "no URL in the logs (it may carry credentials)"


async def test_fhir_unreachable_server_fails_after_the_attempts() -> None:
    recording_id, bundle = _bundle()
    with FhirTestServer() as server:
        url = server.base_url  # the port is closed once the server stops
    client = FhirClient(url, timeout=2)
    try:
        outcome = await deliver_with_retries(lambda: client.post_bundle(bundle), RetryPolicy(2, 0.01, 0.02),
                                             receiver="fhir", recording_id=recording_id)  # fmt: skip
    finally:
        await client.aclose()
    assert outcome == "failed"


def test_backoff_doubles_up_to_its_cap_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_attempts=8, base_seconds=1.0, max_seconds=30.0)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert policy.delay(1, retry_after=12) == 12 and policy.delay(1, retry_after=600) == 30


def _hl7() -> tuple[str, str, str]:
    real = real_diagnoses()["JS20001"]
    return real.event.recording_id, oru_r01(real.event, patient=real.patient), message_control_id(real.event, "P")


async def _send(
    server: MllpTestServer, policy: RetryPolicy = FAST, timeout: float = 5.0, message: tuple[str, str, str] | None = None
) -> str:
    # The message is built once per call; a caller that compares bytes passes the one it built (MSH-7
    # carries the current second, so two builds can differ).
    recording_id, text, control_id = message or _hl7()
    client = MllpClient("127.0.0.1", server.port, timeout=timeout)
    return await deliver_with_retries(lambda: client.send(text, control_id), policy, receiver="hl7",
                                      recording_id=recording_id)  # fmt: skip


async def test_mllp_frames_the_message_and_waits_for_aa() -> None:
    message = _hl7()
    text = message[1]
    async with MllpTestServer() as server:
        assert await _send(server, message=message) == "delivered"
    assert server.raw == [b"\x0b" + text.encode() + b"\x1c\x0d"]
    assert server.messages == [text]


@pytest.mark.parametrize("code", ["AE", "AR"])
async def test_mllp_error_or_reject_ack_is_not_retried(code: str) -> None:
    async with MllpTestServer([code]) as server:
        assert await _send(server) == "rejected"
    assert server.connections == 1


async def test_mllp_dropped_connection_is_retried() -> None:
    async with MllpTestServer(["close", "close", "AA"]) as server:
        assert await _send(server) == "delivered"
    assert server.connections == 3 and len(set(server.messages)) == 1


async def test_mllp_ack_of_another_message_or_none_at_all_fails() -> None:
    async with MllpTestServer(["other"] * 3) as server:
        assert await _send(server, RetryPolicy(3, 0.01, 0.02)) == "failed"
    assert server.connections == 3
    async with MllpTestServer(["silent"] * 2) as server:
        assert await _send(server, RetryPolicy(2, 0.01, 0.02), timeout=0.3) == "failed"
    assert server.connections == 2


def test_receivers_follow_the_settings_and_plain_http_elsewhere_is_warned(caplog: pytest.LogCaptureFixture) -> None:
    from core.config import Settings
    from stream_processor.export.service import export_targets

    bare = export_targets(Settings())
    assert bare.fhir is None and bare.mllp is None and bare.fhir_topic == "ecg.diagnoses.fhir.v1"
    caplog.set_level(logging.WARNING)
    targets = export_targets(Settings(fhir_base_url="http://user:pw@ehr.hospital.example/fhir", hl7_mllp_host="engine",
                                      export_max_attempts=7, fhir_bearer_token="tok"))  # fmt: skip
    assert targets.fhir is not None and targets.mllp is not None and targets.retry.max_attempts == 7
    assert targets.mllp.port == 2575
    assert any("unencrypted" in r.getMessage() for r in caplog.records)
    assert "pw@" not in caplog.text and "tok" not in repr(targets)
    asyncio.run(targets.fhir.aclose())
    caplog.clear()
    secure = export_targets(Settings(fhir_base_url="https://ehr.hospital.example/fhir"))
    assert not caplog.records
    assert secure.fhir is not None
    asyncio.run(secure.fhir.aclose())
