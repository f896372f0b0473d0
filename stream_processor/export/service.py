"""``ecgstream export``'s loop: consume the diagnoses and overreads topics, export each event, then
commit its offset.

Why a separate consumer and not the worker: the worker's latency and throughput are measured and
tuned (docs/performance.md) and must not wait on a hospital's FHIR server or HL7 engine; a receiver
that is down must never stall diagnosis; the exporter has its own consumer group
(``EXPORT_GROUP``), so it resumes where it stopped, can be restarted, scaled and deployed apart
from the worker, and can re-export history by resetting its offsets. The diagnosis event is the
public contract, so the exporter is just another downstream consumer of it.

At-least-once: offsets are committed only after the Bundle is on ``FHIR_TOPIC`` and every configured
delivery has ended (delivered, rejected, or failed after ``EXPORT_MAX_ATTEMPTS``). A redelivered
event is exported again with the same resource ids (FHIR ``PUT``) and HL7 message control id, so
receivers see an update, not a second ECG. A physician's overread (``OVERREADS_TOPIC``) updates the
same resources to ``final`` / ``amended``, or withdraws them (``entered-in-error``) after a rejection
(``DiagnosisExporter.export_overread``). A new consumer group starts from the earliest retained
event (nothing diagnosed before the exporter first started is missed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from core.config import Settings
from core.kafka_security import KafkaSecurity
from core.topics import create_topics, max_message_bytes
from schemas import EncodedEvent, SchemaError, decode_diagnosis
from schemas.overread_event import OverreadEvent, decode_overread
from storage import create_engine, get_diagnosis
from storage.export_context import load_export_context
from stream_processor.export.delivery import RetryPolicy
from stream_processor.export.exporter import DiagnosisExporter, ExportTargets
from stream_processor.export.fhir_client import FhirClient
from stream_processor.export.metrics import ExportMetrics
from stream_processor.export.mllp import MllpClient

__all__ = ["ExportService", "AioKafkaPublisher", "export_targets"]

logger = logging.getLogger(__name__)

POLL_RECORDS = 16
MAX_POLL_INTERVAL_MS = 30 * 60 * 1000  # a batch may wait out every retry of a dead receiver


class AioKafkaPublisher:
    """``ResultPublisher`` over an aiokafka producer; returns once the broker acknowledged every event."""

    def __init__(self, producer: Any) -> None:
        self._producer = producer

    async def publish(self, topic: str, events: Sequence[EncodedEvent]) -> None:
        pending = [await self._producer.send(topic, e.value, key=e.key, headers=e.headers) for e in events]
        await asyncio.gather(*pending)


def _encrypted_or_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.hostname or "") in {"localhost", "127.0.0.1", "::1"}


def export_targets(settings: Settings) -> ExportTargets:
    """Receivers configured by the settings (FHIR_BASE_URL, HL7_MLLP_HOST) and the retry policy."""
    fhir = None
    if settings.fhir_base_url:
        if not _encrypted_or_local(settings.fhir_base_url):
            logger.warning("FHIR_BASE_URL is plain http to another host: Bundles travel unencrypted (use https)")
        fhir = FhirClient(settings.fhir_base_url, timeout=settings.fhir_timeout_seconds,
                          bearer_token=settings.fhir_bearer_token)  # fmt: skip
    mllp = None
    if settings.hl7_mllp_host:
        mllp = MllpClient(settings.hl7_mllp_host, settings.hl7_mllp_port, timeout=settings.hl7_mllp_timeout_seconds)
    return ExportTargets(
        fhir_topic=settings.fhir_topic,
        fhir=fhir,
        mllp=mllp,
        retry=RetryPolicy(settings.export_max_attempts, settings.export_retry_base_seconds,
                          settings.export_retry_max_seconds),
        waveform=settings.export_waveform,
        sending_facility=settings.hl7_sending_facility,
        receiving_application=settings.hl7_receiving_application,
        receiving_facility=settings.hl7_receiving_facility,
        db_retry_max_seconds=settings.db_retry_max_seconds,
    )  # fmt: skip


class ExportService:
    """Runs until ``stop`` is set (or the task is cancelled: uncommitted events are exported again later)."""

    def __init__(self, settings: Settings, bootstrap: str, metrics: ExportMetrics | None = None) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.metrics = metrics or ExportMetrics.create()
        self.exported = 0

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

        settings = self.settings
        options = KafkaSecurity.from_settings(settings).aiokafka_options()
        await create_topics(settings, self.bootstrap)
        engine = create_engine(settings.effective_database_url)
        targets = export_targets(settings)
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, client_id="ecgstream-export", acks="all", enable_idempotence=False,
            compression_type="zstd", max_request_size=max_message_bytes(settings), **options,
        )  # fmt: skip
        consumer = AIOKafkaConsumer(
            settings.diagnoses_topic, settings.overreads_topic, bootstrap_servers=self.bootstrap, client_id="ecgstream-export",
            group_id=settings.export_group, enable_auto_commit=False, auto_offset_reset="earliest",
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
            session_timeout_ms=int(settings.broker_session_timeout * 1000),
            heartbeat_interval_ms=int(settings.broker_heartbeat_interval * 1000),
            rebalance_timeout_ms=int(settings.broker_rebalance_timeout * 1000), **options,
        )  # fmt: skip
        try:
            await producer.start()
            await consumer.start()
            exporter = DiagnosisExporter(
                targets,
                AioKafkaPublisher(producer),
                lambda recording_id: load_export_context(engine, recording_id, with_signal=targets.waveform),
                self.metrics,
                find_diagnosis=lambda recording_id: get_diagnosis(engine, recording_id),
            )
            logger.info("exporter started", extra={
                "topic": settings.diagnoses_topic, "overreads_topic": settings.overreads_topic, "fhir_topic": settings.fhir_topic, "group": settings.export_group,
                "fhir": targets.fhir is not None, "hl7": targets.mllp is not None})  # fmt: skip
            if ready is not None:
                ready.set()
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=POLL_RECORDS)
                for partition, records in batches.items():
                    for record in records:
                        await self._export_one(exporter, record)
                    await consumer.commit({partition: records[-1].offset + 1})
        finally:
            await consumer.stop()
            await producer.stop()
            if targets.fhir is not None:
                await targets.fhir.aclose()
            await engine.dispose()

    async def _export_one(self, exporter: DiagnosisExporter, record: Any) -> None:
        position = f"{record.topic}[{record.partition}]@{record.offset}"
        overread = record.topic == self.settings.overreads_topic
        try:
            decode = decode_overread if overread else decode_diagnosis
            event = decode(record.value or b"", list(record.headers or []))
        except SchemaError as exc:
            self.metrics.skipped.labels(reason=exc.reason or "undecodable").inc()
            logger.warning("event not decodable; skipped", extra={"position": position, "reason": exc.reason})
            return
        try:
            if isinstance(event, OverreadEvent):
                if not await exporter.export_overread(event):
                    return
            else:
                await exporter.export(event)
        except Exception as exc:  # noqa: BLE001 - one bad event must not stop the exports of the others
            self.metrics.skipped.labels(reason="export_error").inc()
            logger.error("export failed; skipped", extra={
                "position": position, "recording_id": event.recording_id, "error": type(exc).__name__})  # fmt: skip
            return
        self.exported += 1
