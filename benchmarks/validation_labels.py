"""Per-record statement labels of the labelled sets, as SPH AHA codes: positive, negative or unknown.

A label set says, for each record and code, one of three things: the code is **positive** (the
labels affirm it), **negative** (the labels are exhaustive for it and do not affirm it) or
**unknown** (the labels cannot tell). Only positive and negative records are scored; a statement
said on an unknown record is counted apart (``said_unlabelled``), never as a false positive.

- CinC 2021 (``cinc_labels``): the SNOMED -> AHA table of ../shared/data/README.md
  (``benchmarks.cinc2021_check``). Assumption: a record's ``# Dx:`` line is its complete diagnosis
  list in the challenge's SNOMED vocabulary (which has codes for AF, flutter, axis deviation, blocks,
  low voltage, ...), so every code it does not affirm is negative, except: the codes an unmapped
  SNOMED diagnosis is close to (``CINC_UNMAPPED_NEAR``) and the grading modifiers of an affirmed
  statement (``MODIFIER_OF``: "frequent" APCs are not graded by a "PAC" label) are unknown.
- ptbxl-sph (``ptbxl_labels``): the AHA codes of ``metadata.csv``. A code that occurs in the data
  set's labels at all is negative where a record lacks it; a code that never occurs (axis
  deviations, short PR, AV blocks II-III, most modifiers) is unknown everywhere. Known gap
  (docs/fusion.md): sinus bradycardia (22) is labelled on 35 records while 264 measure sinus < 60 bpm.
- LUDB: ``benchmarks.labels_ludb``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from benchmarks.cinc2021_check import truth as cinc_truth
from model.labels import parse_aha_codes

__all__ = [
    "CINC_UNMAPPED_NEAR",
    "MI_CODES",
    "MODIFIER_OF",
    "RecordLabels",
    "cinc_labels",
    "graded_unknown",
    "ptbxl_labels",
    "sph_metadata_codes",
]

MI_CODES = (160, 161, 165, 166)
# Modifier -> the statements it grades; unknown where one of them is affirmed but the modifier is not
# (CinC and LUDB labels name the statement, not its frequency, pattern or response).
MODIFIER_OF: Mapping[int, tuple[int, ...]] = {
    308: (30, 60), 310: (30, 60), 340: (30, 60), 341: (30, 60), 342: (30, 60), 349: (30, 60), 350: (60,),
    346: (50, 51), 347: (50, 51), 362: (145, 146), 363: (145, 146), 367: (146, 147),
    330: MI_CODES, 331: MI_CODES, 332: MI_CODES,
}  # fmt: skip
# Unmapped SNOMED diagnoses of the CinC records that are close to an SPH code without being in the
# README's table: that code is unknown on the record (neither affirmed nor excluded).
CINC_UNMAPPED_NEAR: Mapping[str, tuple[int, ...]] = {
    "253352002": (140,),  # left atrial abnormality ~ left atrial enlargement
    "59931005": (147, 367),  # T-wave inversion ~ T-wave abnormality + inversion
    "698252002": (),  # nonspecific intraventricular conduction disorder: no SPH code
}


@dataclass(frozen=True)
class RecordLabels:
    """One record's labels: ``positive`` and ``negative`` codes; every other code is unknown."""

    record: str
    positive: frozenset[int]
    negative: frozenset[int]
    unmapped: tuple[str, ...] = ()  # the record's diagnoses that have no SPH code

    def __post_init__(self) -> None:
        if self.positive & self.negative:
            raise ValueError(
                f"{self.record}: codes both positive and negative: {sorted(self.positive & self.negative)}"
            )

    def truth(self, code: int) -> bool | None:
        """True (positive), False (negative) or None (unknown)."""
        if code in self.positive:
            return True
        return False if code in self.negative else None


def graded_unknown(positive: Iterable[int]) -> set[int]:
    """Modifiers whose statement is affirmed but which the labels do not grade."""
    found = set(positive)
    return {m for m, parents in MODIFIER_OF.items() if m not in found and found & set(parents)}


def cinc_labels(header: Path, universe: Iterable[int]) -> RecordLabels:
    """Labels of one CinC 2021 record (``# Dx:`` SNOMED codes) over the product's ``universe`` of codes."""
    codes, unmapped = cinc_truth(header)
    positive = set(codes)
    unknown = graded_unknown(positive)
    for snomed in unmapped:
        unknown |= set(CINC_UNMAPPED_NEAR.get(snomed, ())) - positive
    negative = set(universe) - positive - unknown
    return RecordLabels(header.stem, frozenset(positive), frozenset(negative), tuple(unmapped))


def sph_metadata_codes(metadata: Path) -> dict[str, list[int]]:
    """ECG_ID -> AHA codes of every record in an SPH ``metadata.csv``."""
    with open(metadata, newline="", encoding="utf-8") as handle:
        return {row["ECG_ID"]: parse_aha_codes(row["AHA_Code"]) for row in csv.DictReader(handle)}


def ptbxl_labels(ecg_id: str, codes: Iterable[int], vocabulary: Iterable[int]) -> RecordLabels:
    """Labels of one ptbxl-sph record: its codes; negative for the others the data set ever labels."""
    positive = frozenset(int(c) for c in codes)
    return RecordLabels(ecg_id, positive, frozenset(set(vocabulary) - positive))
