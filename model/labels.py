"""AHA statement labels: the SPH ``code.csv`` table and the ``AHA_Code`` grammar.

``AHA_Code`` grammar (SPH, Liu et al. 2022): statements are separated by ``;`` and a modifier follows
its statement after ``+``; ``"22;23"`` sets 22 and 23, ``"30+310"`` sets both 30 and 310.
The table itself (SPH's ``code.csv`` rows) is ``schemas.aha_codes.SPH_CODES``; a checkpoint's labels
are read from its training folder's ``code.csv``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Label", "parse_aha_codes", "read_code_table", "multi_hot"]


@dataclass(frozen=True)
class Label:
    """One AHA statement the model scores."""

    code: int
    description: str
    category: str

    @property
    def is_modifier(self) -> bool:
        return self.category == "Modifier"


def parse_aha_codes(text: str) -> list[int]:
    """Codes of one ``AHA_Code`` cell, in order of appearance, without duplicates."""
    codes: list[int] = []
    for statement in str(text).split(";"):
        for part in statement.split("+"):
            part = part.strip()
            if not part:
                continue
            code = int(float(part))
            if code not in codes:
                codes.append(code)
    return codes


def read_code_table(path: str | Path) -> tuple[Label, ...]:
    """Labels of an SPH ``code.csv`` (columns Category, Code, Description), in file order."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(Label(int(r["Code"]), r["Description"].strip(), r["Category"].strip()) for r in rows)


def multi_hot(code_lists: Iterable[Sequence[int]], labels: Sequence[Label]) -> np.ndarray:
    """(B, L) float32 0/1 targets; codes absent from ``labels`` are ignored."""
    index = {label.code: i for i, label in enumerate(labels)}
    rows = list(code_lists)
    y = np.zeros((len(rows), len(labels)), dtype=np.float32)
    for i, codes in enumerate(rows):
        for code in codes:
            j = index.get(int(code))
            if j is not None:
                y[i, j] = 1.0
    return y
