"""Exports of a diagnosis for hospital systems: FHIR R4 Bundles and HL7 v2.5.1 ORU^R01 messages.

Pure builders (no IO): they take a ``schemas.DiagnosisEvent`` (and optionally the patient's
pseudonym or an explicit identifier, and the waveform) and return a JSON-ready dict or ER7 text.
Delivery (topic, HTTP, MLLP) lives in ``stream_processor.export``. Layer: above ``schemas``,
``measurements`` and ``interpretation``; below ``stream_processor``, ``webapp`` and ``ecgstream``.
"""

from exports.codes import MEASUREMENT_CODES, PSEUDONYM_SYSTEM, STATEMENT_SYSTEM
from exports.fhir import FHIR_CONTENT_TYPE, BundleType, ReportStatus, diagnosis_bundle, withdrawal_bundle
from exports.hl7v2 import ResultStatus, message_control_id, oru_r01, oru_r01_withdrawal
from exports.subject import PatientIdentity, Waveform

__all__ = [
    "MEASUREMENT_CODES",
    "PSEUDONYM_SYSTEM",
    "STATEMENT_SYSTEM",
    "FHIR_CONTENT_TYPE",
    "BundleType",
    "ReportStatus",
    "ResultStatus",
    "PatientIdentity",
    "Waveform",
    "diagnosis_bundle",
    "message_control_id",
    "oru_r01",
    "withdrawal_bundle",
    "oru_r01_withdrawal",
]
