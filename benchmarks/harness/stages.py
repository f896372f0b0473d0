"""CPU cost of each per-record stage in isolation, and of candidate equivalents (evidence for
docs/performance.md). Times are the calling thread's CPU time (``time.thread_time``), best of
``--repeats``, per record of a batch of 32, so they hold up on a busy machine where wall time does
not; the torch forward pass uses several threads and is given as wall time.

    .venv/bin/python -m benchmarks.harness.stages
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from fractions import Fraction
from functools import partial

import numpy as np
from scipy import signal as sps

from benchmarks.harness.workload import build_workload, stamp
from schemas import decode_recording
from schemas.validation import validate_recording

BATCH = 32


def _cpu_ms(fn: Callable[[], object], repeats: int, clock: Callable[[], float] = time.thread_time) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        started = clock()
        fn()
        best = min(best, clock() - started)
    return 1000 * best / BATCH


def _resample_poly(x: np.ndarray, down: int) -> np.ndarray:
    return sps.resample_poly(x, 1, down, axis=-1).astype(np.float32, copy=False)


def _oaconvolve_decimate(x: np.ndarray, down: int) -> np.ndarray:
    taps = sps.firwin(20 * down + 1, 1.0 / down, window=("kaiser", 5.0)).astype(np.float32)
    half = (taps.size - 1) // 2
    full = sps.oaconvolve(x, taps[None, None, :], mode="full", axes=-1)
    return full[..., half : half + x.shape[-1] : down]


def _conv1d_decimate(x: np.ndarray, down: int) -> np.ndarray:
    import torch

    taps = sps.firwin(20 * down + 1, 1.0 / down, window=("kaiser", 5.0)).astype(np.float32)
    half = (taps.size - 1) // 2
    kernel = torch.from_numpy(taps[::-1].copy()).view(1, 1, -1)
    flat = torch.nn.functional.pad(torch.from_numpy(x.reshape(-1, 1, x.shape[-1])), (half, half))
    return torch.nn.functional.conv1d(flat, kernel, stride=down).view(x.shape[0], x.shape[1], -1).numpy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    import torch

    from core.config import DEFAULT_MODEL_PATH
    from model import Predictor
    from model.demographics import demographics
    from model.preprocessing import PreprocessConfig, bandpass, preprocess_batch, zscore

    workload = build_workload(None, 16)
    messages = [workload.message() for _ in range(BATCH)]
    records = [decode_recording(m.value, stamp(m)) for m in messages]
    x = np.stack([r.signal for r in records])  # (32, 12, 5000) float32 mV at 500 Hz
    config = PreprocessConfig()
    down = int(Fraction(500, int(config.fs)))
    at_model_rate = _resample_poly(x, down)

    def validate_all() -> None:
        for r in records:
            validate_recording(r, encoded_size=1)

    rows: list[tuple[str, float, str]] = [
        ("event loop: decode (Avro + int16 -> float32)", _cpu_ms(lambda: [decode_recording(m.value, stamp(m)) for m in messages], args.repeats), ""),
        ("event loop: validate_recording", _cpu_ms(validate_all, args.repeats), ""),
        ("  of which np.percentile per lead", _cpu_ms(lambda: [np.percentile(r.signal, [0.5, 99.5], axis=1) for r in records], args.repeats), ""),
        ("event loop: signal_sha256 (float32 copy + SHA-256)", _cpu_ms(lambda: [hashlib.sha256(np.ascontiguousarray(r.signal, dtype="<f4").tobytes()).hexdigest() for r in records], args.repeats), ""),
        ("executor: preprocess_batch (whole)", _cpu_ms(lambda: preprocess_batch(list(x), [500.0] * BATCH, config), args.repeats), ""),
        ("  resample_poly 500 -> 100 Hz", _cpu_ms(lambda: _resample_poly(x, down), args.repeats), ""),
        ("  sosfiltfilt + detrend (bandpass)", _cpu_ms(lambda: bandpass(at_model_rate, config.fs), args.repeats), f"output {sps.sosfiltfilt(sps.butter(4, [0.5, 40.0], 'bandpass', fs=100.0, output='sos'), at_model_rate[:1], axis=-1).dtype}"),
        ("  zscore", _cpu_ms(lambda: zscore(at_model_rate), args.repeats), ""),
    ]  # fmt: skip
    for name, candidate in (("candidate: oaconvolve decimation", _oaconvolve_decimate),
                            ("candidate: torch conv1d stride (1 thread)", _conv1d_decimate)):  # fmt: skip
        torch.set_num_threads(1)
        diff = float(np.abs(candidate(x, down) - at_model_rate).max())
        ms = _cpu_ms(partial(candidate, x, down), args.repeats)
        rows.append((name, ms, f"max |diff| {diff:.1e} mV vs resample_poly"))
    predictor = Predictor.load(DEFAULT_MODEL_PATH)
    windows, owner = preprocess_batch(list(x), [500.0] * BATCH, config)
    demo = demographics([r.age for r in records], [r.sex for r in records])[owner]
    for threads in (1, 2):
        torch.set_num_threads(threads)
        wall = _cpu_ms(lambda: predictor.forward_windows(windows, demo), args.repeats, time.perf_counter)
        rows.append((f"executor: model forward, {threads} torch thread(s)", wall, "wall time"))
    print(f"per record, batch {BATCH}, best of {args.repeats} (CPU ms unless noted)")
    for name, ms, note in rows:
        print(f"{name:<52}{ms:>8.3f} ms  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
