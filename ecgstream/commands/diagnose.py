"""``ecgstream diagnose FILE...``: diagnose ECG files locally (no broker, no database).

Any format ``ingest.read_recording`` knows (SPH .h5, WFDB, DICOM, XML); the same analysis as the
worker (``stream_processor.analysis``: signal quality, measurements, rule statements, model, fusion,
following MEASUREMENTS and FUSION). Each statement shows its provenance (measurement, model, both); an
unreadable recording shows its reasons and no statements. The file's own measurements and
statements (GE MUSE, Philips Sierra, SCP-ECG: ``schemas.vendor``) are shown beside ours under
``vendor``. Exit status 0 when every file was diagnosed (unreadable included), 2 when any file failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecgstream.config import load_settings

if TYPE_CHECKING:
    from schemas import Recording
    from stream_processor.analysis import RecordingOutcome

PROVENANCE_SHORT = {"measurement": "meas", "model": "model", "both": "both"}
SHOWN_MEASUREMENTS = (
    ("HR", "heart_rate_bpm", "bpm"), ("PR", "pr_ms", "ms"), ("QRS", "qrs_ms", "ms"), ("QT", "qt_ms", "ms"),
    ("QTcB", "qtc_bazett_ms", "ms"), ("QTcF", "qtc_fridericia_ms", "ms"), ("P axis", "p_axis_deg", "deg"),
    ("QRS axis", "qrs_axis_deg", "deg"), ("T axis", "t_axis_deg", "deg"),
)  # fmt: skip


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
    from stream_processor.analysis import AnalysisOptions, BatchAnalyser

    settings = load_settings()
    path = args.model or settings.model_path
    try:
        predictor = Predictor.load(path, torch_threads=args.threads or settings.torch_threads)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        print(f"error: cannot load model {path}: {exc}", file=sys.stderr)
        return 2
    analyser = BatchAnalyser(predictor, AnalysisOptions(measure=settings.measurements, fusion=settings.fusion))
    failures = 0
    for file in args.files:
        try:
            rec = read_recording(file)
            outcome = analyser.run([rec]).outcomes[0]
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
        if args.json:
            print(json.dumps(_as_json(file, rec, outcome, predictor.version, args.all)))
        else:
            _print_text(file, rec, outcome, predictor.version)
    return 2 if failures else 0


def _as_json(file: Path, rec: Recording, outcome: RecordingOutcome, version: str, everything: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file": str(file),
        "model_version": version,
        "duration_s": round(rec.duration_s, 2),
        "fs": rec.fs,
        "readable": outcome.readable,
        "unreadable_reasons": list(outcome.unreadable_reasons),
        "statements": [asdict(s) for s in outcome.statements],
        "measurements": None if outcome.measurements is None else outcome.measurements.as_record(),
        "quality": None if outcome.quality is None else outcome.quality.as_record(),
        "vendor": None if rec.vendor is None else rec.vendor.as_record(),
    }
    if everything:
        out["probabilities"] = {code: round(p, 4) for code, p in outcome.probabilities.items()}
    return out


def _print_text(file: Path, rec: Recording, outcome: RecordingOutcome, version: str) -> None:
    from ecgstream.commands.inspect import vendor_lines

    print(f"{file}  ({rec.duration_s:.1f} s at {rec.fs:g} Hz; model {version})")
    for line in vendor_lines(rec.vendor.as_record()) if rec.vendor is not None else []:
        print("  " + line)
    if outcome.quality is not None:
        bad = [f"{q.lead} {q.verdict} ({', '.join(q.problems)})" for q in outcome.quality.leads if q.verdict != "good"]
        problems = ", ".join(outcome.quality.problems)
        print(f"  quality: {outcome.quality.verdict}" + (f"; {problems}" if problems else "")
              + (f"; leads: {'; '.join(bad)}" if bad else ""))  # fmt: skip
    if not outcome.readable:
        print(f"  UNREADABLE ({', '.join(outcome.unreadable_reasons)}): no statements")
        return
    m = outcome.measurements
    if m is not None:
        values = [
            f"{name} {value:.0f} {unit}" if (value := getattr(m, key)) is not None else f"{name} n/a"
            for name, key, unit in SHOWN_MEASUREMENTS
        ]
        print("  " + ", ".join(values))
    if not outcome.statements:
        print("  no statement")
    for s in outcome.statements:
        probability = "  -  " if s.probability is None else f"{s.probability:.2f}"
        evidence = f"  [{s.evidence}]" if s.evidence else ""
        code = f"+{s.code}" if s.modifies else str(s.code)  # a modifier, after the statement it qualifies
        print(f"  {code:>4}  {s.description:<45} {probability}  {PROVENANCE_SHORT.get(s.provenance, s.provenance):<5}"
              f"{evidence}")  # fmt: skip
