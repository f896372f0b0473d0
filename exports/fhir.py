"""A diagnosis as a FHIR R4 Bundle: DiagnosticReport, LOINC-coded measurement Observations, the waveform.

``diagnosis_bundle`` is pure (a dict ready for ``json.dumps``; no IO). Contents:

- ``DiagnosticReport``: status ``preliminary`` until a physician confirms (then ``final``, or
  ``corrected``/``amended``; ``entered-in-error`` once a physician rejected it, ``withdrawal_bundle``),
  category HL7 v2-0074 ``EC`` (electrocardiac), code LOINC 11524-6
  "EKG study", the headline and statements in words as ``conclusion`` and each statement as a
  ``conclusionCode`` in ``urn:ecgstream:aha-statement`` (``exports.codes``), ``resultsInterpreter``
  when confirmed, identifier ``urn:ecgstream:recording`` ``<recording id>/<model version>``;
- one ``Observation`` per measured value (heart rate, PR, QRS, QT, QTc Bazett and Fridericia, P/QRS/T
  axes; LOINC, UCUM ``/min``, ``ms``, ``deg``); a value the worker could not measure is left out;
- with a ``Waveform``: one ``Observation`` (MDC_ECG_ELEC_POTL) with a component per lead whose
  ``valueSampledData`` has origin 0 mV, period 1000/fs ms, factor 0.001 (data are whole µV),
  dimensions 1, the samples space-separated (``E`` for a sample that is not a number).

The subject is a logical reference by identifier: the keyed-hash pseudonym by default, a clear
identifier only when the caller passes one (``exports.subject.PatientIdentity``). Resource ids are
UUIDs derived from recording id, model version and role, so an export sent twice (a redelivered
event, a retry) updates the same resources; in a ``transaction`` Bundle every entry is a ``PUT``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from exports.codes import (
    EKG_STUDY,
    LOINC,
    MDC,
    MDC_ECG_ELEC_POTL,
    MDC_LEAD_CODES,
    MEASUREMENT_CODES,
    RECORDING_SYSTEM,
    STATEMENT_SYSTEM,
    UCUM,
)
from exports.subject import PatientIdentity, Waveform
from exports.summary import CodedStatement, summarise, withdrawal_sentences
from exports.timefmt import fhir_instant
from schemas import DiagnosisEvent
from schemas.diagnosis_findings import finite_or_none

__all__ = [
    "ReportStatus", "BundleType", "diagnosis_bundle", "withdrawal_bundle", "resource_id", "FHIR_CONTENT_TYPE",
    "ENTERED_IN_ERROR",
]  # fmt: skip

ReportStatus = Literal["preliminary", "final", "amended", "corrected"]
BundleType = Literal["collection", "transaction"]
REPORT_STATUSES: frozenset[str] = frozenset({"preliminary", "final", "amended", "corrected"})
FHIR_CONTENT_TYPE = "application/fhir+json; fhirVersion=4.0"
ENTERED_IN_ERROR = "entered-in-error"  # a withdrawn report (a physician rejected the interpretation)

_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ecgstream:fhir")
_V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_DEVICE_SYSTEM = "urn:ecgstream:device"
_PROCEDURE = [{"coding": [{"system": _OBSERVATION_CATEGORY, "code": "procedure", "display": "Procedure"}]}]


def resource_id(diagnosis: DiagnosisEvent, role: str) -> str:
    """The stable id of one resource of this diagnosis (``role``: report, waveform, a measurement)."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{diagnosis.recording_id}\x1f{diagnosis.model_version}\x1f{role}"))


def _subject(patient: PatientIdentity | None) -> dict[str, Any] | None:
    identifier = None if patient is None else patient.system_and_value
    if identifier is None:
        return None
    system, value = identifier
    return {"type": "Patient", "identifier": {"system": system, "value": value}}


def _observation(
    diagnosis: DiagnosisEvent, role: str, status: str, code: dict[str, Any], subject: dict[str, Any] | None
) -> dict[str, Any]:
    """The fields every Observation of this diagnosis shares, in FHIR's element order."""
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id(diagnosis, role),
        "status": status,
        "category": _PROCEDURE,
        "code": code,
    }
    if subject is not None:
        observation["subject"] = subject
    if diagnosis.acquired_at is not None:
        observation["effectiveDateTime"] = fhir_instant(diagnosis.acquired_at)
    observation["issued"] = fhir_instant(diagnosis.diagnosed_at)
    return observation


