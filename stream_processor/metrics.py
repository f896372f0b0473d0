"""Prometheus metrics of the worker. Names: ``ecgstream_`` prefix, base units, counters end in ``_total``.

Faust's own ``_ms`` sensors are not used for these: every figure here is measured by the worker itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from interpretation.critical import CRITICAL_RULES, critical_findings

if TYPE_CHECKING:
    from stream_processor.analysis import AnalysedBatch

__all__ = ["WorkerMetrics", "LATENCY_BUCKETS", "serve_metrics"]

# Sub-second resolution where a healthy stream lives, and a tail up to minutes for backlogs.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
HEART_RATE_BUCKETS = (30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 150, 180, 250)  # bpm; 60/100: brady/tachy
QTC_BUCKETS = (0.34, 0.36, 0.38, 0.40, 0.42, 0.44, 0.46, 0.48, 0.50, 0.55, 0.60)  # s; 0.45/0.46: long QTc


@dataclass
class WorkerMetrics:
    """All worker metrics, registered in one registry (the default one unless a test passes its own)."""

    registry: CollectorRegistry
    latency_from_acquisition: Histogram
    latency_from_ingest: Histogram
    queue_wait: Histogram
    batch_records: Histogram
    preprocess: Histogram
    inference: Histogram
    db_write: Histogram
    records_processed: Counter
    diagnoses_published: Counter
    label_positives: Counter
    dead_letters: Counter
    db_retries: Counter
    model_info: Gauge
    assigned_partitions: Gauge
    measurement: Histogram
    heart_rate: Histogram
    qtc: Histogram
    unreadable: Counter
    statements: Counter
    critical_findings: Counter
    shadow_records: Counter
    shadow_disagreements: Counter
    shadow_failures: Counter
    shadow_model_info: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> WorkerMetrics:
        reg = registry if registry is not None else CollectorRegistry(auto_describe=True)
        return cls(
            registry=reg,
            latency_from_acquisition=Histogram(
                "ecgstream_latency_from_acquisition_seconds",
                "Seconds from the recording's acquisition time to its diagnosis being stored and published.",
                buckets=LATENCY_BUCKETS, registry=reg,
            ),
            latency_from_ingest=Histogram(
                "ecgstream_latency_from_ingest_seconds",
                "Seconds from publication to the recordings topic to the diagnosis being stored and published.",
                buckets=LATENCY_BUCKETS, registry=reg,
            ),
            queue_wait=Histogram(
                "ecgstream_queue_wait_seconds",
                "Seconds a recording waited between publication and the start of its batch.",
                buckets=LATENCY_BUCKETS, registry=reg,
            ),
            batch_records=Histogram(
                "ecgstream_batch_records", "Recordings per micro-batch (valid and invalid).",
                buckets=BATCH_BUCKETS, registry=reg,
            ),
            preprocess=Histogram(
                "ecgstream_preprocess_seconds", "Seconds of resampling, windowing and filtering per batch.",
                buckets=STAGE_BUCKETS, registry=reg,
            ),
            inference=Histogram(
                "ecgstream_inference_seconds", "Seconds of model forward passes per batch.",
                buckets=STAGE_BUCKETS, registry=reg,
            ),
            db_write=Histogram(
                "ecgstream_db_write_seconds", "Seconds to write one batch of diagnoses (successful attempt).",
                buckets=STAGE_BUCKETS, registry=reg,
            ),
            records_processed=Counter(
                "ecgstream_records_processed_total", "Recordings diagnosed and stored.", registry=reg
            ),
            diagnoses_published=Counter(
                "ecgstream_diagnoses_published_total", "Diagnosis events published to the diagnoses topic.",
                registry=reg,
            ),
            label_positives=Counter(
                "ecgstream_label_positives_total", "Diagnoses in which a label's probability reached its threshold.",
                ["code"], registry=reg,
            ),
            dead_letters=Counter(
                "ecgstream_dead_letters_total", "Messages sent to the dead-letter topic, by reason.",
                ["reason"], registry=reg,
            ),
            db_retries=Counter(
                "ecgstream_db_retries_total", "Failed database write attempts that were retried.", registry=reg
            ),
            model_info=Gauge(
                "ecgstream_model_info", "The model the worker serves (value 1).", ["version"], registry=reg
            ),
            assigned_partitions=Gauge(
                "ecgstream_assigned_partitions",
                "Partitions of the recordings topic assigned to this worker after the last rebalance.",
                registry=reg,
            ),
            measurement=Histogram(
                "ecgstream_measurement_seconds",
                "Seconds of signal quality, measurements, rule statements and fusion per batch.",
                buckets=STAGE_BUCKETS, registry=reg,
            ),
            heart_rate=Histogram(
                "ecgstream_heart_rate_bpm", "Measured heart rate of readable recordings (beats per minute).",
                buckets=HEART_RATE_BUCKETS, registry=reg,
            ),
            qtc=Histogram(
                "ecgstream_qtc_seconds", "Measured QTc (Bazett) of readable recordings, seconds.",
                buckets=QTC_BUCKETS, registry=reg,
            ),
            unreadable=Counter(
                "ecgstream_unreadable_total",
                "Recordings judged unreadable (stored and published without statements), by primary quality "
                "reason (recording-level problems first); each recording counts once.",
                ["reason"], registry=reg,
            ),
            statements=Counter(
                "ecgstream_statements_total", "Statements asserted, by provenance (measurement, model, both).",
                ["provenance"], registry=reg,
            ),
            critical_findings=Counter(
                "ecgstream_critical_findings_total",
                "Critical findings in stored diagnoses, by finding (interpretation.critical.CRITICAL_RULES).",
                ["finding"], registry=reg,
            ),
            shadow_records=Counter(
                "ecgstream_shadow_records_total",
                "Recordings the shadow model (SHADOW_MODEL_PATH) diagnosed beside the authoritative one.",
                registry=reg,
            ),
            shadow_disagreements=Counter(
                "ecgstream_shadow_disagreements_total",
                "Recordings where the shadow model and the authoritative diagnosis disagree on a statement, by code.",
                ["code"], registry=reg,
            ),
            shadow_failures=Counter(
                "ecgstream_shadow_failures_total",
                "Shadow model failures (the authoritative results were unaffected), by stage (load, analysis, storage).",
                ["stage"], registry=reg,
            ),
            shadow_model_info=Gauge(
                "ecgstream_shadow_model_info", "The shadow model the worker runs beside the authoritative one (value 1).",
                ["version"], registry=reg,
            ),
        )  # fmt: skip

    def __post_init__(self) -> None:
        for finding in CRITICAL_RULES:  # every series exists from the start, so increase() sees the first one
            self.critical_findings.labels(finding=finding)

    def observe_critical(self, statements: Sequence[Mapping[str, Any]], measurements: Mapping[str, Any] | None) -> None:
        """Count the critical findings of one stored diagnosis."""
        for found in critical_findings(statements, measurements):
            self.critical_findings.labels(finding=found.finding).inc()

    def observe_analysis(self, batch: AnalysedBatch) -> None:
        """Measurement time, measured distributions, unreadable reasons and statement provenance."""
        if batch.measured:
            self.measurement.observe(batch.measurement_seconds)
        for outcome in batch.outcomes:
            if outcome.unreadable_reasons:  # once per recording, by its primary (first) reason
                self.unreadable.labels(reason=outcome.unreadable_reasons[0]).inc()
            for statement in outcome.statements:
                self.statements.labels(provenance=statement.provenance).inc()
            m = outcome.measurements
            if m is not None and m.heart_rate_bpm is not None:
                self.heart_rate.observe(m.heart_rate_bpm)
            if m is not None and m.qtc_bazett_ms is not None:
                self.qtc.observe(m.qtc_bazett_ms / 1000.0)


def serve_metrics(metrics: WorkerMetrics, port: int, addr: str = "127.0.0.1") -> int:
    """Serve ``/metrics`` over HTTP in a background thread; returns the bound port.

    Loopback by default (``METRICS_HOST``): the page is unauthenticated, so only a container network
    or a host firewall should ever expose it to a Prometheus server.
    """
    server, _thread = start_http_server(port, addr=addr, registry=metrics.registry)
    return int(server.server_address[1])
