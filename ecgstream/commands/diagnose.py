"""``ecgstream diagnose FILE...``: diagnose ECG files locally (no broker, no database).

Any format ``ingest.read_recording`` knows (SPH .h5, WFDB, DICOM, XML); the same preprocessing and
model as the worker. Exit status 0 when every file was diagnosed, 2 when any file failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ecgstream.config import load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="ECG files")
    parser.add_argument("--model", type=Path, default=None, help="checkpoint (default: MODEL_PATH)")
    parser.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    parser.add_argument("--all", action="store_true", help="also list every label's probability (JSON)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: TORCH_THREADS)")


def run(args: argparse.Namespace) -> int:
    from ingest import read_recording
    from model.predictor import Predictor
    from schemas.errors import EcgstreamError

    settings = load_settings()
    path = args.model or settings.model_path
    try:
        predictor = Predictor.load(path, torch_threads=args.threads or settings.torch_threads)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        print(f"error: cannot load model {path}: {exc}", file=sys.stderr)
        return 2
    failures = 0
    for file in args.files:
        try:
            rec = read_recording(file)
            pred = predictor.predict([rec.signal], [rec.fs], [rec.age], [rec.sex])
        except EcgstreamError as exc:
            failures += 1
            reason = getattr(exc, "reason", "error")
            if args.json:
                print(json.dumps({"file": str(file), "error": str(exc), "reason": reason}))
            else:
                print(f"{file}: error ({reason}): {exc}", file=sys.stderr)
            continue
        except OSError as exc:
            failures += 1
            print(f"{file}: error (unreadable): {exc}", file=sys.stderr)
            continue
        statements = predictor.statements(pred.probabilities)[0]
        if args.json:
            out = {
                "file": str(file),
                "model_version": predictor.version,
                "duration_s": round(rec.duration_s, 2),
                "fs": rec.fs,
                "statements": [
                    {"code": lb.code, "description": lb.description, "probability": round(p, 4)}
                    for lb, p in statements
                ],
            }
            if args.all:
                out["probabilities"] = {
                    str(lb.code): round(float(p), 4)
                    for lb, p in zip(predictor.labels, pred.probabilities[0], strict=True)
                }
            print(json.dumps(out))
        else:
            print(f"{file}  ({rec.duration_s:.1f} s at {rec.fs:g} Hz; model {predictor.version})")
            if not statements:
                print("  no statement above its threshold")
            for label, p in statements:
                print(f"  {label.code:>4}  {label.description:<45} {p:.2f}")
    return 2 if failures else 0
