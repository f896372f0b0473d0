"""``ecgstream diagnose FILE...``: diagnose ECG files locally (no broker, no database).

Any format ``ingest.read_recording`` knows (SPH .h5, WFDB, DICOM, XML); the same analysis as the
worker (``stream_processor.analysis``: signal quality, measurements, rule statements, model, fusion,
following MEASUREMENTS and FUSION). Each statement shows its provenance (measurement, model, both); an
unreadable recording shows its reasons and no statements. Exit status 0 when every file was
diagnosed (unreadable included), 2 when any file failed.

``--format`` chooses the output: ``text`` (default), ``json`` (one object per file; ``--json`` is the
same), ``fhir`` (one FHIR R4 Bundle per file, one JSON document a line, with the waveform unless
``--no-waveform``) or ``hl7`` (one HL7 v2.5.1 ORU^R01 per file, segments one a line, a blank line
between messages; the wire form separates segments with CR). FHIR and HL7 name the patient only by
the keyed hash of the file's patient reference under ``PATIENT_HMAC_SECRET``, as the database does.
unreadable recording shows its reasons and no statements. The file's own measurements and
statements (GE MUSE, Philips Sierra, SCP-ECG: ``schemas.vendor``) are shown beside ours under
``vendor``. Exit status 0 when every file was diagnosed (unreadable included), 2 when any file failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import load_settings

if TYPE_CHECKING:
    from core.config import Settings
    from schemas import DiagnosisEvent, Recording
    from stream_processor.analysis import RecordingOutcome

FORMATS = ("text", "json", "fhir", "hl7")

PROVENANCE_SHORT = {"measurement": "meas", "model": "model", "both": "both"}
SHOWN_MEASUREMENTS = (
    ("HR", "heart_rate_bpm", "bpm"), ("atrial rate", "atrial_rate_bpm", "bpm"), ("PR", "pr_ms", "ms"), ("QRS", "qrs_ms", "ms"), ("QT", "qt_ms", "ms"),
    ("QTcB", "qtc_bazett_ms", "ms"), ("QTcF", "qtc_fridericia_ms", "ms"), ("P axis", "p_axis_deg", "deg"),
    ("QRS axis", "qrs_axis_deg", "deg"), ("T axis", "t_axis_deg", "deg"),
)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="ECG files")
    parser.add_argument("--model", type=Path, default=None, help="checkpoint (default: MODEL_PATH)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="text (default), json, fhir (a FHIR R4 Bundle per file) or hl7 (an ORU^R01 per file)")
    parser.add_argument("--json", action="store_true", help="one JSON object per file on stdout (= --format json)")
    parser.add_argument("--no-waveform", action="store_true", help="fhir: leave the waveform Observation out")
    parser.add_argument("--all", action="store_true", help="also list every label's probability (JSON)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: TORCH_THREADS)")


def run(args: argparse.Namespace) -> int:
    from core.errors import EcgstreamError
    from ingest import read_recording
    from model.predictor import Predictor
    from schemas.validation import validate_recording
    from stream_processor.analysis import AnalysisOptions, BatchAnalyser

    if args.json and args.format not in (None, "json"):
        print(f"error: --json contradicts --format {args.format}", file=sys.stderr)
        return 2
    output = args.format or ("json" if args.json else "text")
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
            validate_recording(rec)  # the same edge checks as the upload page, publisher and worker
            outcome = analyser.run([rec]).outcomes[0]
        except EcgstreamError as exc:
            failures += 1
            reason = getattr(exc, "reason", "error")
            if output == "json":
                print(json.dumps({"file": str(file), "error": str(exc), "reason": reason}))
            else:
                print(f"{file}: error ({reason}): {exc}", file=sys.stderr)
            continue
        except OSError as exc:
            failures += 1
            print(f"{file}: error (unreadable): {exc}", file=sys.stderr)
            continue
        if output == "json":
            print(json.dumps(_as_json(file, rec, outcome, predictor.version, args.all)))
        elif output == "text":
            _print_text(file, rec, outcome, predictor.version)
        else:
            _print_export(output, rec, outcome, predictor.version, settings, waveform=not args.no_waveform)
    return 2 if failures else 0


def diagnosis_event(rec: Recording, outcome: RecordingOutcome, version: str) -> DiagnosisEvent:
    """The diagnosis event the worker would publish for this outcome (diagnosed now)."""
    from schemas import DiagnosisEvent

    return DiagnosisEvent(
        recording_id=rec.recording_id,
        model_version=version,
        statements=list(outcome.statements),
        probabilities=dict(outcome.probabilities),
        device_id=rec.device_id,
        acquired_at=rec.acquired_at,
        diagnosed_at=datetime.now(UTC),
        readable=outcome.readable,
        unreadable_reasons=list(outcome.unreadable_reasons),
        measurements=outcome.measurements,
        quality=outcome.quality,
    )


def _print_export(
    output: str, rec: Recording, outcome: RecordingOutcome, version: str, settings: Settings, *, waveform: bool
) -> None:
    from exports import PatientIdentity, Waveform, diagnosis_bundle, oru_r01
    from schemas.pseudonym import patient_pseudonym

    event = diagnosis_event(rec, outcome, version)
    pseudonym = patient_pseudonym(rec.patient_ref, settings.patient_hmac_secret) if rec.patient_ref else None
    patient = PatientIdentity(pseudonym=pseudonym)
    if output == "fhir":
        samples = Waveform(rec.signal, rec.fs, tuple(rec.leads)) if waveform else None
        print(json.dumps(diagnosis_bundle(event, patient=patient, waveform=samples)))
    else:
        print(oru_r01(event, patient=patient).replace("\r", "\n").rstrip("\n") + "\n")  # a blank line after each


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
        **_clinical_summary(outcome),
        "vendor": None if rec.vendor is None else rec.vendor.as_record(),
    }
    if everything:
        out["probabilities"] = {code: round(p, 4) for code, p in outcome.probabilities.items()}
    return out


def _clinical_summary(outcome: RecordingOutcome) -> dict[str, Any]:
    """The headline verdict and critical findings, by the same functions as the worker's event and
    the web page (``interpretation.verdict`` / ``.critical``), so every path says the same."""
    from interpretation.summary import clinical_summary

    return clinical_summary(
        [asdict(s) for s in outcome.statements],
        None if outcome.measurements is None else outcome.measurements.as_record(),
        readable=outcome.readable,
        unreadable_reasons=outcome.unreadable_reasons,
        quality=None if outcome.quality is None else outcome.quality.as_record(),
    ).as_json()


def _print_text(file: Path, rec: Recording, outcome: RecordingOutcome, version: str) -> None:
    from ecgstream.commands.inspect import vendor_lines

    print(f"{file}  ({rec.duration_s:.1f} s at {rec.fs:g} Hz; model {version})")
    summary = _clinical_summary(outcome)
    print(f"  verdict: {summary['verdict']['text']}")
    for finding in summary["critical_findings"]:
        print(f"  CRITICAL: {finding['title']} ({finding['evidence']})")
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
        from measurements.rules_rhythm import RHYTHMS

        rhythm = RHYTHMS.get(m.rhythm or "", "not measured")
        left_out = f"; leads left out: {', '.join(m.excluded_leads)}" if m.excluded_leads else ""
        print(f"  rhythm: {rhythm}{left_out}")
    if not outcome.statements:
        print("  no statement")
    for s in outcome.statements:
        probability = "  -  " if s.probability is None else f"{s.probability:.2f}"
        evidence = f"  [{s.evidence}]" if s.evidence else ""
        code = f"+{s.code}" if s.modifies else str(s.code)  # a modifier, after the statement it qualifies
        name = ("possible: " if s.certainty == "possible" else "") + s.description
        print(f"  {code:>4}  {name:<45} {probability}  {PROVENANCE_SHORT.get(s.provenance, s.provenance):<5}"
              f"{evidence}")  # fmt: skip
