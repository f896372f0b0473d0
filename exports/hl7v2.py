"""A diagnosis as an HL7 v2.5.1 ORU^R01 message (built with hl7apy; pure, no IO).

Segments: ``MSH`` (sending application ECGSTREAM, message type ORU^R01^ORU_R01, processing id P,
version 2.5.1, UTF-8), ``PID`` (the patient only by the keyed-hash pseudonym, identifier type
ANON and name type S "coded pseudo-name", unless the caller passes a clear identifier), ``OBR``
(LOINC 11524-6 EKG study, filler order number = recording id, diagnostic service section EC,
result status P preliminary / F final / C corrected, principal result interpreter when confirmed),
``NTE`` (only in a withdrawal, ``oru_r01_withdrawal``: who rejected the interpretation and why),
then ``OBX`` segments: one NM per measured value (LOINC code, UCUM units, QTc with the formula as
observation method), one TX "EKG impression" (LOINC 8601-7) with the interpretation in words and
the abnormal flag (N, A, AA critical), and one CWE per statement (local coding system
``99ECGAHA``, the codes of ``urn:ecgstream:aha-statement``). Text is escaped with the standard
HL7 escape sequences (``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\``); segments end with carriage returns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message

from exports.codes import (
    EKG_IMPRESSION,
    EKG_STUDY,
    HL7_STATEMENT_SYSTEM,
    MEASUREMENT_CODES,
    PSEUDONYM_SYSTEM,
    RECORDING_SYSTEM,
)
from exports.subject import PatientIdentity
from exports.summary import Summary, summarise, withdrawal_sentences
from exports.timefmt import hl7_timestamp
from schemas import DiagnosisEvent
from schemas.diagnosis_findings import finite_or_none

__all__ = [
    "ResultStatus", "oru_r01", "oru_r01_withdrawal", "message_control_id", "hl7_escape", "hl7_fit", "text_lines",
    "SENDING_APPLICATION",
]  # fmt: skip

ResultStatus = Literal["P", "F", "C"]
RESULT_STATUSES: frozenset[str] = frozenset({"P", "F", "C"})
SENDING_APPLICATION = "ECGSTREAM"
_QTC_SUB_IDS = {"Bazett": "1", "Fridericia": "2"}  # OBX-4: the two QTc values under one LOINC code
MAX_TEXT_CHARS = 199  # hl7apy checks OBX-5 as ST (max 199) whatever OBX-2 says: one TX repetition each
_MAX_WORD = 60  # escaped, at most 180 characters
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))


def hl7_escape(text: str) -> str:
    """``text`` safe inside one HL7 component (delimiters escaped, line breaks made spaces)."""
    for char, sequence in _ESCAPES:
        text = text.replace(char, sequence)
    return " ".join(text.splitlines())


def hl7_fit(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` escaped and cut (with "...") so that the escaped form has at most ``limit`` characters."""
    escaped = hl7_escape(text)
    if len(escaped) <= limit:
        return escaped
    kept, size = [], 3
    for char in " ".join(text.splitlines()):
        piece = hl7_escape(char)
        if size + len(piece) > limit:
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept) + "..."


def text_lines(sentences: tuple[str, ...] | list[str]) -> list[str]:
    """Sentences as escaped TX lines (OBX-5 repetitions) of at most ``MAX_TEXT_CHARS`` characters.

    A long sentence is wrapped at word boundaries (a word longer than ``_MAX_WORD`` is cut), so no
    escape sequence is ever split and every repetition fits hl7apy's strict length check.
    """
    lines: list[str] = []
    for sentence in sentences:
        words = [hl7_escape(word[i : i + _MAX_WORD]) for word in sentence.split() for i in range(0, len(word), _MAX_WORD)]
        line = ""
        for word in words:
            if line and len(line) + 1 + len(word) > MAX_TEXT_CHARS:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line:
            lines.append(line)
    return lines


def message_control_id(diagnosis: DiagnosisEvent, result_status: str, revision: int | None = None) -> str:
    """MSH-10: 20 hex characters fixed by recording, model version, status and (for overreads) the
    overread version ``revision``.

    A redelivered event or a retried send carries the same id, so a receiver can drop the duplicate;
    the confirmed (F/C) version of the same diagnosis has another, and each later correction another.
    """
    suffix = "" if revision is None else f"\x1f{revision}"
    material = f"{diagnosis.recording_id}\x1f{diagnosis.model_version}\x1f{result_status}{suffix}".encode()
    return hashlib.sha256(material).hexdigest()[:20]


