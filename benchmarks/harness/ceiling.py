"""The compute ceiling: what one worker process could do if it did nothing but compute.

The ceiling the ratios use (``records_per_s``) is the worker's executor call on in-memory batches of
``BATCH_MAX`` recordings, with the worker's settings (``TORCH_THREADS``, ``ANALYSIS_PROCESSES``,
``MEASUREMENTS``, ``FUSION``): ``stream_processor.analysis.BatchAnalyser.run``, i.e. signal quality,
measurements, rule statements, the model and fusion, best of N. Beside it: ``Predictor.predict``
alone (``predict_records_per_s``, the ceiling before measurements existed), split into
preprocessing and network time; the decode of an encoded message (Avro + int16 -> float32), its
validation and the signal hash, per record (the worker does these on its event loop); and
``measurements.measure`` and ``measurements.quality.assess_quality`` per record in one thread.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness.workload import Workload, stamp
from core.config import Settings
from schemas import Recording, decode_recording
from schemas.validation import validate_recording

__all__ = ["measure_ceiling"]

logger = logging.getLogger(__name__)


def _timings(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        return None


def _per_record_seconds(fn: Callable[..., Any] | None, workload: Workload, n: int) -> float | None:
    """Median seconds of ``fn(signal, fs)`` over ``n`` templates; None when absent or it fails."""
    if fn is None:
        return None
    recs = [workload.recordings[i % len(workload.recordings)] for i in range(n)]
    try:
        fn(recs[0].signal, recs[0].fs)
        times = []
        for rec in recs:
            started = time.perf_counter()
            fn(rec.signal, rec.fs)
            times.append(time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - another helper's work in progress must not stop the run
        logger.warning("measurement call failed; reported as n/a", extra={"error": repr(exc)})
        return None
    return statistics.median(times)


def _signal_digest(signal: np.ndarray) -> str:
    """What the worker does per record for ``signal_sha256`` (float32 copy + SHA-256 of 240 kB)."""
    return hashlib.sha256(np.ascontiguousarray(signal, dtype="<f4").tobytes()).hexdigest()


def _analysis_ceiling(
    predictor: Any, recs: list[Recording], settings: Settings, repeats: int
) -> dict[str, Any]:
    """The worker's executor call (``BatchAnalyser.run``: quality, measurements, rules, model, fusion)
    on one in-memory batch, with the worker's options and assessment processes; best and median."""
    from stream_processor.analysis import AnalysisOptions, BatchAnalyser
    from stream_processor.assessment import AssessmentPool

    processes = settings.analysis_processes if settings.measurements else 0
    pool = AssessmentPool(processes)
    try:
        pool.warm_up()
        analyser = BatchAnalyser(predictor, AnalysisOptions(settings.measurements, settings.fusion), pool)
        batches: list[Any] = []
        times = _timings(lambda: batches.append(analyser.run(recs)), repeats)
    finally:
        pool.shutdown()
    n = len(recs)
    best = min(range(len(times)), key=times.__getitem__)
    fastest = batches[best + 1]  # batches[0] is the warm-up
    readable = sum(1 for outcome in fastest.outcomes if outcome.readable)
    return {
        "records_per_s": n / times[best],
        "records_per_s_median": n / statistics.median(times),
        "analysis_processes": processes,
        "measurements": settings.measurements,
        "readable_records": readable,
        # of the fastest run, wall ms per record of the batch: assessment (quality, measurements,
        # rules; over the processes and the thread) + fusion, and the model's two parts
        "measurement_ms_per_record": 1000 * fastest.measurement_seconds / n,
        "preprocess_ms_per_record": 1000 * fastest.preprocess_seconds / n,
        "model_ms_per_record": 1000 * fastest.inference_seconds / n,
    }


def measure_ceiling(workload: Workload, model_path: Path, settings: Settings, repeats: int) -> dict[str, Any]:
    """Records/s of the compute alone, and its parts in milliseconds per record.

    ``records_per_s`` (what the ratios use) is the worker's whole analysis when ``settings.measurements``
    is on, else ``Predictor.predict`` alone; ``predict_records_per_s`` is always the model alone.
    """
    from model import Predictor

    batch_max, torch_threads = settings.batch_max, settings.torch_threads
    predictor = Predictor.load(model_path, torch_threads=torch_threads)
    recs = [workload.recordings[i % len(workload.recordings)] for i in range(batch_max)]
    args = ([r.signal for r in recs], [r.fs for r in recs], [r.age for r in recs], [r.sex for r in recs])
    parts: list[tuple[float, float]] = []

    def predict() -> None:
        out = predictor.predict(*args)
        parts.append((out.preprocess_seconds, out.inference_seconds))

    batch_times = _timings(predict, repeats)
    batch_s = min(batch_times)  # a ceiling: the least disturbed run (the median is reported beside it)
    preprocess_s = min(p for p, _ in parts[1:])
    model_s = min(m for _, m in parts[1:])
    analysis = _analysis_ceiling(predictor, recs, settings, repeats)
    messages = [workload.message() for _ in range(batch_max)]
    decode_s = min(_timings(lambda: [decode_recording(m.value, stamp(m)) for m in messages], repeats))
    decoded = [decode_recording(m.value, stamp(m)) for m in messages]

    def validate_all() -> None:
        for r in decoded:
            validate_recording(r, encoded_size=1)

    validate_s = min(_timings(validate_all, repeats))
    hash_s = min(_timings(lambda: [_signal_digest(r.signal) for r in decoded], repeats))
    measure_s = _per_record_seconds(_optional("measurements", "measure"), workload, min(batch_max, 16))
    quality_s = _per_record_seconds(
        _optional("measurements.quality", "assess_quality"), workload, min(batch_max, 16)
    )
    predict_rate = batch_max / batch_s
    result = {
        "batch_max": batch_max,
        "torch_threads": torch_threads,
        "model_version": predictor.version,
        "records_per_s": analysis["records_per_s"] if settings.measurements else predict_rate,
        "basis": "analysis" if settings.measurements else "predict",
        "analysis": analysis,
        "predict_records_per_s": predict_rate,
        "predict_records_per_s_median": batch_max / statistics.median(batch_times),
        "preprocess_ms_per_record": 1000 * preprocess_s / batch_max,
        "model_ms_per_record": 1000 * model_s / batch_max,
        "decode_ms_per_record": 1000 * decode_s / batch_max,
        "validate_ms_per_record": 1000 * validate_s / batch_max,
        "signal_hash_ms_per_record": 1000 * hash_s / batch_max,
        "measure_ms_per_record": None if measure_s is None else 1000 * measure_s,
        "quality_ms_per_record": None if quality_s is None else 1000 * quality_s,
        "label_codes": [label.code for label in predictor.labels],
    }
    logger.info("compute ceiling measured", extra={k: v for k, v in result.items() if isinstance(v, float)})
    return result
