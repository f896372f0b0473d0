"""Export one diagnosis or overread event: FHIR Bundle to the FHIR topic, then to the FHIR server and
the HL7 receiver.

For each event, in order (the consumer commits its offset only after all of them):

1. the patient's pseudonym and the samples from the database (``storage.load_export_context``;
   retried while the database is down);
2. the FHIR transaction Bundle (``exports.diagnosis_bundle``, status preliminary: the worker's
   diagnosis is unconfirmed) published to ``FHIR_TOPIC`` keyed by recording id (retried until the
   broker takes it: the topic is the durable record, from which any failed delivery can be replayed);
3. when ``FHIR_BASE_URL`` is set, the Bundle POSTed there; when ``HL7_MLLP_HOST`` is set, the
   ORU^R01 (``exports.oru_r01``, result status P) sent over MLLP; each at most
   ``EXPORT_MAX_ATTEMPTS`` attempts, then logged (recording id only) and counted as failed.

A physician's confirmed overread (``ecg.overreads.v1``, ``export_overread``) goes the same way with
the physician's statements and free text: the stored diagnosis is read back for its measurements
(``stream_processor.export.overread``), the Bundle's report is ``final`` (first confirmed version)
or ``amended`` (a later one) naming the physician, the ORU^R01 has result status F or C and a
message control id per overread version. A rejection withdraws what the preliminary export sent:
the same report and measurement Observations ``entered-in-error`` with the physician's reason as
conclusion (``exports.withdrawal_bundle``), and an ORU^R01 for the same order with OBR-25 C and
every OBX-11 W, "post original as wrong" (``exports.oru_r01_withdrawal``), its message control id
per overread version.

The samples go into the Bundle only up to ``MAX_WAVEFORM_VALUES`` (60 s x 12 leads at 500 Hz, about
2 MB of JSON), so every Bundle fits the topic's ``max.message.bytes``; longer or faster recordings are
exported without the waveform (and say so in the log).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from exports import (
    FHIR_CONTENT_TYPE,
    PatientIdentity,
    Waveform,
    diagnosis_bundle,
    message_control_id,
    oru_r01,
    oru_r01_withdrawal,
    withdrawal_bundle,
)
from exports.fhir import ENTERED_IN_ERROR
from schemas import DiagnosisEvent, EncodedEvent
from schemas.headers import build_headers
from schemas.overread_event import OverreadEvent
from storage import DatabaseUnavailable, DiagnosisView
from storage.export_context import ExportContext
from stream_processor.export.delivery import RetryPolicy, deliver_with_retries
from stream_processor.export.fhir_client import FhirClient
from stream_processor.export.metrics import ExportMetrics
from stream_processor.export.mllp import MllpClient
from stream_processor.export.overread import (
    ConfirmedExport,
    RejectedExport,
    confirmed_export,
    rejected_export,
)
from stream_processor.publishing import ResultPublisher
from stream_processor.retry import retry_forever

__all__ = ["DiagnosisExporter", "ExportTargets", "fhir_topic_event", "MAX_WAVEFORM_VALUES", "FHIR_EVENT_TYPE"]

logger = logging.getLogger(__name__)

MAX_WAVEFORM_VALUES = 12 * 60 * 500
T = TypeVar("T")
OverreadExport = ConfirmedExport | RejectedExport
FHIR_EVENT_TYPE = "org.ecgstream.diagnosis.fhir"


@dataclass(frozen=True)
class ExportTargets:
    """Where Bundles and messages go besides the topic; None = not configured."""

    fhir_topic: str
    fhir: FhirClient | None = None
    mllp: MllpClient | None = None
    retry: RetryPolicy = RetryPolicy()
    waveform: bool = True
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    db_retry_max_seconds: float = 30.0


def fhir_topic_event(bundle: dict[str, object], recording_id: str, *, time: datetime) -> EncodedEvent:
    """The FHIR topic's message: key recording id, value the Bundle's JSON, CloudEvents headers."""
    headers = [
        (name, FHIR_CONTENT_TYPE.encode() if name == "content-type" else value)
        for name, value in build_headers(FHIR_EVENT_TYPE, 1, source="ecgstream-export", time=time)
    ]
    value = json.dumps(bundle, separators=(",", ":")).encode("utf-8")
    return EncodedEvent(key=recording_id.encode("utf-8"), value=value, headers=headers)


def _waveform(context: ExportContext | None, recording_id: str) -> Waveform | None:
    if context is None or context.signal is None or context.fs is None:
        return None
    if context.signal.size > MAX_WAVEFORM_VALUES:
        logger.warning("waveform left out of the export: too many samples",
                       extra={"recording_id": recording_id, "values": int(context.signal.size)})  # fmt: skip
        return None
    return Waveform(context.signal, context.fs, context.leads)


class DiagnosisExporter:
    """Turns one diagnosis event into a published Bundle and the configured deliveries."""

    def __init__(
        self,
        targets: ExportTargets,
        publisher: ResultPublisher,
        lookup: Callable[[str], Awaitable[ExportContext | None]],
        metrics: ExportMetrics,
        find_diagnosis: Callable[[str], Awaitable[DiagnosisView | None]] | None = None,
    ) -> None:
        self.targets = targets
        self.publisher = publisher
        self.lookup = lookup
        self.metrics = metrics
        self.find_diagnosis = find_diagnosis  # the stored diagnosis an overread confirms

    async def _retry_db(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        return await retry_forever(call, transient=(DatabaseUnavailable,), what=what,
                                   max_delay=self.targets.db_retry_max_seconds)  # fmt: skip

    async def export(self, event: DiagnosisEvent) -> None:
        """The computer's (preliminary) diagnosis."""
        await self._export(event, None)

    async def export_overread(self, overread: OverreadEvent) -> bool:
        """A physician's overread: a confirm or edit as final / amended (F / C), a rejection as the
        withdrawal of the preliminary result (entered-in-error / W); False when there is nothing to
        export (a recording whose diagnosis is not stored)."""
        if self.find_diagnosis is None:
            raise RuntimeError("this exporter has no diagnosis lookup for overreads")
        find = self.find_diagnosis
        view = await self._retry_db(lambda: find(overread.recording_id), "diagnosis lookup")
        if view is None:
            self.metrics.skipped.labels(reason="unknown_recording").inc()
            logger.warning("overread of a recording without a stored diagnosis; skipped",
                           extra={"recording_id": overread.recording_id, "version": overread.version})  # fmt: skip
            return False
        if overread.confirms:
            confirmed = confirmed_export(view, overread)
            await self._export(confirmed.diagnosis, confirmed)
            self.metrics.confirmed_exports.labels(status=confirmed.report_status).inc()
            return True
        rejected = rejected_export(view, overread)
        await self._export(rejected.diagnosis, rejected)
        self.metrics.confirmed_exports.labels(status=ENTERED_IN_ERROR).inc()
        logger.info("rejected interpretation withdrawn", extra={"recording_id": overread.recording_id,
                                                                "version": overread.version})  # fmt: skip
        return True

    async def _export(self, event: DiagnosisEvent, overread: OverreadExport | None) -> None:
        targets = self.targets
        context = await self._retry_db(lambda: self.lookup(event.recording_id), "export context lookup")
        if context is None:
            logger.warning("recording not in the database; exported without patient",
                           extra={"recording_id": event.recording_id})  # fmt: skip
        patient = PatientIdentity(pseudonym=None if context is None else context.patient_ref_hash)
        if isinstance(overread, RejectedExport):
            bundle = withdrawal_bundle(event, rejected_by=overread.rejected_by, reason=overread.reason,
                                       comment=overread.comment, patient=patient, bundle_type="transaction")  # fmt: skip
        else:
            waveform = _waveform(context, event.recording_id) if targets.waveform else None
            if overread is None:
                bundle = diagnosis_bundle(event, patient=patient, waveform=waveform, bundle_type="transaction")
            else:
                bundle = diagnosis_bundle(event, status=overread.report_status, patient=patient, waveform=waveform,
                                          bundle_type="transaction", confirmed_by=overread.confirmed_by,
                                          comment=overread.comment)  # fmt: skip
        message = fhir_topic_event(bundle, event.recording_id, time=datetime.now(UTC))
        await retry_forever(
            lambda: self.publisher.publish(targets.fhir_topic, [message]),
            transient=lambda _exc: True,
            what=f"publish to {targets.fhir_topic}",
            max_delay=targets.retry.max_seconds,
        )
        self.metrics.bundles_published.inc()
        if targets.fhir is not None:
            await self._post(targets.fhir, bundle, event.recording_id)
        if targets.mllp is not None:
            await self._send_hl7(targets.mllp, event, patient, overread)

    async def _post(self, client: FhirClient, bundle: dict[str, object], recording_id: str) -> None:
        outcome = await deliver_with_retries(
            lambda: client.post_bundle(bundle),
            self.targets.retry,
            receiver="fhir",
            recording_id=recording_id,
            on_retry=self.metrics.retries.labels(receiver="fhir").inc,
        )
        self.metrics.fhir_deliveries.labels(outcome=outcome).inc()

    async def _send_hl7(
        self, client: MllpClient, event: DiagnosisEvent, patient: PatientIdentity, overread: OverreadExport | None
    ) -> None:
        text, control_id = self._hl7_message(event, patient, overread)
        outcome = await deliver_with_retries(
            lambda: client.send(text, control_id),
            self.targets.retry,
            receiver="hl7",
            recording_id=event.recording_id,
            on_retry=self.metrics.retries.labels(receiver="hl7").inc,
        )
        self.metrics.hl7_deliveries.labels(outcome=outcome).inc()

    def _hl7_message(
        self, event: DiagnosisEvent, patient: PatientIdentity, overread: OverreadExport | None
    ) -> tuple[str, str]:
        """The ER7 text and its message control id (MSH-10)."""
        targets = self.targets
        if isinstance(overread, RejectedExport):
            text = oru_r01_withdrawal(
                event, rejected_by=overread.rejected_by, reason=overread.reason, comment=overread.comment,
                patient=patient, revision=overread.revision, sending_facility=targets.sending_facility,
                receiving_application=targets.receiving_application, receiving_facility=targets.receiving_facility,
            )  # fmt: skip
            return text, message_control_id(event, "W", overread.revision)
        status = "P" if overread is None else overread.result_status
        revision = None if overread is None else overread.revision
        text = oru_r01(
            event,
            result_status=status,
            patient=patient,
            confirmed_by=None if overread is None else overread.confirmed_by,
            comment=None if overread is None else overread.comment,
            revision=revision,
            sending_facility=targets.sending_facility,
            receiving_application=targets.receiving_application,
            receiving_facility=targets.receiving_facility,
        )
        return text, message_control_id(event, status, revision)