def _patient_fields(patient: PatientIdentity | None, recording_id: str) -> tuple[str, str]:
    """PID-3 and PID-5. Without any patient reference PID-3 (required) is an anonymous id of this
    recording, so a receiver files the ECG under an unidentified patient of its own, never under
    somebody else's."""
    if patient is not None and patient.explicit and patient.identifier and patient.identifier_system:
        pid3 = f"{hl7_escape(patient.identifier)}^^^&{hl7_escape(patient.identifier_system)}&URI^MR"
        if patient.family_name or patient.given_name:
            return pid3, f"{hl7_escape(patient.family_name or '')}^{hl7_escape(patient.given_name or '')}"
        return pid3, "^^^^^^U"  # name type U: unspecified
    if patient is not None and patient.pseudonym:
        return f"{hl7_escape(patient.pseudonym)}^^^{SENDING_APPLICATION}&{PSEUDONYM_SYSTEM}&URI^ANON", "^^^^^^S"
    return f"{hl7_escape(recording_id)}^^^{SENDING_APPLICATION}&{RECORDING_SYSTEM}&URI^ANON", "^^^^^^S"


def _obx(order: Any, fields: dict[str, str | list[str]]) -> None:
    """One OBX; a list value becomes that field's repetitions."""
    segment = order.add_group("ORU_R01_OBSERVATION").add_segment("OBX")
    for name, value in fields.items():
        for repetition in [value] if isinstance(value, str) else value:
            if repetition:
                segment.add_field(name.upper()).value = repetition


def oru_r01(
    diagnosis: DiagnosisEvent,
    *,
    result_status: ResultStatus = "P",
    patient: PatientIdentity | None = None,
    confirmed_by: str | None = None,
    sending_facility: str = "",
    receiving_application: str = "",
    receiving_facility: str = "",
    message_time: datetime | None = None,
    comment: str | None = None,
    revision: int | None = None,
) -> str:
    """The ORU^R01 of one diagnosis as ER7 text (segments separated by ``\\r``).

    ``result_status`` F (final) or C (corrected) is for a confirmed diagnosis and needs
    ``confirmed_by``; ``comment`` is the physician's free text (a sentence of the impression);
    ``revision`` the overread version (part of MSH-10); ``message_time`` (MSH-7) defaults to now.
    """
    if result_status not in RESULT_STATUSES:
        raise ValueError(f"result status {result_status!r} is not one of {sorted(RESULT_STATUSES)}")
    if (result_status != "P") != bool(confirmed_by):
        raise ValueError("F and C results name the physician who confirmed them (confirmed_by); P results none")
    return _message(
        diagnosis,
        summarise(diagnosis, confirmed_by=confirmed_by, comment=comment),
        _Header(message_control_id(diagnosis, result_status, revision), message_time, sending_facility,
                receiving_application, receiving_facility),
        patient=patient, order_status=result_status, observation_status=result_status, interpreter=confirmed_by,
    )  # fmt: skip


def oru_r01_withdrawal(
    diagnosis: DiagnosisEvent,
    *,
    rejected_by: str,
    reason: str | None = None,
    comment: str | None = None,
    patient: PatientIdentity | None = None,
    revision: int | None = None,
    sending_facility: str = "",
    receiving_application: str = "",
    receiving_facility: str = "",
    message_time: datetime | None = None,
) -> str:
    """The ORU^R01 that withdraws the preliminary result of ``diagnosis`` after a physician rejected it.

    The same order (OBR-3 recording id) and the same OBX segments as the preliminary message (same
    OBX-3 / OBX-4, the computer's values), each with OBX-11 ``W``: HL7 table 0085 "post original as
    wrong", so the receiver marks the results it holds as wrong. OBR-25 is ``C`` of table 0123,
    "correction to results": the only status that tells a receiver to replace what it was sent for
    this order; ``X`` ("no results available; order canceled") would claim the ECG was cancelled, but
    it was recorded and may be read again, and ``F`` / ``A`` / ``P`` would present the withdrawn values
    as (some of) the order's results. OBR-32 names the rejecting physician; an NTE after the OBR
    (source L, the filler; type RE, remark) says who rejected it, why and the free text. MSH-10 is
    ``message_control_id(diagnosis, "W", revision)``: one id per overread version.
    """
    if not rejected_by:
        raise ValueError("a withdrawal names the physician who rejected the interpretation (rejected_by)")
    notes = withdrawal_sentences(diagnosis.model_version, rejected_by=rejected_by, reason=reason, comment=comment)
    return _message(
        diagnosis,
        summarise(diagnosis),
        _Header(message_control_id(diagnosis, "W", revision), message_time, sending_facility, receiving_application,
                receiving_facility),
        patient=patient, order_status="C", observation_status="W", interpreter=rejected_by, notes=notes,
    )  # fmt: skip


