"""The flutter-wave measure (``measurements.flutter.atrial_waves``) against labels: LUDB header rhythm
"Atrial flutter" / "Atrial fibrillation", ptbxl-sph statements 51 / 50, CinC 2021 SNOMED 164890007 /
164889003. Prints, per set and label group, how many records the measure calls flutter, the
organisation of each flutter and fibrillation record, and the highest organisations among the rest.
Only records whose measured rhythm is not sinus or paced are looked at (as in ``measure``).

    nice -n 10 .venv/bin/python benchmarks/validate_flutter.py
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.validate_af_rule import cinc_records, ludb_records, ptbxl_records  # noqa: E402
from measurements import measure  # noqa: E402
from measurements.filters import diagnostic_band  # noqa: E402
from measurements.flutter import MIN_ORGANISATION, atrial_waves  # noqa: E402

# label text per set: (flutter, fibrillation)
MARKERS = {"LUDB 1-100": ("Atrial flutter", "Atrial fibrillation"), "CinC 10": ("164890007", "164889003")}


def _label(set_name: str, labels: str) -> str:
    if set_name == "ptbxl-sph":
        codes = labels.split()
        return "flutter" if "51" in codes else "fibrillation" if "50" in codes else "other"
    flutter, fibrillation = MARKERS[set_name]
    return "flutter" if flutter in labels else "fibrillation" if fibrillation in labels else "other"


def main() -> int:
    for name, records in (
        ("LUDB 1-100", ludb_records()),
        ("CinC 10", cinc_records()),
        ("ptbxl-sph", ptbxl_records()),
    ):
        seen: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
        rhythms: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for record, labels, signal, fs in records:
            label = _label(name, labels)
            m = measure(signal, fs)
            rhythms[label][m.rhythm or "none"] += 1
            if m.rhythm in (None, "sinus", "paced"):
                continue
            waves = atrial_waves(diagnostic_band(signal, fs), np.asarray(m.beats.r_peaks), fs)
            value = -1.0 if waves is None else waves.organisation
            where = "-" if waves is None else f"{waves.cycle_ms:.0f} ms"
            seen[label].append((value, record, where))
        print(f"\n{name}: measured rhythm per label")
        for label, counts in sorted(rhythms.items()):
            print(f"  {label:12s} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for label in ("flutter", "fibrillation", "other"):
            values = sorted(seen.get(label, []), reverse=True)
            called = sum(1 for v, _, _ in values if v >= MIN_ORGANISATION)
            shown = values if label == "flutter" else values[:6]
            print(f"  {label:12s} not sinus/paced {len(values):4d}, organisation >= {MIN_ORGANISATION}: {called}; "
                  + ", ".join(f"{r} {v:.2f} @{w}" for v, r, w in shown))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