def _measurements(
    diagnosis: DiagnosisEvent, status: str, subject: dict[str, Any] | None, waveform_ref: str | None
) -> list[dict[str, Any]]:
    measured = diagnosis.measurements
    if measured is None or not diagnosis.readable:
        return []
    observations = []
    for spec in MEASUREMENT_CODES:
        value = finite_or_none(getattr(measured, spec.field))
        if value is None:
            continue
        code = {
            "coding": [{"system": LOINC, "code": spec.loinc, "display": spec.display}],
            "text": spec.display if spec.method is None else f"{spec.display} ({spec.method})",
        }
        observation = _observation(diagnosis, spec.field, status, code, subject)
        observation["valueQuantity"] = {"value": round(value), "unit": spec.unit_display, "system": UCUM, "code": spec.unit}
        if spec.method is not None:
            observation["method"] = {"text": spec.method}
        if waveform_ref is not None:
            observation["derivedFrom"] = [{"reference": waveform_ref}]
        observations.append(observation)
    return observations


def _sampled_data(waveform: Waveform, lead: int) -> dict[str, Any]:
    data = " ".join("E" if v is None else str(v) for v in waveform.microvolts(lead))
    return {
        "origin": {"value": 0, "unit": "mV", "system": UCUM, "code": "mV"},
        "period": 1000.0 / float(waveform.fs),
        "factor": 0.001,
        "dimensions": 1,
        "data": data,
    }


def _lead_code(lead: str) -> dict[str, Any]:
    known = MDC_LEAD_CODES.get(lead)
    if known is None:
        return {"text": lead}
    return {"coding": [{"system": MDC, "code": known[0], "display": known[1]}], "text": lead}


def _waveform(diagnosis: DiagnosisEvent, status: str, subject: dict[str, Any] | None, waveform: Waveform) -> dict[str, Any]:
    code = {
        "coding": [{"system": MDC, "code": MDC_ECG_ELEC_POTL[0], "display": MDC_ECG_ELEC_POTL[1]}],
        "text": f"{len(waveform.leads)}-lead ECG waveform",
    }
    observation = _observation(diagnosis, "waveform", status, code, subject)
    if diagnosis.device_id:
        observation["device"] = {"identifier": {"system": _DEVICE_SYSTEM, "value": diagnosis.device_id}}
    observation["component"] = [
        {"code": _lead_code(lead), "valueSampledData": _sampled_data(waveform, i)} for i, lead in enumerate(waveform.leads)
    ]
    return observation


def _report(
    diagnosis: DiagnosisEvent,
    status: str,
    subject: dict[str, Any] | None,
    results: list[str],
    interpreter: str | None,
    conclusion: str,
    statements: tuple[CodedStatement, ...] = (),
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": resource_id(diagnosis, "report"),
        "identifier": [{"system": RECORDING_SYSTEM, "value": f"{diagnosis.recording_id}/{diagnosis.model_version}"}],
        "status": status,
        "category": [{"coding": [{"system": _V2_0074, "code": "EC", "display": "Electrocardiac (e.g., EKG, EEC, Holter)"}]}],
        "code": {"coding": [{"system": LOINC, "code": EKG_STUDY[0], "display": EKG_STUDY[1]}], "text": "12-lead ECG"},
    }  # fmt: skip
    if subject is not None:
        report["subject"] = subject
    if diagnosis.acquired_at is not None:
        report["effectiveDateTime"] = fhir_instant(diagnosis.acquired_at)
    report["issued"] = fhir_instant(diagnosis.diagnosed_at)
    if interpreter:
        report["resultsInterpreter"] = [{"display": interpreter}]
    if results:
        report["result"] = [{"reference": ref} for ref in results]
    report["conclusion"] = conclusion
    if statements:
        report["conclusionCode"] = [
            {"coding": [{"system": STATEMENT_SYSTEM, "code": s.code, "display": s.display}], "text": s.text}
            for s in statements
        ]
    return report


