"""Inference speed of the shipped checkpoint: records/s per batch size, FLOPs and parameters.

    .venv/bin/python benchmarks/bench_inference.py [--model PATH] [--threads 2] [--batches 1,8,32,128]

Records are 10-s, 500-Hz synthetic 12-lead ECGs in mV. "predict" is the full ``Predictor.predict``
(resample + window + filter + z-score + forward); "forward" is the network only on preprocessed
windows. Each figure is the median of ``--repeats`` timed runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import DEFAULT_MODEL_PATH  # noqa: E402
from ingest.synthetic import simulate_ecg  # noqa: E402
from model.demographics import demographics  # noqa: E402
from model.predictor import Predictor  # noqa: E402
from model.preprocessing import preprocess_batch  # noqa: E402


def _median_seconds(fn, repeats: int) -> float:  # noqa: ANN001
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--batches", type=str, default="1,8,32,128")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    predictor = Predictor.load(args.model, torch_threads=args.threads)
    rng = np.random.default_rng(0)
    pool = [simulate_ecg(rng, hr=float(rng.uniform(50, 120))) for _ in range(16)]
    params = [sum(p.numel() for p in net.parameters()) for net in predictor.models]
    window = predictor.preprocess.window
    x1 = torch.zeros(1, 12, window)
    flops = 0
    for net in predictor.models:  # members may differ (a mixed ensemble)
        with FlopCounterMode(display=False) as counter, torch.inference_mode():
            net(x1, torch.zeros(1, 4))
        flops += counter.get_total_flops()
    kinds = ", ".join(f"{type(net).__name__} {n:,}" for net, n in zip(predictor.models, params, strict=True))
    print(f"model {predictor.version}: input {predictor.fs:g} Hz x {window} samples, "
          f"{len(predictor.models)} member(s), parameters per member: {kinds} (all {sum(params):,})")  # fmt: skip
    print(f"FLOPs per 10-s record (one window, all members): {flops / 1e6:.1f} MFLOP")
    print(f"torch threads: {torch.get_num_threads()}  cpu: {torch.backends.cpu.get_cpu_capability()}")
    print(
        f"{'batch':>6} {'predict rec/s':>14} {'forward rec/s':>14} {'preprocess ms/rec':>18} {'latency ms':>11}"
    )
    for b in [int(v) for v in args.batches.split(",")]:
        signals = [pool[i % len(pool)] for i in range(b)]
        fs, ages, sexes = [500.0] * b, [60.0] * b, ["F"] * b
        t_pred = _median_seconds(lambda: predictor.predict(signals, fs, ages, sexes), args.repeats)  # noqa: B023
        windows, owner = preprocess_batch(signals, fs, predictor.preprocess)
        demo = demographics(ages, sexes)[owner]
        t_fwd = _median_seconds(lambda: predictor.forward_windows(windows, demo), args.repeats)  # noqa: B023
        t_pre = _median_seconds(lambda: preprocess_batch(signals, fs, predictor.preprocess), args.repeats)  # noqa: B023
        print(
            f"{b:>6} {b / t_pred:>14.1f} {b / t_fwd:>14.1f} {1000 * t_pre / b:>18.2f} {1000 * t_pred:>11.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
