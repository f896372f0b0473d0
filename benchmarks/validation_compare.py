"""Before/after table of two validation reports (``benchmarks.validation_report --json``). Pure.

``compact(report)`` keeps what a later comparison needs (rows, groups, summary, critical counts and
the false alarms; no per-record detail), small enough to commit (benchmarks/results/).
``compare(before, after)`` lists, per set present in both, every code labelled or said in either
run whose counts changed: sensitivity, PPV, TP / FP / FN before -> after; then the macro figures
and the false critical alarms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["compact", "compare"]

KEPT = ("title", "records", "unreadable", "notes", "skipped", "rows", "groups", "summary")


def compact(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report without per-record detail (see the module docstring)."""
    sets = {}
    for key, s in report["sets"].items():
        critical = {k: v for k, v in s["critical"].items() if k != "all"}
        sets[key] = {**{k: s[k] for k in KEPT}, "critical": critical}
    head = {k: report.get(k) for k in ("date", "command", "model_version", "code")}
    return {**head, "sets": sets, "not_evaluable": report.get("not_evaluable", [])}


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _counts(row: Mapping[str, Any] | None) -> tuple[int, int, int]:
    return (row["tp"], row["fp"], row["fn"]) if row else (0, 0, 0)


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Printable lines: the changes from ``before`` to ``after`` (compact or full reports)."""
    lines = [f"before: {before.get('date')} code {before.get('code')} model {before.get('model_version')}",
             f"after:  {after.get('date')} code {after.get('code')} model {after.get('model_version')}"]  # fmt: skip
    for key in [k for k in after["sets"] if k in before["sets"]]:
        b, a = before["sets"][key], after["sets"][key]
        lines.append(f"\n== {key}: {b['records']} -> {a['records']} records")
        if b["records"] != a["records"]:
            lines.append("   different records (e.g. --limit): the rows below are not comparable")
        lines.append(
            f"{'code':>5}  {'statement':<40} {'sens':>11} {'PPV':>11} {'TP/FP/FN before':>16} {'after':>12}"
        )
        old = {r["code"]: r for r in b["rows"] + b["groups"]}
        new = {r["code"]: r for r in a["rows"] + a["groups"]}
        for code in [*new, *(c for c in old if c not in new)]:
            r0, r1 = old.get(code), new.get(code)
            if _counts(r0) == _counts(r1):
                continue
            name = (r1 or r0 or {}).get("name", "")
            sens = f"{_rate(r0 and r0['sensitivity'])}->{_rate(r1 and r1['sensitivity'])}"
            ppv = f"{_rate(r0 and r0['ppv'])}->{_rate(r1 and r1['ppv'])}"
            c0, c1 = "/".join(map(str, _counts(r0))), "/".join(map(str, _counts(r1)))
            lines.append(f"{code!s:>5}  {name[:40]:<40} {sens:>11} {ppv:>11} {c0:>16} {c1:>12}")
        s0, s1 = b["summary"], a["summary"]
        lines.append(
            f"   macro sensitivity {_rate(s0['macro_sensitivity'])}->{_rate(s1['macro_sensitivity'])}, "
            f"macro PPV {_rate(s0['macro_ppv'])}->{_rate(s1['macro_ppv'])}, micro TP/FP/FN "
            f"{s0['micro']['tp']}/{s0['micro']['fp']}/{s0['micro']['fn']} -> "
            f"{s1['micro']['tp']}/{s1['micro']['fp']}/{s1['micro']['fn']}"
        )
        f0, f1 = b["critical"]["false_alarms"], a["critical"]["false_alarms"]
        gone = sorted({(x["record"], x["finding"]) for x in f0} - {(x["record"], x["finding"]) for x in f1})
        came = sorted({(x["record"], x["finding"]) for x in f1} - {(x["record"], x["finding"]) for x in f0})
        lines.append(
            f"   false critical alarms {len(f0)} -> {len(f1)}; gone: {_listed(gone)}; new: {_listed(came)}"
        )
    return lines


def _listed(pairs: list[tuple[str, str]], most: int = 40) -> str:
    text = ", ".join(f"{r} {f}" for r, f in pairs[:most]) or "none"
    return text + (f" and {len(pairs) - most} more" if len(pairs) > most else "")
