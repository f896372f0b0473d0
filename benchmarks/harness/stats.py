"""Small pure helpers shared by the phases: sustained rates, percentiles, per-record stage times."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["sustained_rate", "percentile", "stage_breakdown"]


def sustained_rate(done_times: Sequence[float], low: float = 0.1, high: float = 0.9) -> float:
    """Records/s between the ``low`` and ``high`` fractions of completions (times in seconds, any order).

    Start-up (group join, first batch) and the tail (a last partial batch) fall outside the window.
    """
    times = sorted(done_times)
    n = len(times)
    if n < 10:
        return float("nan")
    i, j = int(low * n), max(int(high * n) - 1, int(low * n) + 1)
    span = times[j] - times[i]
    if span <= 0:  # everything in the window was written in one batch
        return float("nan")
    return (j - i) / span


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method; NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(q * len(ordered)))
    return float(ordered[rank - 1])


def stage_breakdown(
    before: dict[str, float], after: dict[str, float], records_per_s: float
) -> dict[str, float]:
    """Per-record milliseconds of the worker's measured stages between two /metrics scrapes.

    ``wall`` is one record's share of the worker's time at the measured rate (1000 / rate) and
    ``other`` is that minus the measured stages: decoding, validation,
    building results and events, publishing, acking, waiting to fill a batch and everything else.
    ``measurement_ms`` (quality, measurements, rules, fusion) runs in the executor like the model.
    The worker overlaps its stages (``stream_processor.pipeline``), so the stages may add up to more
    than ``wall`` and ``other`` may be negative: read them as time per stage, not as shares.
    """

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    records = delta("ecgstream_records_processed_total")
    batches = delta("ecgstream_batch_records_count")
    if records <= 0:
        return {}
    out = {
        "records": records,
        "mean_batch": records / batches if batches else float("nan"),
        "preprocess_ms": 1000 * delta("ecgstream_preprocess_seconds_sum") / records,
        "model_ms": 1000 * delta("ecgstream_inference_seconds_sum") / records,
        "measurement_ms": 1000 * delta("ecgstream_measurement_seconds_sum") / records,
        "db_write_ms": 1000 * delta("ecgstream_db_write_seconds_sum") / records,
        "wall_ms": 1000 / records_per_s if records_per_s > 0 else float("nan"),
    }
    out["other_ms"] = (
        out["wall_ms"] - out["preprocess_ms"] - out["model_ms"] - out["measurement_ms"] - out["db_write_ms"]
    )
    return out
