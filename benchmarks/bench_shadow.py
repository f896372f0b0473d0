"""What a shadow model costs the worker: the executor time of one batch with and without it.

    python -m benchmarks.bench_shadow [--batch 32] [--repeats 5] [--threads 1]

The batch is real recordings (CinC 2021, then LUDB; ``benchmarks.replay_example.shared_recordings``);
the shadow is the shipped checkpoint with a perturbed output layer (same size as the authoritative
model). Prints the median seconds of ``BatchAnalyser.run`` and of ``ShadowRunner.analyse`` (both
versions, the assessment once) over the repeats, and the extra time per recording.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.replay_example import head_noise_checkpoint, shared_recordings
from core.config import DEFAULT_MODEL_PATH
from model import Predictor
from storage.shadow import InMemoryShadowStore
from stream_processor.analysis import AnalysisOptions, BatchAnalyser
from stream_processor.metrics import WorkerMetrics
from stream_processor.shadow import ShadowRunner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    recordings = shared_recordings(ludb=max(0, args.batch - 10))[: args.batch]
    primary = BatchAnalyser(Predictor.load(DEFAULT_MODEL_PATH, torch_threads=args.threads))
    with tempfile.TemporaryDirectory() as folder:
        path = head_noise_checkpoint(Path(folder) / "shadow.pt")
        shadow = ShadowRunner(Predictor.load(path, torch_threads=args.threads), AnalysisOptions(),
                              InMemoryShadowStore(), WorkerMetrics.create())  # fmt: skip
    primary.run(recordings[:2]), shadow.analyse(primary, recordings[:2])  # warm up both
    alone, beside = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        primary.run(recordings)
        alone.append(time.perf_counter() - started)
        started = time.perf_counter()
        shadow.analyse(primary, recordings)
        beside.append(time.perf_counter() - started)
    a, b = statistics.median(alone), statistics.median(beside)
    print(f"batch of {len(recordings)}, torch threads {args.threads}, median of {args.repeats}")
    print(f"  authoritative alone     {a:.3f} s")
    print(f"  with the shadow model   {b:.3f} s  (+{b - a:.3f} s, +{100 * (b - a) / a:.0f} %, "
          f"+{1000 * (b - a) / len(recordings):.1f} ms per recording)")  # fmt: skip


if __name__ == "__main__":
    main()
