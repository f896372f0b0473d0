"""What the shipped model says on the real CinC 2021 records, against their SNOMED labels.

    .venv/bin/python benchmarks/cinc2021_check.py [--data ../shared/data/cinc2021] [--model PATH]

SNOMED -> AHA mapping from ../shared/data/README.md (426783006 sinus rhythm counts as 1 "normal"
only when it is the record's only mapped diagnosis). Nothing here is tuned on these records.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import DEFAULT_MODEL_PATH  # noqa: E402
from model.predictor import Predictor  # noqa: E402

SNOMED_TO_AHA = {
    "427084000": 21, "426177001": 22, "284470004": 30, "427172004": 60, "59118001": 106, "713426002": 105,
    "164934002": 147, "111975006": 148, "55930002": 145, "164873001": 142, "67741000119109": 140,
}  # fmt: skip
SINUS_RHYTHM = "426783006"


def truth(header: Path) -> tuple[list[int], list[str]]:
    """(AHA codes, unmapped SNOMED codes) of one WFDB header's ``# Dx:`` line."""
    dx: list[str] = []
    for line in header.read_text().splitlines():
        if line.startswith("# Dx:"):
            dx = [c.strip() for c in line.split(":", 1)[1].split(",") if c.strip()]
    codes = [SNOMED_TO_AHA[c] for c in dx if c in SNOMED_TO_AHA]
    if SINUS_RHYTHM in dx and not codes:
        codes = [1]
    return codes, [c for c in dx if c not in SNOMED_TO_AHA and c != SINUS_RHYTHM]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "cinc2021"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from ingest import read_recording

    predictor = Predictor.load(args.model, torch_threads=2)
    index = {label.code: j for j, label in enumerate(predictor.labels)}
    rows = []
    print(f"model {predictor.version}")
    print(f"{'record':<8} {'truth (AHA)':<14} {'p(truth)':<22} predicted statements (p >= threshold)")
    hits = total = 0
    for header in sorted(args.data.glob("*.hea")):
        rec = read_recording(header)
        codes, unmapped = truth(header)
        probs = predictor.predict([rec.signal], [rec.fs], [rec.age], [rec.sex]).probabilities[0]
        said = predictor.statements(probs[None])[0]
        said_codes = [lb.code for lb, _ in said]
        hits += sum(c in said_codes for c in codes)
        total += len(codes)
        p_truth = " ".join(f"{c}:{probs[index[c]]:.2f}" for c in codes)
        extra = f" (+ unmapped SNOMED {','.join(unmapped)})" if unmapped else ""
        print(f"{header.stem:<8} {';'.join(map(str, codes)) + extra:<14} {p_truth:<22} "
              + ", ".join(f"{lb.code} {lb.description} {p:.2f}" for lb, p in said))  # fmt: skip
        rows.append({"record": header.stem, "truth": codes, "unmapped_snomed": unmapped,
                     "p_truth": {str(c): float(probs[index[c]]) for c in codes},
                     "predicted": [{"code": lb.code, "p": round(p, 3)} for lb, p in said],
                     "top3": [int(predictor.labels[j].code) for j in np.argsort(-probs)[:3]]})  # fmt: skip
    print(f"true statements called: {hits}/{total}; "
          f"predicted statements: {sum(len(r['predicted']) for r in rows)} on {len(rows)} records")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"model_version": predictor.version, "records": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