@dataclass(frozen=True)
class _Header:
    control_id: str
    message_time: datetime | None
    sending_facility: str
    receiving_application: str
    receiving_facility: str


def _message(
    diagnosis: DiagnosisEvent,
    summary: Summary,
    header: _Header,
    *,
    patient: PatientIdentity | None,
    order_status: str,
    observation_status: str,
    interpreter: str | None,
    notes: tuple[str, ...] = (),
) -> str:
    """The ER7 text: MSH, PID, OBR (result status ``order_status``), NTE ``notes``, the OBX segments
    of ``summary`` and the measurements, each with result status ``observation_status``."""
    message = Message("ORU_R01", version="2.5.1", validation_level=VALIDATION_LEVEL.STRICT)
    msh = message.msh
    msh.msh_3 = SENDING_APPLICATION
    if header.sending_facility:
        msh.msh_4 = hl7_escape(header.sending_facility)
    if header.receiving_application:
        msh.msh_5 = hl7_escape(header.receiving_application)
    if header.receiving_facility:
        msh.msh_6 = hl7_escape(header.receiving_facility)
    msh.msh_7 = hl7_timestamp(header.message_time or datetime.now(UTC))
    msh.msh_9 = "ORU^R01^ORU_R01"
    msh.msh_10 = header.control_id
    msh.msh_11 = "P"
    msh.msh_18 = "UNICODE UTF-8"

    result = message.add_group("ORU_R01_PATIENT_RESULT")
    pid = result.add_group("ORU_R01_PATIENT").pid
    pid.pid_1 = "1"
    identifier, name = _patient_fields(patient, diagnosis.recording_id)
    pid.pid_3 = identifier
    pid.pid_5 = name

    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    obr = order.obr
    obr.obr_1 = "1"
    obr.obr_3 = f"{hl7_escape(diagnosis.recording_id)}^{SENDING_APPLICATION}"
    obr.obr_4 = f"{EKG_STUDY[0]}^{EKG_STUDY[1]}^LN"
    observed = diagnosis.acquired_at
    if observed is not None:
        obr.obr_7 = hl7_timestamp(observed)
    obr.obr_22 = hl7_timestamp(diagnosis.diagnosed_at)
    obr.obr_24 = "EC"
    obr.obr_25 = order_status
    if interpreter:
        obr.obr_32 = f"&{hl7_escape(interpreter)}"
    if notes:
        nte = order.add_segment("NTE")
        nte.nte_1 = "1"
        nte.nte_2 = "L"  # table 0105: the filler (ecgstream, for the reading physician) is the source
        for line in text_lines(notes):
            nte.add_field("NTE_3").value = line
        nte.nte_4 = "RE^Remark^HL70364"

    when = "" if observed is None else hl7_timestamp(observed)
    sequence = 0
    measured = diagnosis.measurements if diagnosis.readable else None
    for spec in MEASUREMENT_CODES if measured is not None else ():
        value = finite_or_none(getattr(measured, spec.field))
        if value is None:
            continue
        sequence += 1
        _obx(order, {
            "obx_1": str(sequence), "obx_2": "NM", "obx_3": f"{spec.loinc}^{spec.display}^LN",
            "obx_4": _QTC_SUB_IDS.get(spec.method or "", ""), "obx_5": str(round(value)),
            "obx_6": f"{spec.unit}^{spec.unit_display}^UCUM", "obx_11": observation_status, "obx_14": when,
            "obx_17": "" if spec.method is None else f"^{spec.method}",
        })  # fmt: skip
    sequence += 1
    _obx(order, {
        "obx_1": str(sequence), "obx_2": "TX", "obx_3": f"{EKG_IMPRESSION[0]}^{EKG_IMPRESSION[1]}^LN", "obx_4": "1",
        "obx_5": text_lines(summary.sentences), "obx_8": summary.abnormal_flag or "", "obx_11": observation_status,
        "obx_14": when,
    })  # fmt: skip
    for sub_id, statement in enumerate(summary.statements, start=2):
        sequence += 1
        _obx(order, {
            "obx_1": str(sequence), "obx_2": "CWE", "obx_3": f"{EKG_IMPRESSION[0]}^{EKG_IMPRESSION[1]}^LN",
            "obx_4": str(sub_id),
            "obx_5": f"{hl7_escape(statement.code)}^{hl7_fit(statement.text)}^{HL7_STATEMENT_SYSTEM}",
            "obx_11": observation_status, "obx_14": when,
        })  # fmt: skip
    return str(message.to_er7())
