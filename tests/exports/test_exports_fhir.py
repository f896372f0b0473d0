"""FHIR R4 Bundles of real diagnoses, validated with the ``fhir.resources`` R4B models (R4B keeps R4's
Bundle, DiagnosticReport and Observation unchanged), and read back value by value."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import numpy as np
import pytest
from fhir.resources.R4B.bundle import Bundle

from exports import PSEUDONYM_SYSTEM, STATEMENT_SYSTEM, PatientIdentity, diagnosis_bundle
from exports.codes import LOINC, MDC, MEASUREMENT_CODES, statement_code
from tests.exports.diagnoses import real_diagnoses


def _resources(bundle: dict) -> tuple[dict, list[dict], dict | None]:
    resources = [entry["resource"] for entry in bundle["entry"]]
    report = next(r for r in resources if r["resourceType"] == "DiagnosticReport")
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    waveform = next((o for o in observations if "component" in o), None)
    return report, [o for o in observations if o is not waveform], waveform


@pytest.mark.parametrize("name", ["E07501", "JS20001", "HR06000", "ludb-1"])
def test_readable_diagnosis_validates_and_carries_every_finding(name: str) -> None:
    real = real_diagnoses()[name]
    event = real.event
    bundle = diagnosis_bundle(event, patient=real.patient, waveform=real.waveform)
    Bundle.model_validate(bundle)  # raises on any structural error against the R4(B) models

    report, measurements, waveform = _resources(bundle)
    assert bundle["type"] == "collection"
    assert report["status"] == "preliminary"
    assert report["code"]["coding"][0] == {"system": LOINC, "code": "11524-6", "display": "EKG study"}
    assert report["category"][0]["coding"][0]["code"] == "EC"
    assert report["effectiveDateTime"] == "2026-03-14T09:26:53.000Z"
    # statements: one coded conclusion each, in order, the same codes the event carries
    coded = [c["coding"][0] for c in report["conclusionCode"]]
    assert [c["code"] for c in coded] == [statement_code(s.code, s.modifies) for s in event.statements]
    assert {c["system"] for c in coded} == {STATEMENT_SYSTEM}
    assert all(s.description.lower() in report["conclusion"].lower() for s in event.statements)
    assert "Unconfirmed" in report["conclusion"] and "p=" not in report["conclusion"]
    # measurements: every measured value once, LOINC-coded, UCUM units, rounded as carts print
    assert event.measurements is not None
    expected = {
        (spec.loinc, spec.method): round(getattr(event.measurements, spec.field))
        for spec in MEASUREMENT_CODES
        if getattr(event.measurements, spec.field) is not None
    }
    got = {
        (o["code"]["coding"][0]["code"], (o.get("method") or {}).get("text")): o["valueQuantity"]["value"]
        for o in measurements
    }
    assert got == expected and len(expected) >= 7
    units = {o["code"]["coding"][0]["code"]: o["valueQuantity"]["code"] for o in measurements}
    assert units.get("8867-4") == "/min" and units.get("8633-0") == "ms" and units.get("8632-2") == "deg"
    assert {r["reference"] for r in report["result"]} == {e["fullUrl"] for e in bundle["entry"][1:]}
    # the waveform: 12 leads of SampledData that give the recording back to the microvolt
    assert waveform is not None and len(waveform["component"]) == 12
    assert waveform["component"][0]["code"]["coding"][0] == {"system": MDC, "code": "131329", "display": "MDC_ECG_ELEC_POTL_I"}
    for lead, component in enumerate(waveform["component"]):
        data = component["valueSampledData"]
        assert data["origin"]["value"] == 0 and data["origin"]["code"] == "mV" and data["dimensions"] == 1
        assert data["period"] == pytest.approx(1000.0 / real.recording.fs)
        values = np.array([float(v) for v in data["data"].split()]) * data["factor"]
        np.testing.assert_allclose(values, real.recording.signal[lead], atol=0.0005 + 1e-9)


def test_patient_only_by_keyed_hash_unless_given_explicitly() -> None:
    real = real_diagnoses()["E07501"]
    clear = real.recording.patient_ref
    assert clear is not None
    text = json.dumps(diagnosis_bundle(real.event, patient=real.patient, waveform=real.waveform))
    assert clear not in text
    report, measurements, waveform = _resources(json.loads(text))
    assert waveform is not None
    subjects = [r["subject"] for r in (report, *measurements, waveform)]
    assert all(s == {"type": "Patient", "identifier": {"system": PSEUDONYM_SYSTEM, "value": real.patient.pseudonym}}
               for s in subjects)  # fmt: skip

    chart = PatientIdentity(identifier=clear, identifier_system="urn:oid:1.2.3.4.5", family_name="Doe")
    report = _resources(diagnosis_bundle(real.event, patient=chart))[0]
    assert report["subject"]["identifier"] == {"system": "urn:oid:1.2.3.4.5", "value": clear}
    assert "Doe" not in json.dumps(report), "a name never goes into the Bundle"
    with pytest.raises(ValueError, match="explicit identifier"):
        PatientIdentity(pseudonym="ab", family_name="Doe")
    assert "MRN" not in repr(chart)


def test_transaction_puts_stable_ids_so_a_repeat_updates_the_same_resources() -> None:
    real = real_diagnoses()["JS20001"]
    first = diagnosis_bundle(real.event, patient=real.patient, bundle_type="transaction",
                             timestamp=datetime(2026, 3, 14, 10, tzinfo=UTC))  # fmt: skip
    again = diagnosis_bundle(real.event, patient=real.patient, bundle_type="transaction")
    Bundle.model_validate(first)
    assert [e["request"] for e in first["entry"]] == [e["request"] for e in again["entry"]]
    assert all(e["request"]["method"] == "PUT" for e in first["entry"])
    assert all(e["request"]["url"] == f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in first["entry"])
    other = dataclasses.replace(real.event, recording_id="another-recording")
    assert not {e["resource"]["id"] for e in first["entry"]} & {
        e["resource"]["id"] for e in diagnosis_bundle(other, bundle_type="transaction")["entry"]}  # fmt: skip


def test_modifier_is_coded_with_the_statement_it_qualifies() -> None:
    event = real_diagnoses()["JS20001"].event
    qualified = [s for s in event.statements if s.modifies is not None]
    assert qualified, "JS20001's premature beats carry a frequency modifier (the premise of this test)"
    report = _resources(diagnosis_bundle(event))[0]
    codes = {c["coding"][0]["code"]: c["text"] for c in report["conclusionCode"]}
    for s in qualified:
        assert f"{s.modifies}+{s.code}" in codes
        assert codes[f"{s.modifies}+{s.code}"].endswith(s.description.lower())


def test_confirmed_report_is_final_with_its_interpreter() -> None:
    real = real_diagnoses()["E07501"]
    bundle = diagnosis_bundle(real.event, status="final", confirmed_by="Dr. A. Reader", patient=real.patient)
    Bundle.model_validate(bundle)
    report, measurements, _ = _resources(bundle)
    assert report["status"] == "final" and {o["status"] for o in measurements} == {"final"}
    assert report["resultsInterpreter"] == [{"display": "Dr. A. Reader"}]
    assert "Confirmed by Dr. A. Reader" in report["conclusion"] and "Unconfirmed" not in report["conclusion"]
    with pytest.raises(ValueError, match="confirmed_by"):
        diagnosis_bundle(real.event, status="final")
    with pytest.raises(ValueError, match="not one of"):
        diagnosis_bundle(real.event, status="registered")  # type: ignore[arg-type]


def test_unreadable_diagnosis_has_its_reason_and_no_findings() -> None:
    real = real_diagnoses()["E07501-leads-off"]
    assert not real.event.readable, "four electrodes off make the record unreadable (the premise of this test)"
    bundle = diagnosis_bundle(real.event, patient=real.patient, waveform=real.waveform)
    Bundle.model_validate(bundle)
    report, measurements, waveform = _resources(bundle)
    assert measurements == [] and "conclusionCode" not in report
    assert report["conclusion"].startswith("Unreadable: ")
    assert waveform is not None, "the tracing still goes with it, for the reader"


def test_bad_samples_are_marked_not_invented() -> None:
    real = real_diagnoses()["ludb-1"]
    signal = real.recording.signal.copy()
    signal[0, 10] = np.nan
    waveform = dataclasses.replace(real.waveform, signal=signal)
    bundle = diagnosis_bundle(real.event, waveform=waveform)
    Bundle.model_validate(bundle)
    data = _resources(bundle)[2]["component"][0]["valueSampledData"]["data"].split()  # type: ignore[index]
    assert data[10] == "E" and data[9] != "E" and len(data) == signal.shape[1]