def _entry(resource: dict[str, Any], bundle_type: BundleType) -> dict[str, Any]:
    entry: dict[str, Any] = {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
    if bundle_type == "transaction":
        entry["request"] = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
    return entry


def diagnosis_bundle(
    diagnosis: DiagnosisEvent,
    *,
    status: ReportStatus = "preliminary",
    patient: PatientIdentity | None = None,
    waveform: Waveform | None = None,
    bundle_type: BundleType = "collection",
    confirmed_by: str | None = None,
    timestamp: datetime | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """The FHIR R4 Bundle of one diagnosis (see the module docstring).

    ``status`` ``final`` (or ``corrected``/``amended``) is for a physician-confirmed diagnosis and
    names the physician in ``confirmed_by``; ``comment`` is the physician's free text (part of the
    conclusion); ``timestamp`` (default ``diagnosed_at``) is the Bundle's. ``bundle_type`` ``transaction`` makes every entry a ``PUT`` of its stable id, for
    POSTing to a FHIR server's base URL.
    """
    if status not in REPORT_STATUSES:
        raise ValueError(f"report status {status!r} is not one of {sorted(REPORT_STATUSES)}")
    if status != "preliminary" and not confirmed_by:
        raise ValueError(f"a {status} report needs the physician who confirmed it (confirmed_by)")
    if status == "preliminary" and confirmed_by:
        raise ValueError("a confirmed report is final, corrected or amended, not preliminary")
    subject = _subject(patient)
    waveform_resource = None
    if waveform is not None and waveform.n_values:
        waveform_resource = _waveform(diagnosis, status, subject, waveform)
    waveform_ref = None if waveform_resource is None else f"urn:uuid:{waveform_resource['id']}"
    observations = _measurements(diagnosis, status, subject, waveform_ref)
    results = [f"urn:uuid:{o['id']}" for o in observations] + ([waveform_ref] if waveform_ref else [])
    summary = summarise(diagnosis, confirmed_by=confirmed_by, comment=comment)
    report = _report(diagnosis, status, subject, results, confirmed_by, summary.conclusion, summary.statements)
    return _bundle(diagnosis, [report, *observations, *([waveform_resource] if waveform_resource else [])],
                   bundle_type, timestamp)  # fmt: skip


def withdrawal_bundle(
    diagnosis: DiagnosisEvent,
    *,
    rejected_by: str,
    reason: str | None = None,
    comment: str | None = None,
    patient: PatientIdentity | None = None,
    bundle_type: BundleType = "collection",
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """The Bundle that withdraws the computer's interpretation of ``diagnosis`` after a physician rejected it.

    The same DiagnosticReport (same id and identifier, so the EHR updates the report it has) with
    status ``entered-in-error``, ``resultsInterpreter`` the rejecting physician, the rejection
    (who, ``reason``, the free text ``comment``) as ``conclusion`` and no ``conclusionCode``; its
    measurement Observations (same ids) ``entered-in-error`` too. The waveform Observation is left
    out: the recording itself was not rejected and stays as it is for a new reading.
    """
    subject = _subject(patient)
    observations = _measurements(diagnosis, ENTERED_IN_ERROR, subject, None)
    results = [f"urn:uuid:{o['id']}" for o in observations]
    sentences = withdrawal_sentences(diagnosis.model_version, rejected_by=rejected_by, reason=reason, comment=comment)
    report = _report(diagnosis, ENTERED_IN_ERROR, subject, results, rejected_by, " ".join(sentences))
    return _bundle(diagnosis, [report, *observations], bundle_type, timestamp)


def _bundle(
    diagnosis: DiagnosisEvent, resources: list[dict[str, Any]], bundle_type: BundleType, timestamp: datetime | None
) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "identifier": {"system": RECORDING_SYSTEM, "value": f"{diagnosis.recording_id}/{diagnosis.model_version}"},
        "type": bundle_type,
        "timestamp": fhir_instant(timestamp or diagnosis.diagnosed_at),
        "entry": [_entry(resource, bundle_type) for resource in resources],
    }
