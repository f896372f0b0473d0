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
message control id per overread version. A rejection confirms nothing: it is counted and skipped.

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
)
from schemas import DiagnosisEvent, EncodedEvent
from schemas.headers import build_headers
from schemas.overread_event import OverreadEvent
from storage import DatabaseUnavailable, DiagnosisView
from storage.export_context import ExportContext
from stream_processor.export.delivery import RetryPolicy, deliver_with_retries
from stream_processor.export.fhir_client import FhirClient
from stream_processor.export.metrics import ExportMetrics
from stream_processor.export.mllp import MllpClient
from stream_processor.export.overread import ConfirmedExport, confirmed_export
from stream_processor.publishing import ResultPublisher
from stream_processor.retry import retry_forever

__all__ = ["DiagnosisExporter", "ExportTargets", "fhir_topic_event", "MAX_WAVEFORM_VALUES", "FHIR_EVENT_TYPE"]

logger = logging.getLogger(__name__)

MAX_WAVEFORM_VALUES = 12 * 60 * 500
T = TypeVar("T")
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
        """A confirmed overread (final / amended, F / C); False when there is nothing to export (a
        rejection, or a recording whose diagnosis is not stored)."""
        if not overread.confirms:
            self.metrics.skipped.labels(reason="overread_rejected").inc()
            logger.info("rejected interpretation not exported", extra={"recording_id": overread.recording_id,
                                                                       "version": overread.version})  # fmt: skip
            return False
        if self.find_diagnosis is None:
            raise RuntimeError("this exporter has no diagnosis lookup for overreads")
        find = self.find_diagnosis
        view = await self._retry_db(lambda: find(overread.recording_id), "diagnosis lookup")
        if view is None:
            self.metrics.skipped.labels(reason="unknown_recording").inc()
            logger.warning("overread of a recording without a stored diagnosis; skipped",
                           extra={"recording_id": overread.recording_id, "version": overread.version})  # fmt: skip
            return False
        confirmed = confirmed_export(view, overread)
        await self._export(confirmed.diagnosis, confirmed)
        self.metrics.confirmed_exports.labels(status=confirmed.report_status).inc()
        return True

    async def _export(self, event: DiagnosisEvent, confirmed: ConfirmedExport | None) -> None:
        targets = self.targets
        context = await self._retry_db(lambda: self.lookup(event.recording_id), "export context lookup")
        if context is None:
            logger.warning("recording not in the database; exported without patient",
                           extra={"recording_id": event.recording_id})  # fmt: skip
        patient = PatientIdentity(pseudonym=None if context is None else context.patient_ref_hash)
        waveform = _waveform(context, event.recording_id) if targets.waveform else None
        if confirmed is None:
            bundle = diagnosis_bundle(event, patient=patient, waveform=waveform, bundle_type="transaction")
        else:
            bundle = diagnosis_bundle(event, status=confirmed.report_status, patient=patient, waveform=waveform,
                                      bundle_type="transaction", confirmed_by=confirmed.confirmed_by,
                                      comment=confirmed.comment)  # fmt: skip
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
            await self._send_hl7(targets.mllp, event, patient, confirmed)

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
        self, client: MllpClient, event: DiagnosisEvent, patient: PatientIdentity, confirmed: ConfirmedExport | None
    ) -> None:
        targets = self.targets
        status = "P" if confirmed is None else confirmed.result_status
        revision = None if confirmed is None else confirmed.revision
        text = oru_r01(
            event,
            result_status=status,
            patient=patient,
            confirmed_by=None if confirmed is None else confirmed.confirmed_by,
            comment=None if confirmed is None else confirmed.comment,
            revision=revision,
            sending_facility=targets.sending_facility,
            receiving_application=targets.receiving_application,
            receiving_facility=targets.receiving_facility,
        )
        control_id = message_control_id(event, status, revision)
        outcome = await deliver_with_retries(
            lambda: client.send(text, control_id),
            targets.retry,
            receiver="hl7",
            recording_id=event.recording_id,
            on_retry=self.metrics.retries.labels(receiver="hl7").inc,
        )
        self.metrics.hl7_deliveries.labels(outcome=outcome).inc()
