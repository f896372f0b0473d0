"""A stored database and second model versions to try ``ecgstream replay`` on real recordings.

    python -m benchmarks.replay_example OUT_DIR [--ludb N] [--tracings]

Writes ``OUT_DIR/ecgstream.db`` (SQLite, migrated): the 10 CinC 2021 records and LUDB records 1..N
(default 100) diagnosed by the worker's own batch path (``BatchProcessor``, SQL sink, ``STORE_SIGNAL``
on; with ``--tracings`` off, the samples kept as the gateway keeps its uploads: float16 ``tracings``)
with the shipped model, and two checkpoints derived from the shipped one (``model.checkpoint``):

- ``head-noise.pt``: the output layer's weights plus Gaussian noise of 0.05 times their standard
  deviation (seed 0), a stand-in for a retrained version: scattered changes;
- ``thresholds.pt``: statement 147 never called by the model (threshold 1.5) and statement 88
  (complete AV block) always (calibrated probability about 1): predictable changes (the tests).

Then: ``ecgstream replay --url sqlite+aiosqlite:///OUT_DIR/ecgstream.db --model OUT_DIR/head-noise.pt``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from core.config import DEFAULT_MODEL_PATH
from ingest import read_recording
from model import Predictor
from model.calibration import Calibration
from model.checkpoint import load_checkpoint, save_checkpoint
from schemas import Recording, encode_recording
from storage import SqlDiagnosisSink, create_engine
from storage.migrate import upgrade_async
from storage.tracings import store_tracing
from stream_processor.messages import IncomingMessage
from stream_processor.metrics import WorkerMetrics
from stream_processor.processing import BatchProcessor, ProcessorConfig
from stream_processor.publishing import InMemoryResultPublisher

__all__ = ["shared_recordings", "head_noise_checkpoint", "threshold_checkpoint", "store_diagnoses",
           "NEVER_CODE", "ALWAYS_CODE"]  # fmt: skip

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SECRET = "replay-example-patient-secret"
NEVER_CODE, ALWAYS_CODE = 147, 88


def shared_recordings(ludb: int = 100, data: Path = SHARED) -> list[Recording]:
    """The CinC 2021 records, then LUDB records 1..``ludb``, read from their WFDB files."""
    cinc = [read_recording(h) for h in sorted((data / "cinc2021").glob("*.hea"))]
    ludb_headers = sorted((data / "ludb").glob("*.hea"), key=lambda p: int(p.stem))[:ludb]
    return cinc + [read_recording(h) for h in ludb_headers]


def head_noise_checkpoint(out: Path, base: Path = DEFAULT_MODEL_PATH, scale: float = 0.05, seed: int = 0) -> Path:
    """``base`` with N(0, scale * std) added to every member's output layer (the last Linear of its
    ``head``: ``head.3`` of a CAE member, ``head.1`` of a ResNet member)."""
    ckpt = load_checkpoint(base)
    generator = torch.Generator().manual_seed(seed)
    for model in ckpt.models:
        head = getattr(model, "head", None)
        assert isinstance(head, torch.nn.Sequential), "a member with a sequential head (CAE or ResNet)"
        layer = [m for m in head if isinstance(m, torch.nn.Linear)][-1]
        weight = layer.weight
        with torch.no_grad():
            weight.add_(torch.randn(weight.shape, generator=generator) * scale * float(weight.std()))
    return save_checkpoint(out, ckpt.models, ckpt.preprocess, ckpt.labels, ckpt.thresholds,
                           f"{ckpt.version}-head-noise-{scale:g}-s{seed}", ckpt.training, ckpt.calibration)  # fmt: skip


def threshold_checkpoint(out: Path, base: Path = DEFAULT_MODEL_PATH) -> Path:
    """``base`` with statement ``NEVER_CODE`` never called by the model and ``ALWAYS_CODE`` always."""
    ckpt = load_checkpoint(base)
    codes = [label.code for label in ckpt.labels]
    thresholds = list(ckpt.thresholds)
    thresholds[codes.index(NEVER_CODE)] = 1.5  # calibrated probabilities never reach it
    slope, intercept = ckpt.calibration.slope.copy(), ckpt.calibration.intercept.copy()
    always = codes.index(ALWAYS_CODE)
    slope[always], intercept[always] = 0.0, 8.0  # sigmoid(8) = 0.9997 whatever the network says
    return save_checkpoint(out, ckpt.models, ckpt.preprocess, ckpt.labels, thresholds,
                           f"{ckpt.version}-never{NEVER_CODE}-always{ALWAYS_CODE}", ckpt.training,
                           Calibration(slope, intercept))  # fmt: skip


async def store_diagnoses(
    url: str,
    recordings: Sequence[Recording],
    predictor: Predictor,
    *,
    store_signal: bool = True,
    tracings: bool = False,
    batch: int = 32,
) -> None:
    """Diagnose ``recordings`` through the worker's batch path into the database at ``url`` (migrated
    here); ``store_signal``: keep the samples in ``recordings.signal``; ``tracings``: keep them as the
    gateway does for its uploads (``tracings``)."""
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        sink = SqlDiagnosisSink(engine, hmac_secret=SECRET, store_signal=store_signal)
        config = ProcessorConfig("diagnoses", "deadletter", max_recording_bytes=4_000_000, store_signal=store_signal,
                                 patient_hmac_secret=SECRET)  # fmt: skip
        processor = BatchProcessor(predictor, sink, InMemoryResultPublisher(), WorkerMetrics.create(), config)
        for start in range(0, len(recordings), batch):
            chunk = recordings[start : start + batch]
            events = [encode_recording(r) for r in chunk]
            messages = [IncomingMessage("recordings", 0, start + i, e.key, e.value, list(e.headers))
                        for i, e in enumerate(events)]  # fmt: skip
            outcome = await processor.process(messages)
            if outcome.dead_lettered:
                raise RuntimeError(f"{outcome.dead_lettered} recordings were dead-lettered")
            if tracings:
                for r in chunk:
                    await store_tracing(engine, r.recording_id, np.asarray(r.signal), r.fs, tuple(r.leads))
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--ludb", type=int, default=100, help="LUDB records 1..N (default 100)")
    parser.add_argument("--tracings", action="store_true", help="keep the samples as gateway tracings (float16)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    database = args.out / "ecgstream.db"
    database.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{database}"
    recordings = shared_recordings(args.ludb)
    predictor = Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)
    asyncio.run(store_diagnoses(url, recordings, predictor, store_signal=not args.tracings, tracings=args.tracings))
    print(f"{len(recordings)} recordings diagnosed into {url}")
    for path in (head_noise_checkpoint(args.out / "head-noise.pt"), threshold_checkpoint(args.out / "thresholds.pt")):
        print(f"model version {load_checkpoint(path).version}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
