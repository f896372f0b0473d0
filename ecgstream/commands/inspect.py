"""``ecgstream inspect FILE... [--json]``: measurements, signal quality and rule statements of ECG
files, locally (no model, no broker, no database).

Any format ``ingest.read_recording`` knows. Files that carry their acquiring system's own
measurements and statements (GE MUSE, Philips Sierra, SCP-ECG) show them too, under ``vendor``,
beside ecgstream's (``schemas.vendor``). Signal quality (``measurements.quality``) and statements
decided from measurements (``measurements.rules``) are shown where those modules are installed.
Exit status 0 when every file was read, 2 when any file failed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCALARS = (
    ("heart_rate_bpm", "heart rate", "bpm"), ("rr_mean_ms", "RR mean", "ms"), ("rr_sd_ms", "RR SD", "ms"),
    ("pr_ms", "PR", "ms"), ("qrs_ms", "QRS", "ms"), ("qt_ms", "QT", "ms"),
    ("qtc_bazett_ms", "QTc Bazett", "ms"), ("qtc_fridericia_ms", "QTc Fridericia", "ms"),
    ("p_axis_deg", "P axis", "deg"), ("qrs_axis_deg", "QRS axis", "deg"), ("t_axis_deg", "T axis", "deg"),
)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="ECG files")
    parser.add_argument("--json", action="store_true", help="print one JSON array, one object per file")


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """A function of the quality/rules modules, or None where this build does not have them."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        return None


def _quality_json(report: Any) -> dict[str, Any]:
    return {
        "verdict": report.verdict,
        "problems": list(report.problems),
        "leads": {q.lead: {"verdict": q.verdict, "problems": list(q.problems)} for q in report.leads},
    }


def inspect_file(
    path: Path, assess: Callable[..., Any] | None, rules: Callable[..., Any] | None
) -> dict[str, Any]:
    """The JSON object of one file (raises the ingest errors for unreadable files)."""
    from ingest import read_recording
    from measurements import measure

    rec = read_recording(path)
    m = measure(rec.signal, rec.fs)
    out: dict[str, Any] = {"file": str(path), "fs": rec.fs, "duration_s": round(rec.duration_s, 2)}
    for name, _, _ in SCALARS:
        value = getattr(m, name)
        if value is not None and math.isfinite(value):
            out[name] = round(float(value), 1)
    out["beats"] = m.beats.counts()
    out["missing"] = dict(m.missing)
    out["paced"] = m.paced
    if rec.vendor is not None:
        out["vendor"] = rec.vendor.as_record()
    report = assess(rec.signal, rec.fs) if assess is not None else None
    if report is not None:
        out["quality"] = _quality_json(report)
    if rules is not None and report is not None:
        statements = rules(m, report, sex=rec.sex, age=rec.age)
        out["statements"] = [
            {
                "code": s.code,
                "evidence": s.evidence,
                **({"modifies": s.modifies} if s.modifies else {}),
                **({"requirement": True} if getattr(s, "requirement", False) else {}),
            }
            for s in statements
        ]
    return out


def _print_table(obj: dict[str, Any]) -> None:
    print(f"{obj['file']}  ({obj['duration_s']:.1f} s at {obj['fs']:g} Hz)")
    for name, label, unit in SCALARS:
        value = obj.get(name)
        shown = (
            f"{value:g} {unit}" if value is not None else f"-  ({obj['missing'].get(name, 'not measured')})"
        )
        print(f"  {label:<16} {shown}")
    print("  beats            " + "  ".join(f"{k} {v}" for k, v in obj["beats"].items()))
    if "quality" in obj:
        bad = {lead: q["problems"] for lead, q in obj["quality"]["leads"].items() if q["problems"]}
        print(
            f"  quality          {obj['quality']['verdict']} {obj['quality']['problems'] or ''} {bad or ''}"
        )
    for s in obj.get("statements", []):
        kind = "requirement" if s.get("requirement") else "statement"
        code = f"{s['modifies']}+{s['code']}" if s.get("modifies") else str(s["code"])
        print(f"  {kind:<11} {code:>7}   {s['evidence']}")
    if "vendor" in obj:
        for line in vendor_lines(obj["vendor"]):
            print("  " + line)


def vendor_lines(vendor: dict[str, Any]) -> list[str]:
    """The file's own measurements and statements (``VendorReport.as_record()``) as text lines."""
    state = ", ".join(str(v) for v in (vendor.get("status"), vendor.get("severity")) if v)
    values = ", ".join(f"{key} {value:g}" for key, value in vendor["measurements"].items())
    lines = [f"vendor ({vendor['system']}{'; ' + state if state else ''}): {values or 'no measurements'}"]
    return lines + [f"vendor statement: {text}" for text in vendor["statements"]]


def run(args: argparse.Namespace) -> int:
    from core.errors import EcgstreamError

    assess = _optional("measurements.quality", "assess_quality")
    rules = _optional("measurements.rules", "rule_statements")
    results: list[dict[str, Any]] = []
    failures = 0
    for file in args.files:
        try:
            obj = inspect_file(file, assess, rules)
        except (EcgstreamError, OSError) as exc:
            failures += 1
            reason = getattr(exc, "reason", "unreadable")
            obj = {"file": str(file), "error": str(exc), "reason": reason}
            if not args.json:
                print(f"{file}: error ({reason}): {exc}", file=sys.stderr)
                continue
        if args.json:
            results.append(obj)
        else:
            _print_table(obj)
    if args.json:
        print(json.dumps(results))
    return 2 if failures else 0
