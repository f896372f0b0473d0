"""A confirmed overread as the exports build it: final / amended, F / C, the physician's statements and
comment, message ids per overread version; on a real diagnosis (CinC E07501), validated as in the other
export tests (fhir.resources R4B, hl7apy strict)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from exports import diagnosis_bundle, message_control_id, oru_r01
from schemas.overread_event import OverreadEvent, OverreadStatement
from storage import DiagnosisView
from stream_processor.export.overread import confirmed_export
from tests.exports.diagnoses import real_diagnoses

AT = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)


def _view(event) -> DiagnosisView:  # type: ignore[no-untyped-def]
    return DiagnosisView(
        recording_id=event.recording_id, model_version=event.model_version,
        statements=[dataclasses.asdict(s) for s in event.statements], probabilities=event.probabilities,
        received_at=event.diagnosed_at, diagnosed_at=event.diagnosed_at, queue_wait_seconds=0.0,
        preprocess_seconds=0.0, inference_seconds=0.0, latency_from_acquisition_seconds=None,
        latency_from_ingest_seconds=None, device_id=None, patient_ref_hash=None, age=60, sex="M", height_cm=None,
        weight_kg=None, sampling_rate_hz=500.0, n_samples=5000, duration_s=10.0, acquired_at=event.acquired_at,
        ingested_at=None, signal_sha256="0", has_signal=False, readable=event.readable,
        unreadable_reasons=event.unreadable_reasons,
        measurements=None if event.measurements is None else event.measurements.as_record(),
        quality=None if event.quality is None else event.quality.as_record(),
    )  # fmt: skip


def _overread(event, version: int, amends: int | None, action: str = "edit") -> OverreadEvent:  # type: ignore[no-untyped-def]
    statements = [OverreadStatement(21, "Sinus tachycardia"), OverreadStatement(147, "T-wave abnormality"),
                  OverreadStatement(367, "Inversion", 147)]  # fmt: skip
    return OverreadEvent(event.recording_id, event.model_version, version, action, statements,  # type: ignore[arg-type]
                         reader="Dr. O'Neil", at=AT, free_text="Compare with old ECG | ^ & ~", amends_version=amends)  # fmt: skip


def test_first_confirmed_version_is_final_and_a_later_one_amended() -> None:
    real = real_diagnoses()["E07501"]
    view = _view(real.event)
    first, later = confirmed_export(view, _overread(real.event, 1, None)), confirmed_export(view, _overread(real.event, 3, 1))
    assert (first.report_status, first.result_status) == ("final", "F")
    assert (later.report_status, later.result_status) == ("amended", "C")
    bundles = []
    for confirmed in (first, later):
        bundle = diagnosis_bundle(confirmed.diagnosis, status=confirmed.report_status, confirmed_by=confirmed.confirmed_by,
                                  comment=confirmed.comment, patient=real.patient, bundle_type="transaction")  # fmt: skip
        Bundle.model_validate(bundle)
        bundles.append(bundle["entry"][0]["resource"])
    final, amended = bundles
    assert final["status"] == "final" and amended["status"] == "amended" and final["id"] == amended["id"]
    assert final["resultsInterpreter"] == [{"display": "Dr. O'Neil"}] and final["issued"].startswith("2026-03-14T10:00")
    assert [c["coding"][0]["code"] for c in final["conclusionCode"]] == ["21", "147", "147+367"]
    assert "Comment: Compare with old ECG | ^ & ~" in final["conclusion"] and "p=" not in final["conclusion"]
    preliminary = diagnosis_bundle(real.event, patient=real.patient)["entry"][0]["resource"]
    assert preliminary["id"] == final["id"]  # the EHR updates the report it already has

    texts = {}
    for confirmed in (first, later):
        text = oru_r01(confirmed.diagnosis, result_status=confirmed.result_status, patient=real.patient,
                       confirmed_by=confirmed.confirmed_by, comment=confirmed.comment, revision=confirmed.revision,
                       message_time=AT)  # fmt: skip
        message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT)
        assert message.validate()
        texts[confirmed.result_status] = text
        assert message.msh.msh_10.to_er7() == message_control_id(confirmed.diagnosis, confirmed.result_status, confirmed.revision)
    assert "|F|" in texts["F"] and "|C|" in texts["C"] and "Compare with old ECG \\F\\ \\S\\ \\T\\ \\R\\" in texts["C"]
    assert message_control_id(first.diagnosis, "C", 2) != message_control_id(first.diagnosis, "C", 3)
    assert message_control_id(real.event, "P") == message_control_id(real.event, "P", None)  # unchanged for P


def test_a_rejection_is_not_exported_and_a_physician_reads_what_the_computer_could_not() -> None:
    """A physician who states what the quality gate judged unreadable has read it: the statements go out."""
    real = real_diagnoses()["E07501"]
    with pytest.raises(ValueError, match="rejected"):
        confirmed_export(_view(real.event), _overread(real.event, 1, None, action="reject"))
    unreadable = dataclasses.replace(real.event, readable=False, statements=[], unreadable_reasons=["leads_off"])
    confirmed = confirmed_export(_view(unreadable), _overread(unreadable, 1, None))
    report = diagnosis_bundle(confirmed.diagnosis, status="final", confirmed_by="Dr. O'Neil")["entry"][0]["resource"]
    assert [c["coding"][0]["code"] for c in report["conclusionCode"]] == ["21", "147", "147+367"]
