"""The code systems of the exports: LOINC, UCUM, IEEE 11073 MDC, HL7 tables, and our statement codes.

LOINC codes of the 12-lead EKG panel (LOINC 34534-8), as listed in the US Core value set
"US Core Clinical Test Codes" (http://hl7.org/fhir/us/core/ValueSet/us-core-clinical-test-codes,
US Core 5.0.0, LOINC 2.72): 8867-4 heart rate, 8625-6 P-R interval, 8633-0 QRS duration, 8634-8
Q-T interval, 8636-3 Q-T interval corrected, 8626-4 P wave axis, 8632-2 QRS axis, 8638-9 T wave
axis, 8601-7 EKG impression; 11524-6 EKG study (the report). Every code's last digit is LOINC's
mod-10 check digit (``loinc_check_digit``; the tests recompute it), which is how the near-miss
codes 8633-2, 8634-0, 8636-5, 8632-4 and 8638-3 were found to be invalid.

Waveform channels: IEEE 11073-10101 MDC codes in the FHIR ``urn:oid:2.16.840.1.113883.6.24`` system,
``MDC_ECG_ELEC_POTL`` = 131328 (partition 2, 256) plus the ISO/IEEE 11073-10102 lead number
(I 1, II 2, V1-V6 3-8, III 61, aVR 62, aVL 63, aVF 64), as in the FHIR R4 example Observation/ekg
(observation-example-sample-data: 131329 lead I, 131330 lead II, 131389 lead III).

Statements: the SPH data set's AHA statement codes (Mason et al., AHA/ACCF/HRS recommendations for
the standardization and interpretation of the ECG, part I, 2007) have no registered URI, so they
travel under ``STATEMENT_SYSTEM``; a modifier that qualifies a statement is coded in SPH's grammar
``<statement>+<modifier>`` (``30+310``: atrial premature complexes, frequent).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "LOINC",
    "UCUM",
    "MDC",
    "STATEMENT_SYSTEM",
    "PSEUDONYM_SYSTEM",
    "RECORDING_SYSTEM",
    "HL7_STATEMENT_SYSTEM",
    "EKG_STUDY",
    "EKG_IMPRESSION",
    "MeasurementCode",
    "MEASUREMENT_CODES",
    "MDC_ECG_ELEC_POTL",
    "MDC_LEAD_CODES",
    "loinc_check_digit",
    "statement_code",
]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
MDC = "urn:oid:2.16.840.1.113883.6.24"  # IEEE 11073-10101 (FHIR's system for MDC codes)
STATEMENT_SYSTEM = "urn:ecgstream:aha-statement"  # SPH/AHA statement codes (see the module docstring)
PSEUDONYM_SYSTEM = "urn:ecgstream:patient-hmac-sha256"  # keyed hash of the patient reference (schemas.pseudonym)
RECORDING_SYSTEM = "urn:ecgstream:recording"  # recording id [/ model version]
HL7_STATEMENT_SYSTEM = "99ECGAHA"  # HL7 v2 local coding system name (table 0396: 99zzz) for the same codes

EKG_STUDY = ("11524-6", "EKG study")
EKG_IMPRESSION = ("8601-7", "EKG impression")


@dataclass(frozen=True)
class MeasurementCode:
    """One measurement of ``schemas.EventMeasurements`` as LOINC code and UCUM unit."""

    field: str  # EventMeasurements attribute
    loinc: str
    display: str
    unit: str  # UCUM code
    unit_display: str
    method: str | None = None  # e.g. the QTc formula


MEASUREMENT_CODES: tuple[MeasurementCode, ...] = (
    MeasurementCode("heart_rate_bpm", "8867-4", "Heart rate", "/min", "beats/minute"),
    MeasurementCode("pr_ms", "8625-6", "P-R interval", "ms", "ms"),
    MeasurementCode("qrs_ms", "8633-0", "QRS duration", "ms", "ms"),
    MeasurementCode("qt_ms", "8634-8", "Q-T interval", "ms", "ms"),
    MeasurementCode("qtc_bazett_ms", "8636-3", "Q-T interval corrected", "ms", "ms", "Bazett"),
    MeasurementCode("qtc_fridericia_ms", "8636-3", "Q-T interval corrected", "ms", "ms", "Fridericia"),
    MeasurementCode("p_axis_deg", "8626-4", "P wave axis", "deg", "degrees"),
    MeasurementCode("qrs_axis_deg", "8632-2", "QRS axis", "deg", "degrees"),
    MeasurementCode("t_axis_deg", "8638-9", "T wave axis", "deg", "degrees"),
)

MDC_ECG_ELEC_POTL = ("131328", "MDC_ECG_ELEC_POTL")
_LEAD_NUMBERS = {
    "I": 1, "II": 2, "V1": 3, "V2": 4, "V3": 5, "V4": 6, "V5": 7, "V6": 8,
    "III": 61, "aVR": 62, "aVL": 63, "aVF": 64,
}  # fmt: skip
MDC_LEAD_CODES: dict[str, tuple[str, str]] = {
    lead: (str(131328 + number), f"MDC_ECG_ELEC_POTL_{lead.upper()}") for lead, number in _LEAD_NUMBERS.items()
}


def loinc_check_digit(number: str) -> int:
    """LOINC's mod-10 check digit of the code's digits before the hyphen.

    The digits in odd positions from the right form a number that is doubled; its digits and
    the digits in even positions are summed; the check digit brings the sum to a multiple of 10.
    """
    reverse = number[::-1]
    odd = reverse[0::2][::-1]
    even = reverse[1::2][::-1]
    total = sum(int(d) for d in even + str(int(odd) * 2))
    return (10 - total % 10) % 10


def statement_code(code: int, modifies: int | None) -> str:
    """The statement's code in ``STATEMENT_SYSTEM``: ``21``, or ``30+310`` for a qualifying modifier."""
    return str(code) if modifies is None else f"{modifies}+{code}"
