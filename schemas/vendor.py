"""What the acquiring system itself measured and stated, kept beside ecgstream's own analysis.

GE MUSE, Philips Sierra/PageWriter and SCP-ECG files carry the cart's (or the management system's)
global measurements and interpretation statements, sometimes confirmed by a physician. Readers put
them in a ``VendorReport`` on ``Recording.vendor`` so that a reader of the result can compare them
with ecgstream's own. It lives only in memory (``ecgstream inspect`` / ``diagnose`` print it): the
recordings event (Avro) does not carry it, and the worker does not use it.

Measurement keys are ecgstream's own names (``measurements.Measurements``): ``heart_rate_bpm``,
``rr_mean_ms``, ``pr_ms``, ``qrs_ms``, ``qt_ms``, ``qtc_bazett_ms``, ``qtc_fridericia_ms``,
``p_axis_deg``, ``qrs_axis_deg``, ``t_axis_deg``, and ``qtc_ms`` for a QTc whose formula the file
does not state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["VendorReport", "MEASUREMENT_KEYS"]

MEASUREMENT_KEYS: tuple[str, ...] = (
    "heart_rate_bpm", "rr_mean_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "qtc_bazett_ms",
    "qtc_fridericia_ms", "p_axis_deg", "qrs_axis_deg", "t_axis_deg",
)  # fmt: skip


@dataclass
class VendorReport:
    """The file's own measurements, statements and representative beat."""

    system: str  # "GE MUSE", "Philips Sierra", "SCP-ECG"
    measurements: dict[str, float] = field(default_factory=dict)  # keys from MEASUREMENT_KEYS
    statements: tuple[str, ...] = ()  # as written, in file order
    status: str | None = None  # "machine", "overread" (edited) or "confirmed", as the file states
    severity: str | None = None  # e.g. "ABNORMAL" where the file grades the ECG
    median: np.ndarray | None = None  # (12, M) float32 mV representative beat, standard lead order
    median_fs: float | None = None  # Hz

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready dict (the representative beat as its length and rate, not its samples)."""
        return {
            "system": self.system,
            "measurements": dict(self.measurements),
            "statements": list(self.statements),
            "status": self.status,
            "severity": self.severity,
            "median_samples": None if self.median is None else int(self.median.shape[-1]),
            "median_fs": self.median_fs,
        }
