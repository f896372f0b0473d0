"""Physician-confirmed statements as a labelled data set in the SPH layout, for the next training run.

For every recording whose latest overread is a confirm or an edit (``storage.overreads``; optionally
only those confirmed since a date), one record of the SPH layout that ``model.training.data.read_sph_dataset``
reads:

- ``records/<ECG_ID>.h5``: dataset ``ecg``, (12, N) float16 in mV, leads I II III aVR aVL aVF V1-V6,
  500 Hz (SPH's rate; other rates are resampled, ``model.preprocessing.resample``), from the samples
  the gateway kept (``tracings``) or the worker stored (``STORE_SIGNAL``);
- a ``metadata.csv`` row: ECG_ID (the recording id), AHA_Code in SPH's grammar (``;`` between
  statements, ``+`` before a modifier of the statement before it: ``50+346;147``), Patient_ID (the
  keyed hash the database keeps, never a clear reference; ``unknown`` for recordings without one,
  so a patient-grouped split keeps them together), Age, Sex, N (samples), Date (acquisition, else
  arrival, day in UTC);
- ``code.csv``: SPH's 44 statements and 15 modifiers (``schemas.aha_codes.SPH_CODES``).

Recordings without kept samples, without all 12 leads, or whose overread has no statement (free text
only) are counted and left out. Records are written one at a time (bounded memory).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.writers.sph import write_sph_record, write_sph_tables
from model.preprocessing import resample
from schemas.aha_codes import SPH_CODES
from schemas.recording import STANDARD_LEADS
from storage import get_diagnosis
from storage.export_context import load_export_context
from storage.overreads import confirmed_overreads

__all__ = ["SPH_RATE_HZ", "ExportSummary", "aha_code", "export_confirmed"]

SPH_RATE_HZ = 500.0
FIRST_MODIFIER = 300
UNKNOWN_PATIENT = "unknown"


@dataclass
class ExportSummary:
    written: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def aha_code(statements: Sequence[Mapping[str, Any]]) -> str:
    """SPH's ``AHA_Code`` of ``statements``: primaries by ``;``, each followed by ``+<modifier>`` for
    the modifiers that qualify it; a modifier that qualifies none present stands on its own."""
    primaries = [int(s["code"]) for s in statements if int(s["code"]) < FIRST_MODIFIER]
    parts = []
    for code in primaries:
        modifiers = [int(s["code"]) for s in statements if s.get("modifies") is not None and int(s["modifies"]) == code]
        parts.append("+".join(str(c) for c in [code, *modifiers]))
    for s in statements:
        code, target = int(s["code"]), s.get("modifies")
        if code >= FIRST_MODIFIER and (target is None or int(target) not in primaries):
            parts.append(str(code))
    return ";".join(parts)


def _twelve_leads(signal: np.ndarray, leads: Sequence[str]) -> np.ndarray | None:
    index = {name: i for i, name in enumerate(leads)}
    if any(name not in index for name in STANDARD_LEADS):
        return None
    return np.stack([signal[index[name]] for name in STANDARD_LEADS])


def _day(*moments: datetime | None) -> str:
    moment = next((m for m in moments if m is not None), None)
    return "" if moment is None else moment.date().isoformat()


async def export_confirmed(engine: AsyncEngine, out: Path, *, since: datetime | None = None) -> ExportSummary:
    """Write the SPH-layout data set of the confirmed overreads into ``out`` (created; must hold no
    ``metadata.csv`` yet: ``FileExistsError``)."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / "metadata.csv").exists():
        raise FileExistsError(f"{out / 'metadata.csv'} exists: choose an empty folder")
    summary = ExportSummary()
    rows = []
    for overread in await confirmed_overreads(engine, since=since):
        rid = overread.recording_id
        code = aha_code(overread.statements)
        view = await get_diagnosis(engine, rid)
        context = await load_export_context(engine, rid)
        if not code:
            summary.skipped["no_statement"] += 1
        elif view is None or context is None or context.signal is None or context.fs is None:
            summary.skipped["no_samples"] += 1
        elif (ordered := _twelve_leads(context.signal, context.leads)) is None:
            summary.skipped["missing_leads"] += 1
        else:
            signal = resample(ordered, context.fs, SPH_RATE_HZ)
            write_sph_record(signal, out / "records" / f"{rid}.h5")
            rows.append([rid, code, view.patient_ref_hash or UNKNOWN_PATIENT, "" if view.age is None else view.age,
                         view.sex or "", signal.shape[1], _day(view.acquired_at, view.ingested_at, view.received_at)])  # fmt: skip
            summary.written.append(rid)
    write_sph_tables(out, rows, SPH_CODES)
    return summary
