"""An overread as the exports build it: a confirmation final / amended, F / C, the physician's statements
and comment; a rejection as the withdrawal of the preliminary result (entered-in-error, OBX-11 W); message
ids per overread version; on a real diagnosis (CinC E07501), validated as in the other export tests
(fhir.resources R4B, hl7apy strict)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from exports import diagnosis_bundle, message_control_id, oru_r01, oru_r01_withdrawal, withdrawal_bundle
from schemas.overread_event import OverreadEvent, OverreadStatement
from storage import DiagnosisView
from stream_processor.export.overread import confirmed_export, rejected_export
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


def test_a_rejection_confirms_nothing_and_a_physician_reads_what_the_computer_could_not() -> None:
    """A physician who states what the quality gate judged unreadable has read it: the statements go out."""
    real = real_diagnoses()["E07501"]
    with pytest.raises(ValueError, match="rejected"):
        confirmed_export(_view(real.event), _overread(real.event, 1, None, action="reject"))
    unreadable = dataclasses.replace(real.event, readable=False, statements=[], unreadable_reasons=["leads_off"])
    confirmed = confirmed_export(_view(unreadable), _overread(unreadable, 1, None))
    report = diagnosis_bundle(confirmed.diagnosis, status="final", confirmed_by="Dr. O'Neil")["entry"][0]["resource"]
    assert [c["coding"][0]["code"] for c in report["conclusionCode"]] == ["21", "147", "147+367"]


def _rejection(event, version: int) -> OverreadEvent:  # type: ignore[no-untyped-def]
    return OverreadEvent(event.recording_id, event.model_version, version, "reject", [], reader="Dr. O'Neil", at=AT,
                         reason="Lead reversal | arm leads swapped", free_text="Repeat the ECG ^ & ~")  # fmt: skip


def _hl7_observations(message) -> list:  # type: ignore[no-untyped-def]
    order = message.oru_r01_patient_result.oru_r01_order_observation
    return [group.obx for group in order.children.get("ORU_R01_OBSERVATION")]


def test_a_rejection_withdraws_the_preliminary_fhir_report_and_its_observations() -> None:
    real = real_diagnoses()["E07501"]
    rejected = rejected_export(_view(real.event), _rejection(real.event, 2))
    with pytest.raises(ValueError, match="not withdrawn"):
        rejected_export(_view(real.event), _overread(real.event, 1, None, action="confirm"))
    preliminary = diagnosis_bundle(real.event, patient=real.patient, waveform=real.waveform, bundle_type="transaction")
    withdrawal = withdrawal_bundle(rejected.diagnosis, rejected_by=rejected.rejected_by, reason=rejected.reason,
                                   comment=rejected.comment, patient=real.patient, bundle_type="transaction")  # fmt: skip
    Bundle.model_validate(withdrawal)
    report = withdrawal["entry"][0]["resource"]
    sent = {e["resource"]["id"]: e["resource"] for e in preliminary["entry"]}
    # the very report the EHR holds (id, identifier), now entered-in-error with the rejection as conclusion
    assert report["resourceType"] == "DiagnosticReport" and report["status"] == "entered-in-error"
    assert report["id"] == preliminary["entry"][0]["resource"]["id"]
    assert report["identifier"] == preliminary["entry"][0]["resource"]["identifier"]
    assert withdrawal["identifier"] == preliminary["identifier"]
    assert report["resultsInterpreter"] == [{"display": "Dr. O'Neil"}] and report["issued"].startswith("2026-03-14T10:00")
    assert "rejected by Dr. O'Neil" in report["conclusion"]
    assert "Reason: Lead reversal | arm leads swapped" in report["conclusion"]
    assert "Comment: Repeat the ECG ^ & ~" in report["conclusion"]
    assert "conclusionCode" not in report and "Unconfirmed" not in report["conclusion"]
    # every measurement Observation of the preliminary export, same id, entered-in-error; the waveform untouched
    observations = [e["resource"] for e in withdrawal["entry"][1:]]
    measured = [r for r in sent.values() if r["resourceType"] == "Observation" and "component" not in r]
    assert len(measured) >= 9 and sorted(o["id"] for o in observations) == sorted(o["id"] for o in measured)
    assert {o["status"] for o in observations} == {"entered-in-error"}
    for observation in observations:
        assert observation["valueQuantity"] == sent[observation["id"]]["valueQuantity"]
        assert "derivedFrom" not in observation
    assert report["result"] == [{"reference": f"urn:uuid:{o['id']}"} for o in observations]
    assert [e["request"] for e in withdrawal["entry"]] == [
        {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"} for r in [report, *observations]
    ]


def test_a_rejection_posts_the_original_hl7_results_as_wrong() -> None:
    real = real_diagnoses()["E07501"]
    rejected = rejected_export(_view(real.event), _rejection(real.event, 2))
    preliminary = parse_message(oru_r01(real.event, patient=real.patient, message_time=AT),
                                validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)  # fmt: skip
    text = oru_r01_withdrawal(rejected.diagnosis, rejected_by=rejected.rejected_by, reason=rejected.reason,
                              comment=rejected.comment, patient=real.patient, revision=rejected.revision,
                              message_time=AT)  # fmt: skip
    message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert message.validate()
    order = message.oru_r01_patient_result.oru_r01_order_observation
    before = preliminary.oru_r01_patient_result.oru_r01_order_observation
    assert order.obr.obr_3.to_er7() == before.obr.obr_3.to_er7() and order.obr.obr_4.to_er7() == before.obr.obr_4.to_er7()
    assert order.obr.obr_25.to_er7() == "C" and order.obr.obr_32.to_er7() == "&Dr. O'Neil"
    # the same observations as the preliminary message (codes, sub-ids, values), each posted as wrong
    obx, sent = _hl7_observations(message), _hl7_observations(preliminary)
    assert [(o.obx_3.to_er7(), o.obx_4.to_er7(), o.obx_5.to_er7()) for o in obx] == [
        (o.obx_3.to_er7(), o.obx_4.to_er7(), o.obx_5.to_er7()) for o in sent
    ]
    assert {o.obx_11.to_er7() for o in obx} == {"W"} and {o.obx_11.to_er7() for o in sent} == {"P"}
    nte = order.nte
    assert nte.nte_2.to_er7() == "L" and nte.nte_4.to_er7() == "RE^Remark^HL70364"
    note = nte.to_er7()
    assert "rejected by Dr. O'Neil" in note and "Lead reversal \\F\\ arm leads swapped" in note
    assert "Repeat the ECG \\S\\ \\T\\ \\R\\" in note
    assert text.index("\rNTE|") < text.index("\rOBX|")
    # one message id per overread version, never that of the preliminary or a confirmation
    control = message.msh.msh_10.to_er7()
    assert control == message_control_id(rejected.diagnosis, "W", 2)
    again = oru_r01_withdrawal(rejected.diagnosis, rejected_by="Dr. O'Neil", reason="x", revision=2)
    assert again.split("|")[9] == control, "a redelivered rejection keeps its message id"
    others = {message_control_id(real.event, "P"), message_control_id(real.event, "F", 2),
              message_control_id(real.event, "C", 2), message_control_id(real.event, "W", 3)}  # fmt: skip
    assert control not in others and len(others) == 4
    with pytest.raises(ValueError, match="rejected_by"):
        oru_r01_withdrawal(rejected.diagnosis, rejected_by="")
