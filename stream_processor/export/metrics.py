"""Prometheus metrics of ``ecgstream export`` (``ecgstream_`` prefix, counters end in ``_total``)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

__all__ = ["ExportMetrics"]


@dataclass
class ExportMetrics:
    registry: CollectorRegistry
    bundles_published: Counter
    fhir_deliveries: Counter
    hl7_deliveries: Counter
    retries: Counter
    skipped: Counter
    confirmed_exports: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> ExportMetrics:
        reg = registry if registry is not None else CollectorRegistry(auto_describe=True)
        return cls(
            registry=reg,
            bundles_published=Counter(
                "ecgstream_fhir_bundles_published_total", "FHIR Bundles published to FHIR_TOPIC.", registry=reg
            ),
            fhir_deliveries=Counter(
                "ecgstream_fhir_deliveries_total",
                "Bundles POSTed to FHIR_BASE_URL, by outcome (delivered, rejected, failed after every attempt).",
                ["outcome"], registry=reg,
            ),  # fmt: skip
            hl7_deliveries=Counter(
                "ecgstream_hl7_deliveries_total",
                "ORU^R01 messages sent over MLLP, by outcome (delivered, rejected, failed after every attempt).",
                ["outcome"], registry=reg,
            ),  # fmt: skip
            retries=Counter(
                "ecgstream_export_retries_total", "Failed delivery attempts that were retried, by receiver.",
                ["receiver"], registry=reg,
            ),  # fmt: skip
            skipped=Counter(
                "ecgstream_exports_skipped_total", "Diagnoses- or overreads-topic messages not exported, by reason.",
                ["reason"], registry=reg,
            ),  # fmt: skip
            confirmed_exports=Counter(
                "ecgstream_confirmed_exports_total",
                "Physician overreads exported, by FHIR report status (final, amended; entered-in-error: a withdrawn rejection).",
                ["status"], registry=reg,
            ),  # fmt: skip
        )

