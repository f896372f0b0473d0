"""HL7 v2.5.1 ORU^R01 of real diagnoses, parsed back with hl7apy (strict validation) field by field."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from exports import PSEUDONYM_SYSTEM, PatientIdentity, message_control_id, oru_r01
from exports.codes import MEASUREMENT_CODES
from schemas import Statement
from tests.exports.diagnoses import real_diagnoses

SENT_AT = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def _parse(text: str):  # type: ignore[no-untyped-def]
    message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert message.validate(), "hl7apy's strict structure and required-field validation"
    return message


def _observations(message) -> list:  # type: ignore[no-untyped-def]
    order = message.oru_r01_patient_result.oru_r01_order_observation
    return [group.obx for group in order.children.get("ORU_R01_OBSERVATION")]


@pytest.mark.parametrize("name", ["E07501", "JS20001", "HR06000", "ludb-1"])
def test_oru_r01_parses_back_with_every_measurement_and_statement(name: str) -> None:
    real = real_diagnoses()[name]
    event = real.event
    text = oru_r01(event, patient=real.patient, sending_facility="CARDIO", receiving_application="EHR",
                   message_time=SENT_AT)  # fmt: skip
    assert "\n" not in text and text.count("\r") >= 4
    message = _parse(text)
    msh = message.msh
    assert msh.msh_9.to_er7() == "ORU^R01^ORU_R01" and msh.msh_12.to_er7() == "2.5.1"
    assert msh.msh_3.to_er7() == "ECGSTREAM" and msh.msh_4.to_er7() == "CARDIO" and msh.msh_5.to_er7() == "EHR"
    assert msh.msh_7.to_er7() == "20260314093000+0000"
    assert msh.msh_10.to_er7() == message_control_id(event, "P")
    pid = message.oru_r01_patient_result.oru_r01_patient.pid
    assert pid.pid_3.cx_1.to_er7() == real.patient.pseudonym and pid.pid_3.cx_5.to_er7() == "ANON"
    assert PSEUDONYM_SYSTEM in pid.pid_3.to_er7() and pid.pid_5.to_er7() == "^^^^^^S"
    obr = message.oru_r01_patient_result.oru_r01_order_observation.obr
    assert obr.obr_4.to_er7() == "11524-6^EKG study^LN" and obr.obr_25.to_er7() == "P"
    assert obr.obr_7.to_er7() == "20260314092653+0000" and obr.obr_3.ei_1.to_er7() == event.recording_id

    obx = _observations(message)
    numeric = {(o.obx_3.ce_1.to_er7(), o.obx_17.to_er7() or None): o for o in obx if o.obx_2.to_er7() == "NM"}
    assert event.measurements is not None
    for spec in MEASUREMENT_CODES:
        value = getattr(event.measurements, spec.field)
        key = (spec.loinc, None if spec.method is None else f"^{spec.method}")
        if value is None:
            assert key not in numeric
            continue
        assert float(numeric[key].obx_5.to_er7()) == round(value)
        assert numeric[key].obx_6.to_er7() == f"{spec.unit}^{spec.unit_display}^UCUM"
    coded = [o.obx_5.to_er7().split("^") for o in obx if o.obx_2.to_er7() == "CWE"]
    assert [c[0] for c in coded] == [str(s.code) if s.modifies is None else f"{s.modifies}+{s.code}"
                                     for s in event.statements]  # fmt: skip
    assert {c[2] for c in coded} == {"99ECGAHA"}
    impression = [o for o in obx if o.obx_2.to_er7() == "TX"]
    assert len(impression) == 1 and impression[0].obx_3.to_er7() == "8601-7^EKG impression^LN"
    assert impression[0].obx_8.to_er7() in {"N", "A", "AA"}
    assert {o.obx_11.to_er7() for o in obx} == {"P"}
    assert [int(o.obx_1.to_er7()) for o in obx] == list(range(1, len(obx) + 1))
    assert str(real.recording.patient_ref) not in text


def test_final_and_corrected_results_name_the_interpreter() -> None:
    real = real_diagnoses()["E07501"]
    for status in ("F", "C"):
        message = _parse(oru_r01(real.event, result_status=status, confirmed_by="Reader^Anna", patient=real.patient))
        order = message.oru_r01_patient_result.oru_r01_order_observation
        assert order.obr.obr_25.to_er7() == status
        assert {o.obx_11.to_er7() for o in _observations(message)} == {status}
        assert order.obr.obr_32.to_er7() == "&Reader\\S\\Anna", "delimiters in names are escaped"
        assert message.msh.msh_10.to_er7() == message_control_id(real.event, status) != message_control_id(real.event, "P")
    with pytest.raises(ValueError, match="confirmed_by"):
        oru_r01(real.event, result_status="F")
    with pytest.raises(ValueError, match="not one of"):
        oru_r01(real.event, result_status="X")  # type: ignore[arg-type]


def test_delimiters_in_text_are_escaped_and_long_text_wraps() -> None:
    real = real_diagnoses()["E07501"]
    odd = Statement(21, "Sinus tachycardia | with ^odd~ & \\chars\\ " + "long " * 60, 0.9, "both")
    event = dataclasses.replace(real.event, statements=[odd])
    text = oru_r01(event, patient=real.patient)
    message = _parse(text)
    obx = _observations(message)
    cwe = next(o for o in obx if o.obx_2.to_er7() == "CWE")
    code, shown, system = cwe.obx_5.to_er7().split("^")
    assert code == "21" and system == "99ECGAHA" and len(shown) <= 199 and shown.endswith("...")
    assert "Sinus tachycardia \\F\\ with \\S\\odd\\R\\ \\T\\ \\E\\chars\\E\\" in text
    impression = next(o for o in obx if o.obx_2.to_er7() == "TX")
    lines = impression.children.get("OBX_5")
    assert len(lines) >= 3 and all(len(line.to_er7()) <= 199 for line in lines)
    cwe_line = next(line for line in text.split("\r") if line.startswith("OBX|") and "|CWE|" in line)
    assert len(cwe_line.split("|")) == 15, "the text adds no field separator: OBX-1 ... OBX-14 only"


def test_without_patient_reference_the_recording_stands_in_and_clear_ids_only_when_given() -> None:
    real = real_diagnoses()["ludb-1"]
    pid = _parse(oru_r01(real.event)).oru_r01_patient_result.oru_r01_patient.pid
    assert pid.pid_3.cx_1.to_er7() == real.event.recording_id and pid.pid_3.cx_5.to_er7() == "ANON"
    chart = PatientIdentity(identifier="MRN-4711", identifier_system="urn:oid:1.2.3.4.5", family_name="Doe", given_name="Jo")
    pid = _parse(oru_r01(real.event, patient=chart)).oru_r01_patient_result.oru_r01_patient.pid
    assert pid.pid_3.cx_1.to_er7() == "MRN-4711" and pid.pid_3.cx_5.to_er7() == "MR"
    assert pid.pid_5.to_er7() == "Doe^Jo"


def test_unreadable_diagnosis_says_so_without_measurements() -> None:
    real = real_diagnoses()["E07501-leads-off"]
    obx = _observations(_parse(oru_r01(real.event, patient=real.patient)))
    assert [o.obx_2.to_er7() for o in obx] == ["TX"]
    assert obx[0].obx_5.to_er7().startswith("Unreadable: ") and not obx[0].obx_8.to_er7()
