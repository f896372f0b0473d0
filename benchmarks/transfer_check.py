"""Transfer check of a model change: the statements the model decides, before -> after, per labelled set.

Reads validation reports (``benchmarks.validation_report --json`` or ``--save-compact``; one per
model, same code) and prints, for every statement whose fusion mode lets the model decide or
contribute (``interpretation.table``: not ``rule``), sensitivity / PPV / false-positive rate per set
before -> after, then the false-positive rate of ST deviation (145), T-wave abnormality (147) and any
MI statement, the statements that fire falsely when a model meets another hospital's carts::

    .venv/bin/python benchmarks/transfer_check.py BEFORE.json AFTER.json

The false-positive rate is FP / labelled negatives (records whose labels exclude the statement).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from interpretation.table import DEFAULT_TABLE, mode_of

__all__ = ["model_rows", "false_positive_rate", "transfer_lines"]

WATCHED = ("145", "147", "MI")  # ST deviation, T-wave abnormality, any MI statement (160/161/165/166)


def false_positive_rate(row: Mapping[str, Any] | None) -> float | None:
    """FP / labelled negatives, None without a negative."""
    if not row or not row.get("negatives"):
        return None
    return row["fp"] / row["negatives"]


def model_rows(report_set: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The rows of one set whose statement the model decides or contributes to, by code (groups too)."""
    rows = {str(r["code"]): r for r in report_set["rows"] if mode_of(int(r["code"]), DEFAULT_TABLE) != "rule"}
    rows.update({str(g["code"]): g for g in report_set.get("groups", [])})
    return rows


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:5.2f}"


def _cell(row: Mapping[str, Any] | None) -> str:
    if not row:
        return "  -  /  -  /  -  "
    return f"{_fmt(row.get('sensitivity'))}/{_fmt(row.get('ppv'))}/{_fmt(false_positive_rate(row))}"


def transfer_lines(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Printable before -> after table of the model-decided statements and the watched FP rates."""
    lines = [
        f"before: model {before.get('model_version')} code {before.get('code')}",
        f"after:  model {after.get('model_version')} code {after.get('code')}",
    ]
    for key in sorted(set(before["sets"]) & set(after["sets"])):
        b_rows, a_rows = model_rows(before["sets"][key]), model_rows(after["sets"][key])
        lines.append(f"\n{after['sets'][key]['title']}: sens / PPV / FP rate, before -> after")
        for code in sorted(
            set(b_rows) | set(a_rows), key=lambda c: (not c.isdigit(), int(c) if c.isdigit() else 0, c)
        ):
            b, a = b_rows.get(code), a_rows.get(code)
            labelled = max((r.get("labelled", 0) for r in (b, a) if r), default=0)
            said = sum(r["tp"] + r["fp"] for r in (b, a) if r)
            if not labelled and not said:
                continue
            name = (a or b or {}).get("name", "")[:34]
            lines.append(f"  {code:>11} {name:34s} pos {labelled:3d}  {_cell(b)} -> {_cell(a)}")
        watched = []
        for code in WATCHED:
            b, a = b_rows.get(code), a_rows.get(code)
            fp_b, fp_a = (r["fp"] if r else 0 for r in (b, a))
            neg = (a or b or {}).get("negatives", 0)
            watched.append(f"{code} {fp_b}/{neg} -> {fp_a}/{neg}")
        lines.append("  false positives / labelled negatives: " + "; ".join(watched))
        b_sum, a_sum = before["sets"][key]["summary"], after["sets"][key]["summary"]
        lines.append(
            "  all statements: macro sens "
            f"{_fmt(b_sum['macro_sensitivity'])} -> {_fmt(a_sum['macro_sensitivity'])}, macro PPV "
            f"{_fmt(b_sum['macro_ppv'])} -> {_fmt(a_sum['macro_ppv'])}; false critical alarms "
            f"{len(before['sets'][key]['critical'].get('false_alarms', []))} -> "
            f"{len(after['sets'][key]['critical'].get('false_alarms', []))}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    before, after = (json.loads(p.read_text("utf-8")) for p in (args.before, args.after))
    print("\n".join(transfer_lines(before, after)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
