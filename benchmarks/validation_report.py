"""Validation report: sensitivity and PPV of every statement the product can emit, on every labelled
set the project holds, and the false critical alarms.

    taskset -c 0 .venv/bin/python -m benchmarks.validation_report [--json OUT] [--limit N]
        [--oof OOF.npz [--fit-decisions]] [--sets ludb,ludb-noamp,cinc,ptbxl] [--data ../shared/data]
        [--model PATH] [--save-compact OUT] [--compare EARLIER.json]

- **LUDB 1-100** and **CinC 2021 (10)**: each file read by ``ingest.read_recording`` and analysed by
  ``stream_processor.analysis.BatchAnalyser`` with the shipped ``Predictor``, one file at a time,
  exactly as ``ecgstream diagnose`` does (MEASUREMENTS / FUSION / MODEL_PATH settings honoured).
  Labels: ``benchmarks.labels_ludb`` (header diagnoses) and ``benchmarks.validation_labels``
  (SNOMED table of ../shared/data/README.md).
- **ptbxl-sph** (z-scored, not mV): ``benchmarks.validation_ptbxl`` (amplitude checks off) fused
  with out-of-fold probabilities from ``--oof``; without it only the statements the rules decide
  alone are scored (the model-decided rows are skipped and say so); with it the set is reported as
  ``ptbxl-oof``. ``--limit N``: the first N records (metadata order) of this set only; LUDB and CinC
  are always run whole.
- **LUDB, amplitude checks off** (``ludb-noamp``): the shared LUDB copy scales each lead to span
  about 1 unit (docs/quality.md), so the mV-based checks (low voltage above all) misfire on it as
  ``diagnose`` runs it; this set runs the same files and model with them off.

Per set: a table (code, statement, labelled positives, known negatives, TP, FP, FN, said where the
labels cannot tell, sensitivity, PPV), the macro summary, MI as a group, every critical finding
judged supported / false / unverifiable (``benchmarks.validation_scoring``), unmapped diagnoses.
LUDB's ``long_qtc`` is judged by the cardiologists' QT (``benchmarks.validate_ludb.reference``)
with the product's RR (Fridericia), since LUDB's diagnoses never state QT. ``--compare`` prints
the changed rows against an earlier report (``benchmarks.validation_compare``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.labels_ludb import ludb_labels
from benchmarks.validation_compare import compact, compare
from benchmarks.validation_labels import RecordLabels, cinc_labels, ptbxl_labels, sph_metadata_codes
from benchmarks.validation_scoring import (
    AlarmCheck,
    CodeRow,
    RecordResult,
    Verdict,
    classify_alarm,
    known_codes,
    macro_summary,
    score_codes,
    score_groups,
)
from interpretation.critical import QTC_LIMIT_MS, critical_findings
from interpretation.fusion import sph_descriptions
from interpretation.table import DEFAULT_TABLE, mode_of
from interpretation.verdict import headline_verdict

__all__ = ["SetReport", "build_parser", "main"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
SETS = ("ludb", "ludb-noamp", "cinc", "ptbxl")
MOST = 30  # alarms listed per finding and verdict (all of them are in --json)
KEPT_MEASUREMENTS = (
    "heart_rate_bpm",
    "rr_mean_ms",
    "pr_ms",
    "qrs_ms",
    "qt_ms",
    "qtc_fridericia_ms",
    "qrs_axis_deg",
)


@dataclass
class SetReport:
    key: str
    title: str
    results: list[RecordResult]
    alarms: list[AlarmCheck]
    skipped: dict[int, str] = field(default_factory=dict)  # code -> why it is not scored on this set
    notes: list[str] = field(default_factory=list)
    unmapped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def record_result(
    labels: RecordLabels, statements: Sequence[Mapping[str, Any]], measurements: Mapping[str, Any] | None,
    readable: bool, reasons: Sequence[str], quality: Mapping[str, Any] | None,
) -> RecordResult:  # fmt: skip
    """Critical findings and headline of one analysed record, as the page computes them."""
    findings = tuple(f.as_json() for f in critical_findings(statements, measurements))
    verdict = headline_verdict(statements, readable=readable, unreadable_reasons=reasons, quality=quality)
    detail = {
        "record": labels.record, "readable": readable, "unreadable_reasons": list(reasons),
        "positive": sorted(labels.positive), "negative": sorted(labels.negative),
        "unmapped": list(labels.unmapped), "verdict": verdict.text,
        "statements": [{k: s.get(k) for k in ("code", "modifies", "provenance", "probability", "certainty")}
                       for s in statements],
        "measurements": {k: (measurements or {}).get(k) for k in KEPT_MEASUREMENTS},
    }  # fmt: skip
    said = frozenset(int(s["code"]) for s in statements)
    definite = frozenset(int(s["code"]) for s in statements if s.get("certainty", "definite") != "possible")
    return RecordResult(labels, said, readable, findings, detail, definite)


def check_alarms(
    results: Sequence[RecordResult],
    override: Callable[[RecordResult, str], tuple[Verdict, str] | None] | None = None,
) -> list[AlarmCheck]:
    checks, known = [], known_codes(results)
    for r in results:
        for f in r.findings:
            verdict, why = classify_alarm(
                r.labels, f["finding"], known, override(r, f["finding"]) if override else None
            )
            checks.append(AlarmCheck(r.labels.record, f["finding"], f["evidence"], verdict, why))
    return checks


# -- the sets ------------------------------------------------------------------------------------


def run_files(
    headers: Sequence[Path], labels: Callable[[Path], RecordLabels], analyser: Any
) -> list[RecordResult]:
    """``ecgstream diagnose`` on each file (read_recording + BatchAnalyser.run of that one file)."""
    from ingest import read_recording

    results = []
    for header in headers:
        outcome = analyser.run([read_recording(header)]).outcomes[0]
        results.append(record_result(
            labels(header), [asdict(s) for s in outcome.statements],
            None if outcome.measurements is None else outcome.measurements.as_record(),
            outcome.readable, outcome.unreadable_reasons,
            None if outcome.quality is None else outcome.quality.as_record(),
        ))  # fmt: skip
    return results


def ludb_qt_verdict(folder: Path) -> Callable[[RecordResult, str], tuple[Verdict, str] | None]:
    """``long_qtc`` on LUDB: QTcF from the cardiologists' global QT and the product's mean RR."""
    from benchmarks.validate_ludb import reference

    def judge(result: RecordResult, finding: str) -> tuple[Verdict, str] | None:
        if finding != "long_qtc":
            return None
        qt = reference(folder / result.labels.record)["qt_ms"]
        rr = result.detail["measurements"].get("rr_mean_ms")
        if qt is None or not rr:
            return "unverifiable", "no annotated QT or no measured RR"
        qtc = qt / (rr / 1000.0) ** (1.0 / 3.0)
        verdict: Verdict = "supported" if qtc > QTC_LIMIT_MS else "false"
        return verdict, f"cardiologists' QT {qt:.0f} ms, QTcF {qtc:.0f} ms with the measured RR {rr:.0f} ms"

    return judge


def ludb_set(folder: Path, analyser: Any) -> SetReport:
    headers = sorted(folder.glob("*.hea"), key=lambda p: int(p.stem) if p.stem.isdigit() else 10**9)
    results = run_files(headers, ludb_labels, analyser)
    unmapped = Counter(d for r in results for d in r.labels.unmapped)
    notes = [
        "labels: header diagnoses -> SPH codes (benchmarks/labels_ludb.py; assumptions there)",
        "as `ecgstream diagnose`: the shared copy's leads span ~1 unit, read as mV (see ludb-noamp)",
    ]
    return SetReport("ludb", f"LUDB ({len(headers)} records, {folder})", results,
                     check_alarms(results, ludb_qt_verdict(folder)), notes=notes, unmapped=unmapped)  # fmt: skip


def ludb_noamp_set(folder: Path, predictor: Any) -> SetReport:
    """LUDB with the amplitude checks off: the shared copy scales every lead to span about 1 unit
    (docs/quality.md), so its "mV" are not mV; the model (which z-scores its input) is unaffected."""
    from benchmarks.validation_ptbxl import AMPLITUDE_RULE_CODES, analyse_zscored
    from ingest import read_recording

    headers = sorted(folder.glob("*.hea"), key=lambda p: int(p.stem) if p.stem.isdigit() else 10**9)
    codes = [label.code for label in predictor.labels]
    thresholds = {c: float(t) for c, t in zip(codes, predictor.thresholds, strict=True)}
    results = []
    for header in headers:
        rec = read_recording(header)
        row = predictor.predict([rec.signal], [rec.fs], [rec.age], [rec.sex]).probabilities[0]
        out = analyse_zscored(rec, dict(zip(codes, map(float, row), strict=True)), thresholds)
        results.append(record_result(ludb_labels(header), out.statements, out.measurements, out.readable,
                                     out.reasons, out.quality))  # fmt: skip
    skipped = {
        c: "amplitude rule, amplitudes not mV"
        for c in AMPLITUDE_RULE_CODES
        if mode_of(c, DEFAULT_TABLE) != "model"
    }
    notes = ["the same files and model, quality and rules with the amplitude checks off (benchmarks/validation_ptbxl.py):",
             "the shared LUDB copy scales each lead to span ~1 unit (docs/quality.md), so 'ludb' above sees no mV"]  # fmt: skip
    return SetReport("ludb-noamp", f"LUDB, amplitude checks off ({len(headers)} records)", results,
                     check_alarms(results, ludb_qt_verdict(folder)), skipped, notes)  # fmt: skip


def cinc_set(folder: Path, analyser: Any, universe: Sequence[int]) -> SetReport:
    headers = sorted(folder.glob("*.hea"))
    results = run_files(headers, lambda h: cinc_labels(h, universe), analyser)
    unmapped = Counter(f"SNOMED {d}" for r in results for d in r.labels.unmapped)
    notes = ["labels: # Dx SNOMED -> AHA (../shared/data/README.md); a Dx list is taken as complete"]
    return SetReport("cinc", f"CinC 2021 ({len(headers)} records, {folder})", results, check_alarms(results),
                     notes=notes, unmapped=unmapped)  # fmt: skip


def ptbxl_set(folder: Path, universe: Sequence[int], decisions: Any, limit: int | None) -> SetReport:
    from benchmarks.validation_ptbxl import AMPLITUDE_RULE_CODES, analyse_zscored
    from ingest import read_recording

    codes_of = sph_metadata_codes(folder / "metadata.csv")
    vocabulary = {c for codes in codes_of.values() for c in codes}
    ids = [e for e in codes_of if decisions is None or e in decisions.probabilities][:limit]
    results = []
    for ecg_id in ids:
        rec = read_recording(folder / "records" / f"{ecg_id}.h5")
        probabilities = decisions.probabilities[ecg_id] if decisions else {}
        out = analyse_zscored(rec, probabilities, decisions.thresholds if decisions else {})
        labels = ptbxl_labels(ecg_id, codes_of[ecg_id], vocabulary)
        results.append(
            record_result(labels, out.statements, out.measurements, out.readable, out.reasons, out.quality)
        )
    skipped = {
        c: "amplitude rule on z-scored input"
        for c in AMPLITUDE_RULE_CODES
        if mode_of(c, DEFAULT_TABLE) != "model"
    }
    notes = ["z-scored signals: assess_quality(amplitudes_in_mv=False), rule_statements(amplitudes_valid=False)",
             f"{len(ids)} records" + (f" (--limit {limit})" if limit else "")]  # fmt: skip
    if decisions is None:
        notes.append("no --oof: the model-decided rows are skipped; only statements the rules decide alone "
                     "(fusion mode 'rule') are scored, and critical findings need no model statement")  # fmt: skip
        for c in universe:
            if mode_of(c, DEFAULT_TABLE) != "rule":
                skipped.setdefault(c, "model-decided (no --oof)")
    else:
        notes.append(f"model: out-of-fold {decisions.source}")
    key, title = (
        ("ptbxl", f"ptbxl-sph ({folder})")
        if decisions is None
        else ("ptbxl-oof", f"ptbxl-sph + OOF ({folder})")
    )
    return SetReport(key, title, results, check_alarms(results), skipped, notes)


# -- output --------------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def rows_of(report: SetReport, names: Mapping[int, str]) -> tuple[list[CodeRow], list[CodeRow]]:
    scored = {c: n for c, n in names.items() if c not in report.skipped}
    return score_codes(report.results, scored), score_groups(report.results, set(report.skipped))


def print_set(report: SetReport, rows: Sequence[CodeRow], groups: Sequence[CodeRow]) -> None:
    unreadable = [r.labels.record for r in report.results if not r.readable]
    print(f"\n== {report.title}: {len(report.results)} records, {len(unreadable)} unreadable"
          + (f" ({', '.join(unreadable)})" if unreadable else "") + f"; {report.seconds:.1f} s")  # fmt: skip
    for note in report.notes:
        print(f"   {note}")
    print(
        f"{'code':>5}  {'statement':<42} {'lab':>4} {'neg':>4} {'TP':>4} {'FP':>4} {'FN':>4} {'unlab':>5} {'sens':>5} {'PPV':>5}"
    )
    silent = []
    for row in [*rows, *groups]:
        if not (row.labelled or row.tp + row.fp + row.said_unlabelled):
            silent.append(str(row.code))
            continue
        print(f"{row.code!s:>5}  {row.name[:42]:<42} {row.labelled:>4} {row.negatives:>4} {row.tp:>4} {row.fp:>4} "
              f"{row.fn:>4} {row.said_unlabelled:>5} {_fmt(row.sensitivity):>5} {_fmt(row.ppv):>5}")  # fmt: skip
    if silent:
        print(f"   no label and never said: {', '.join(silent)}")
    if report.skipped:
        why: dict[str, list[str]] = {}
        for code, reason in sorted(report.skipped.items()):
            why.setdefault(reason, []).append(str(code))
        for reason, codes in why.items():
            print(f"   not scored here ({reason}): {', '.join(codes)}")
    s = macro_summary(rows)
    micro = s["micro"]
    print(f"   macro over {s['statements_with_labels']} labelled statements: sensitivity {_fmt(s['macro_sensitivity'])}; "
          f"macro PPV over {s['statements_with_calls']} statements said on labelled records {_fmt(s['macro_ppv'])}; "
          f"micro TP {micro['tp']} FP {micro['fp']} FN {micro['fn']} (sens {_fmt(micro['sensitivity'])}, "
          f"PPV {_fmt(micro['ppv'])})")  # fmt: skip
    verdicts = Counter(a.verdict for a in report.alarms)
    print(f"   critical findings: {len(report.alarms)} (supported {verdicts['supported']}, "
          f"FALSE {verdicts['false']}, unverifiable {verdicts['unverifiable']})")  # fmt: skip
    grouped: dict[tuple[str, str], list[AlarmCheck]] = {}
    for a in report.alarms:
        if a.verdict != "supported":
            grouped.setdefault((a.verdict, a.finding), []).append(a)
    for (verdict, finding), checks in sorted(
        grouped.items(), key=lambda item: (item[0][0] != "false", item[0])
    ):
        same = len({a.why for a in checks}) == 1
        listed = "; ".join(
            f"{a.record} ({a.evidence}" + ("" if same else f"; {a.why}") + ")" for a in checks[:MOST]
        )
        listed += f"; and {len(checks) - MOST} more (--json)" if len(checks) > MOST else ""
        head = f"{verdict.upper()} {finding} ({len(checks)}" + (f", {checks[0].why}" if same else "") + ")"
        print(
            textwrap.fill(f"{head}: {listed}", width=150, initial_indent="     ", subsequent_indent="       ")
        )
    if report.unmapped:
        listed = "; ".join(f"{d} ({n})" for d, n in report.unmapped.most_common())
        print(textwrap.fill(f"unmapped diagnoses (no SPH code): {listed}", width=150, initial_indent="   ",
                            subsequent_indent="     "))  # fmt: skip


def set_json(report: SetReport, rows: Sequence[CodeRow], groups: Sequence[CodeRow]) -> dict[str, Any]:
    return {
        "title": report.title, "records": len(report.results), "seconds": round(report.seconds, 2),
        "unreadable": [r.labels.record for r in report.results if not r.readable],
        "notes": report.notes, "skipped": {str(c): why for c, why in report.skipped.items()},
        "rows": [r.as_json() for r in rows], "groups": [g.as_json() for g in groups],
        "summary": macro_summary(rows),
        "critical": {"total": len(report.alarms), **Counter(a.verdict for a in report.alarms),
                     "false_alarms": [a.as_json() for a in report.alarms if a.verdict == "false"],
                     "all": [a.as_json() for a in report.alarms]},
        "unmapped_diagnoses": dict(report.unmapped), "per_record": [r.detail for r in report.results],
    }  # fmt: skip


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.validation_report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data", type=Path, default=DATA, help="folder with ludb/, cinc2021/, ptbxl-sph/")
    parser.add_argument("--model", type=Path, default=None, help="checkpoint (default: MODEL_PATH)")
    parser.add_argument(
        "--oof", type=Path, default=None, help="out-of-fold .npz for the ptbxl-sph model rows"
    )
    parser.add_argument("--fit-decisions", action="store_true",
                        help="fit calibration + prevalence thresholds on the OOF file (another network)")  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="first N ptbxl-sph records only")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated subset of {','.join(SETS)}")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--json", type=Path, default=None, help="write everything here")
    parser.add_argument("--save-compact", type=Path, default=None,
                        help="write the report without per-record detail (to commit, for --compare)")  # fmt: skip
    parser.add_argument("--compare", type=Path, default=None,
                        help="an earlier --json / --save-compact file: print the before -> after changes")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if unknown := set(sets) - set(SETS):
        print(f"error: unknown set(s) {sorted(unknown)}; choose from {SETS}", file=sys.stderr)
        return 2
    from core.config import load_settings
    from model.predictor import Predictor
    from stream_processor.analysis import AnalysisOptions, BatchAnalyser

    settings = load_settings()
    predictor = Predictor.load(args.model or settings.model_path, torch_threads=args.threads)
    analyser = BatchAnalyser(
        predictor, AnalysisOptions(measure=settings.measurements, fusion=settings.fusion)
    )
    names = dict(sph_descriptions())
    universe = sorted(names)
    print(f"validation report {dt.date.today().isoformat()}: model {predictor.version}, code {_git_commit()}, "
          f"MEASUREMENTS={'on' if settings.measurements else 'off'} FUSION={'on' if settings.fusion else 'off'}")  # fmt: skip
    reports: list[SetReport] = []
    for key in sets:
        started = time.perf_counter()
        if key == "ludb":
            report = ludb_set(args.data / "ludb", analyser)
        elif key == "ludb-noamp":
            report = ludb_noamp_set(args.data / "ludb", predictor)
        elif key == "cinc":
            report = cinc_set(args.data / "cinc2021", analyser, universe)
        else:
            decisions = None
            if args.oof is not None:
                from benchmarks.validation_ptbxl import load_decisions

                decisions = load_decisions(args.oof, predictor, fit=args.fit_decisions)
            report = ptbxl_set(args.data / "ptbxl-sph", universe, decisions, args.limit)
        report.seconds = time.perf_counter() - started
        reports.append(report)
    for report in reports:  # codes the product said that code.csv does not name
        for r in report.results:
            for s in r.detail["statements"]:
                names.setdefault(int(s["code"]), f"statement {s['code']} (not in code.csv)")
    output: dict[str, Any] = {"date": dt.date.today().isoformat(), "command": " ".join(["python -m benchmarks.validation_report", *sys.argv[1:]]),
                              "model_version": predictor.version, "code": _git_commit(), "sets": {}}  # fmt: skip
    labelled_anywhere: set[int] = set()
    for report in reports:
        rows, groups = rows_of(report, names)
        print_set(report, rows, groups)
        labelled_anywhere |= {int(r.code) for r in rows if r.labelled}
        output["sets"][report.key] = set_json(report, rows, groups)
    never = [c for c in sorted(names) if c not in labelled_anywhere]
    print(f"\nstatements with no labelled positive on any set run ({len(never)} of {len(names)}; cannot be evaluated): "
          + ", ".join(str(c) for c in never))  # fmt: skip
    output["not_evaluable"] = [{"code": c, "name": names[c]} for c in never]
    for path, content in ((args.json, output), (args.save_compact, compact(output))):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(content, indent=1, default=str))
    if args.compare is not None:
        print("\n== before -> after (changed rows only)")
        before = json.loads(args.compare.read_text())
        print("\n".join(compare(before, json.loads(json.dumps(output, default=str)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
