"""Pacing detection, the ST-elevation rule and the LVH voltage criteria against the labels held:
LUDB 1-100 header diagnoses ("... pacing", "P-synchrony"; "STEMI:"; "Left ventricular
hypertrophy") and the 10 CinC 2021 records (SNOMED 10370003 pacing, 164865005 MI, 164873001 LVH),
read and assessed as the worker does (``ingest.read_recording``: amplitudes taken as mV).

    nice -n 10 .venv/bin/python benchmarks/validate_pacing_st_lvh.py

LUDB's shared leads are each scaled to span one unit (docs/quality.md), so its millivolt
criteria (ST elevation, LVH voltage) are a false-alarm check there, not a sensitivity figure.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest import read_recording  # noqa: E402
from measurements import measure  # noqa: E402
from measurements.lvh import lvh_voltage_criteria  # noqa: E402
from measurements.quality import assess_quality  # noqa: E402
from measurements.st_elevation import st_elevation  # noqa: E402

DATA = ROOT / ".." / "shared" / "data"
LABELS = {  # statement: (LUDB header text, CinC SNOMED code)
    "paced": (("pacing", "P-synchrony"), "10370003"),
    "stemi": (("STEMI:",), "164865005"),
    "lvh": (("Left ventricular hypertrophy",), "164873001"),
}


@dataclass
class Tally:
    """Records by (set, label, fired)."""

    hits: dict[tuple[str, bool, bool], list[str]] = field(default_factory=dict)

    def add(self, part: str, label: bool, fired: bool, record: str) -> None:
        self.hits.setdefault((part, label, fired), []).append(record)

    def line(self, part: str) -> str:
        def n(label: bool, fired: bool) -> int:
            return len(self.hits.get((part, label, fired), []))

        tp, fn, fp, tn = n(True, True), n(True, False), n(False, True), n(False, False)
        sens = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
        spec = f"{tn / (tn + fp):.3f}" if tn + fp else "-"
        return (
            f"{part:9s} labelled {tp + fn:3d}  TP {tp:3d}  FN {fn:3d}  FP {fp:3d}  TN {tn:3d}  "
            f"sens {sens}  spec {spec}  FN {self.hits.get((part, True, False), [])[:10]}  "
            f"FP {self.hits.get((part, False, True), [])}"
        )


def _labelled(path: Path, statement: str) -> bool:
    text = path.read_text()
    ludb_words, snomed = LABELS[statement]
    if "cinc" in path.parent.name:
        return snomed in text
    diagnoses = text.replace("NSTEMI", "")
    return any(word in diagnoses for word in ludb_words)


def main() -> int:
    headers = [DATA / "ludb" / f"{n}.hea" for n in range(1, 101)] + sorted((DATA / "cinc2021").glob("*.hea"))
    tallies = {name: Tally() for name in LABELS}
    for path in headers:
        rec = read_recording(path)
        part = "CinC" if "cinc" in path.parent.name else ("LUDB odd" if int(path.stem) % 2 else "LUDB even")
        m = measure(rec.signal, rec.fs)
        q = assess_quality(rec.signal, rec.fs)
        fired = {
            "paced": bool(m.paced),
            "stemi": st_elevation(m, q, sex=rec.sex, age=rec.age).met,
            "lvh": bool(lvh_voltage_criteria(m, rec.sex)),
        }
        for name, tally in tallies.items():
            if name != "paced" and m.paced:
                continue  # no ST or voltage criteria on paced complexes
            tally.add(part, _labelled(path, name), fired[name], path.stem)
    for name, tally in tallies.items():
        print(f"--- {name}")
        for part in ("LUDB odd", "LUDB even", "CinC"):
            print(tally.line(part))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
