"""A physician's confirmed overread as the diagnosis the exports send (pure; no IO).

The overread event (``schemas.overread_event``) carries the statements after the overread; the
measurements, quality and times come from the stored diagnosis (``storage.DiagnosisView``). The
result keeps the diagnosis's recording id and model version, so the FHIR resources keep their ids
(the EHR updates the preliminary report instead of filing a second ECG), with the physician's
statements (provenance ``physician``, definite) and the overread's time as ``diagnosed_at`` (the
report's "issued": when this version was made available).

Statuses: the first confirmed version is FHIR ``final`` / HL7 ``F``; a later confirm or edit
replaces an earlier confirmed version: FHIR ``amended`` / HL7 ``C`` (corrected). A rejection
withdraws the computer's interpretation (``rejected_export``): the stored diagnosis with the
computer's own statements, sent as FHIR ``entered-in-error`` / HL7 OBX-11 ``W``
(``exports.withdrawal_bundle``, ``exports.oru_r01_withdrawal``) with the physician's reason.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from exports import ReportStatus, ResultStatus
from schemas import DiagnosisEvent, EventMeasurements, EventQuality, Statement
from schemas.overread_event import OverreadEvent
from storage import DiagnosisView

__all__ = ["ConfirmedExport", "RejectedExport", "confirmed_export", "rejected_export"]


@dataclass(frozen=True)
class ConfirmedExport:
    diagnosis: DiagnosisEvent
    report_status: ReportStatus
    result_status: ResultStatus
    confirmed_by: str
    comment: str | None
    revision: int


@dataclass(frozen=True)
class RejectedExport:
    diagnosis: DiagnosisEvent  # the computer's diagnosis as stored, issued at the rejection
    rejected_by: str
    reason: str | None
    comment: str | None
    revision: int


_STATEMENT_FIELDS = frozenset(f.name for f in fields(Statement))


def _stored_statement(item: dict[str, Any]) -> Statement:
    """A stored statement (``diagnoses.statements`` item; older rows lack the newer fields)."""
    values = {name: value for name, value in item.items() if name in _STATEMENT_FIELDS}
    values.setdefault("probability", None)
    return Statement(**values)


def _diagnosis(
    view: DiagnosisView, overread: OverreadEvent, statements: list[Statement], *, read_by_physician: bool
) -> DiagnosisEvent:
    """The stored diagnosis with ``statements``, issued at the overread; ``read_by_physician``: a
    physician stated what the computer found unreadable, so it counts as read."""
    quality = None if view.quality is None else EventQuality.from_record(view.quality)
    if read_by_physician and quality is not None and quality.verdict == "unreadable":
        quality = None
    return DiagnosisEvent(
        recording_id=view.recording_id,
        model_version=overread.model_version,
        statements=statements,
        probabilities={},
        device_id=view.device_id,
        acquired_at=view.acquired_at,
        ingested_at=view.ingested_at,
        diagnosed_at=overread.at,
        readable=view.readable or read_by_physician,
        unreadable_reasons=[] if read_by_physician else list(view.unreadable_reasons or []),
        measurements=None if view.measurements is None else EventMeasurements.from_record(view.measurements),
        quality=quality,
    )


def confirmed_export(view: DiagnosisView, overread: OverreadEvent) -> ConfirmedExport:
    """The export of a confirm or edit; ``ValueError`` for a rejection."""
    if not overread.confirms:
        raise ValueError("a rejected interpretation is not confirmed (rejected_export withdraws it)")
    statements = [
        Statement(s.code, s.description, None, "physician", "confirmed by the reading physician", s.modifies, "definite")
        for s in overread.statements
    ]
    # a physician who states what the computer found unreadable has read it: the statements stand
    diagnosis = _diagnosis(view, overread, statements, read_by_physician=bool(statements))
    amended = overread.amends_version is not None
    return ConfirmedExport(
        diagnosis=diagnosis,
        report_status="amended" if amended else "final",
        result_status="C" if amended else "F",
        confirmed_by=overread.reader,
        comment=overread.free_text,
        revision=overread.version,
    )


def rejected_export(view: DiagnosisView, overread: OverreadEvent) -> RejectedExport:
    """The withdrawal of the computer's interpretation a rejection asks for; ``ValueError`` for a
    confirm or an edit. The diagnosis keeps the computer's statements and measurements, so the
    withdrawal names the very resources and observations the preliminary export sent."""
    if overread.confirms:
        raise ValueError("a confirmed interpretation is not withdrawn (confirmed_export exports it)")
    statements = [_stored_statement(item) for item in view.statements]
    return RejectedExport(
        diagnosis=_diagnosis(view, overread, statements, read_by_physician=False),
        rejected_by=overread.reader,
        reason=overread.reason,
        comment=overread.free_text,
        revision=overread.version,
    )
