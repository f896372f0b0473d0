"""Edge validation of a ``Recording``: both producers and the worker call ``validate_recording``.

Each failure raises ``InvalidRecording`` with one of these ``reason`` codes:

| reason | when |
|---|---|
| ``wrong_lead_count`` | the signal is not (12, N) or the lead names are not 12 |
| ``missing_leads`` | some standard leads are absent (names in the message) |
| ``wrong_lead_order`` | the 12 standard leads, in another order |
| ``sampling_rate_out_of_range`` | fs outside 100-2000 Hz |
| ``duration_out_of_range`` | duration outside 5-120 s |
| ``oversize`` | the encoded event would exceed ``max_bytes`` |
| ``non_finite`` | NaN or infinite samples |
| ``implausible_amplitude`` | typical lead span > 20 mV (µV, ADC counts) or < 0.01 mV (volts) |
| ``flat_signal`` | no lead varies (every lead flat: nothing to diagnose) |
| ``saturated_signal`` | every varying lead stuck at its extreme value for a long stretch (clipping) |
| ``invalid_device_id`` | a device id outside ``schemas.identifiers``' rule (from a file, the form or ``--device-id``) |

A flat, clipped or noisy *single* lead is not a reason to refuse a recording: the worker's quality
check marks it, leaves it out of the measurements and reads the other leads, on every path (upload,
publisher, worker, ``ecgstream diagnose``), so the same file gets the same answer everywhere.

Amplitude checks are scale-plausibility checks, so z-scored signals (std 1 per lead) also pass.
"""

from __future__ import annotations

import numpy as np

from schemas.errors import InvalidRecording
from schemas.identifiers import device_id_problem
from schemas.recording import STANDARD_LEADS, Recording

__all__ = [
    "validate_recording",
    "estimated_encoded_size",
    "MIN_FS",
    "MAX_FS",
    "MIN_DURATION_S",
    "MAX_DURATION_S",
]

MIN_FS, MAX_FS = 100.0, 2000.0
MIN_DURATION_S, MAX_DURATION_S = 5.0, 120.0
MAX_TYPICAL_SPAN_MV = 20.0  # a lead's robust peak-to-peak above this: µV or ADC counts, not mV
MIN_TYPICAL_SPAN_MV = 0.01  # below this: volts, not mV
FLAT_SPAN_MV = 0.005  # a lead whose robust peak-to-peak is below 5 µV carries no ECG
SATURATION_FRACTION = 0.05  # share of samples pinned at a lead's min or max that means clipping
EVENT_OVERHEAD_BYTES = 2048  # headers, ids and demographics around the samples (generous)


def estimated_encoded_size(rec: Recording) -> int:
    """Bytes of the encoded recordings event (int16 samples + overhead), without encoding it."""
    return 2 * int(np.prod(np.shape(rec.signal))) + EVENT_OVERHEAD_BYTES


def _fail(reason: str, message: str) -> None:
    raise InvalidRecording(message, reason=reason)


def _check_shape(rec: Recording) -> np.ndarray:
    signal = np.asarray(rec.signal)
    if signal.ndim != 2 or signal.shape[0] != len(STANDARD_LEADS) or len(rec.leads) != len(STANDARD_LEADS):
        _fail(
            "wrong_lead_count",
            f"expected 12 leads, got a signal of shape {signal.shape} with {len(rec.leads)} lead names",
        )
    leads = tuple(rec.leads)
    missing = [name for name in STANDARD_LEADS if name not in leads]
    if missing:
        _fail("missing_leads", f"missing leads: {', '.join(missing)} (got {', '.join(map(str, leads))})")
    if leads != STANDARD_LEADS:
        _fail(
            "wrong_lead_order",
            f"leads must be in the order {' '.join(STANDARD_LEADS)}, got {' '.join(leads)}",
        )
    return signal


def _check_timing(rec: Recording, n_samples: int) -> None:
    fs = float(rec.fs)
    if not np.isfinite(fs) or not MIN_FS <= fs <= MAX_FS:
        _fail("sampling_rate_out_of_range", f"sampling rate {fs:g} Hz is outside {MIN_FS:g}-{MAX_FS:g} Hz")
    duration = n_samples / fs
    if not MIN_DURATION_S <= duration <= MAX_DURATION_S:
        _fail(
            "duration_out_of_range",
            f"duration {duration:.2f} s is outside {MIN_DURATION_S:g}-{MAX_DURATION_S:g} s",
        )


def _check_values(signal: np.ndarray) -> None:
    if not np.isfinite(signal).all():
        bad = [STANDARD_LEADS[i] for i in np.flatnonzero(~np.isfinite(signal).all(axis=1))]
        _fail("non_finite", f"NaN or infinite samples in leads: {', '.join(bad)}")
    low, high = np.percentile(signal, [0.5, 99.5], axis=1)
    span = high - low  # robust peak-to-peak per lead, mV
    typical = float(np.median(span))
    if typical > MAX_TYPICAL_SPAN_MV:
        _fail(
            "implausible_amplitude",
            f"typical lead span {typical:.3g} is above {MAX_TYPICAL_SPAN_MV:g} mV: values look like µV or "
            "ADC counts, not mV",
        )
    if typical < MIN_TYPICAL_SPAN_MV and float(np.ptp(signal)) > 0:
        _fail(
            "implausible_amplitude",
            f"typical lead span {typical:.3g} is below {MIN_TYPICAL_SPAN_MV:g} mV: values look like volts",
        )
    flat = span < FLAT_SPAN_MV
    if flat.all():
        _fail("flat_signal", "no signal: every lead is flat")
    top = signal.max(axis=1, keepdims=True)
    bottom = signal.min(axis=1, keepdims=True)
    pinned = np.maximum((signal == top).mean(axis=1), (signal == bottom).mean(axis=1))
    saturated = pinned > SATURATION_FRACTION
    if (saturated | flat).all():
        _fail("saturated_signal", "every lead is saturated (clipped) or flat")


def validate_recording(
    rec: Recording, *, max_bytes: int | None = None, encoded_size: int | None = None
) -> None:
    """Raise ``InvalidRecording`` (with a ``reason`` code) unless ``rec`` may be diagnosed.

    ``encoded_size`` is the size of the encoded event when known; otherwise it is estimated.
    """
    if rec.device_id is not None and (problem := device_id_problem(rec.device_id)) is not None:
        _fail("invalid_device_id", f"device id refused: {problem}")
    signal = _check_shape(rec)
    _check_timing(rec, signal.shape[1])
    if max_bytes is not None:
        size = encoded_size if encoded_size is not None else estimated_encoded_size(rec)
        if size > max_bytes:
            _fail("oversize", f"encoded recording is {size} bytes, above the limit of {max_bytes} bytes")
    _check_values(signal.astype(np.float32, copy=False))
