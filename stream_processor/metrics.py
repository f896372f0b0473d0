"""Prometheus metrics of the worker. Names: ``ecgstream_`` prefix, base units, counters end in ``_total``.

Faust's own ``_ms`` sensors are not used for these: every figure here is measured by the worker itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

__all__ = ["WorkerMetrics", "LATENCY_BUCKETS", "serve_metrics"]

# Sub-second resolution where a healthy stream lives, and a tail up to minutes for backlogs.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


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
        )  # fmt: skip


def serve_metrics(metrics: WorkerMetrics, port: int, addr: str = "127.0.0.1") -> int:
    """Serve ``/metrics`` over HTTP in a background thread; returns the bound port.

    Loopback by default (``METRICS_HOST``): the page is unauthenticated, so only a container network
    or a host firewall should ever expose it to a Prometheus server.
    """
    server, _thread = start_http_server(port, addr=addr, registry=metrics.registry)
    return int(server.server_address[1])
