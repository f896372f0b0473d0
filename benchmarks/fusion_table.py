"""Choose each row of the fusion table by measuring the options on ptbxl-sph, and check the result
on the 10 CinC records (mV) without tuning to them.

    nice -n 10 .venv/bin/python benchmarks/fusion_table.py [--predictions OOF.npz] [--json OUT]

For every statement the rules can decide (``measurements.rules.RULE_CODES``) that has labelled
positives in ptbxl-sph, it prints precision / recall / F1 of
  (a) model alone at its thresholds, (b) rule alone, (c) both (AND), (d) gate (model AND the
  measured requirement; for the gate codes 104-106), (e) either (OR),
and the chosen option (with a paired bootstrap 95 % interval of its F1 minus the model's): the best F1, where an option earlier in the rule's preference order wins
within 0.03 F1 of the best (``PREFERENCE``). Statements with fewer than ``--min-positives``
positives are reported as not measurable here. Rules alone are also scored on every record (they
need no training).

Model predictions: an .npz of out-of-fold probabilities (keys ``ecg_ids`` or ``ECG_ID``,
``probabilities`` (R, L), ``codes`` or ``labels`` (L,), optionally ``thresholds`` (L,), else the
shipped checkpoint's) covering ptbxl-sph; without one, held-out
predictions of the shipped model on its patient-level test split (``ecgstream evaluate``'s split),
cached in ``--cache``. Measurements: ``measurements.measure`` on the records (ptbxl-sph is
band-passed and z-scored: timing survives, amplitudes do not, so amplitude rules are off and
quality runs with ``amplitudes_in_mv=False``).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from core.config import DEFAULT_MODEL_PATH  # noqa: E402
from interpretation import DEFAULT_TABLE, fuse  # noqa: E402
from measurements.measure import measure  # noqa: E402
from measurements.quality import assess_quality  # noqa: E402
from measurements.rules import RULE_CODES, rule_statements  # noqa: E402
from measurements.types import RuleStatement  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT.parent / "artifacts"
# The chosen option: the best F1, except that an option earlier in the role's preference order
# wins when it is within F1_TOLERANCE of the best (less than one record at these sizes). A rule that
# defines its statement ("decides") is preferred, then agreement; a requirement gates before the
# model is left alone; support rules leave the model in front.
F1_TOLERANCE = 0.03
PREFERENCE: dict[str, tuple[str, ...]] = {
    "decides": ("rule", "both", "model", "either"),
    "gate": ("gate", "model"),
    "support": ("model", "both", "rule", "either"),
}


def prf(y: np.ndarray, yhat: np.ndarray) -> dict[str, float | int]:
    tp = int((y & yhat).sum())
    fp = int((~y & yhat).sum())
    fn = int((y & ~yhat).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def load_predictions(path: Path) -> tuple[list[str], np.ndarray, list[int], np.ndarray | None]:
    z = np.load(path, allow_pickle=False)
    ids = [str(i) for i in z["ecg_ids" if "ecg_ids" in z.files else "ECG_ID"]]
    codes = [int(c) for c in z["codes" if "codes" in z.files else "labels"]]
    thresholds = z["thresholds"] if "thresholds" in z.files else None
    return ids, np.asarray(z["probabilities"], dtype=np.float32), codes, thresholds


def heldout_predictions(
    data, model_path: Path, cache: Path
) -> tuple[list[str], np.ndarray, list[int], np.ndarray]:  # noqa: ANN001
    """The shipped model on its own held-out test split (cached)."""
    if cache.exists():
        ids, probs, codes, thresholds = load_predictions(cache)
        assert thresholds is not None
        return ids, probs, codes, thresholds
    from model.checkpoint import load_checkpoint
    from model.predictor import Predictor
    from model.training.data import patient_split

    predictor = Predictor.load(model_path, torch_threads=2)
    seed = int(load_checkpoint(model_path).training.get("split", {}).get("seed", 0))
    test = data.subset(patient_split(data.patient_ids, seed=seed)[2])
    batches: list[np.ndarray] = []
    for start in range(0, len(test.signals), 32):
        sig = [s.astype(np.float32) for s in test.signals[start : start + 32]]
        pred = predictor.predict(
            sig, [test.fs] * len(sig), test.ages[start : start + 32], test.sexes[start : start + 32]
        )
        batches.append(pred.probabilities)
    codes = [label.code for label in predictor.labels]
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, ecg_ids=np.asarray(test.ecg_ids), probabilities=np.concatenate(batches),
             codes=np.asarray(codes), thresholds=predictor.thresholds, model_version=predictor.version)  # fmt: skip
    return list(test.ecg_ids), np.concatenate(batches), codes, np.asarray(predictor.thresholds)


def rules_for(
    signals: Sequence[np.ndarray], fs: float, ages: Sequence, sexes: Sequence, in_mv: bool
) -> tuple[list, list]:
    """(quality reports, rule statements) per record."""
    reports, statements = [], []
    for i, signal in enumerate(signals):
        x = np.asarray(signal, dtype=np.float64)
        q = assess_quality(x, fs, amplitudes_in_mv=in_mv)
        m = measure(x, fs)
        reports.append(q)
        statements.append(rule_statements(m, q, sex=sexes[i], age=ages[i], amplitudes_valid=in_mv))
        if (i + 1) % 200 == 0:
            print(f"  measured {i + 1}/{len(signals)}", file=sys.stderr)
    return reports, statements


def decisions(
    option: str, model_yes: np.ndarray, rule_yes: np.ndarray, requirement: np.ndarray
) -> np.ndarray:
    table: dict[str, Callable[[], np.ndarray]] = {
        "model": lambda: model_yes,
        "rule": lambda: rule_yes,
        "both": lambda: model_yes & rule_yes,
        "gate": lambda: model_yes & requirement,
        "either": lambda: model_yes | rule_yes,
    }
    return table[option]()


def choose_rows(y_codes: list[set[int]], probs: np.ndarray, codes: list[int], thresholds: np.ndarray,
                statements: list[tuple[RuleStatement, ...]], min_positives: int) -> list[dict]:  # fmt: skip
    index = {c: j for j, c in enumerate(codes)}
    rows = []
    for code, role in RULE_CODES.items():
        y = np.array([code in s for s in y_codes])
        if code in index:
            model_yes = probs[:, index[code]] >= thresholds[index[code]]
        else:
            model_yes = np.zeros(len(y), dtype=bool)
        rule_yes = np.array([any(r.code == code and not r.requirement for r in s) for s in statements])
        requirement = np.array([any(r.code == code and r.requirement for r in s) for s in statements])
        options = PREFERENCE[role]
        scores = {o: prf(y, decisions(o, model_yes, rule_yes, requirement)) for o in options}
        if role == "gate":
            scores["requirement alone"] = prf(y, requirement)
        top = max(float(scores[o]["f1"]) for o in options)
        best = next(o for o in options if float(scores[o]["f1"]) >= top - F1_TOLERANCE)
        measurable = int(y.sum()) >= min_positives
        row: dict[str, object] = {
            "code": code,
            "role": role,
            "positives": int(y.sum()),
            "scores": scores,
            "best": best if measurable else None,
        }
        if measurable and best != "model":
            chosen_yes = decisions(best, model_yes, rule_yes, requirement)
            row["delta_f1_vs_model_ci95"] = bootstrap_delta_f1(y, chosen_yes, model_yes)
        rows.append(row)
    return rows


def bootstrap_delta_f1(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, n: int = 2000, seed: int = 0
) -> list[float]:
    """95 % interval of F1(a) - F1(b) over records resampled with replacement (paired)."""
    idx = np.random.default_rng(seed).integers(0, len(y), size=(n, len(y)))
    yy = y[idx]

    def f1(pred: np.ndarray) -> np.ndarray:
        p = pred[idx]
        tp = (yy & p).sum(axis=1)
        denominator = (yy.sum(axis=1) + p.sum(axis=1)).astype(float)
        return np.divide(2.0 * tp, denominator, out=np.zeros(n), where=denominator > 0)

    delta = f1(a) - f1(b)
    return [round(float(v), 3) for v in np.percentile(delta, [2.5, 97.5])]


def print_rows(title: str, rows: list[dict]) -> None:
    print(f"\n== {title}")
    print(
        f"{'code':>5} {'role':8} {'pos':>4}  "
        + "  ".join(f"{o:>16}" for o in ("model", "rule", "both", "gate", "either"))
        + "  best"
    )
    for row in rows:
        cells = []
        for o in ("model", "rule", "both", "gate", "either"):
            s = row["scores"].get(o) or (row["scores"].get("requirement alone") if o == "rule" else None)
            cells.append(f"{s['precision']:.2f}/{s['recall']:.2f}/{s['f1']:.2f}" if s else "-")
        print(f"{row['code']:>5} {row['role']:8} {row['positives']:>4}  " + "  ".join(f"{c:>16}" for c in cells)
              + f"  {row['best'] or 'n/a (too few positives)'}"
              + (f"  (F1 - model: 95% CI {row['delta_f1_vs_model_ci95']})" if "delta_f1_vs_model_ci95" in row else ""))  # fmt: skip


def cinc_before_after(model_path: Path, folder: Path) -> dict:
    """Model statements at thresholds vs fused statements (DEFAULT_TABLE) on the CinC records."""
    from cinc2021_check import truth

    from ingest import read_recording
    from model.predictor import Predictor

    predictor = Predictor.load(model_path, torch_threads=2)
    codes = [label.code for label in predictor.labels]
    thresholds = {c: float(t) for c, t in zip(codes, predictor.thresholds, strict=True)}
    descriptions = {label.code: label.description for label in predictor.labels}
    before = {"tp": 0, "fp": 0, "fn": 0}
    after = dict(before)
    lines = []
    for header in sorted(folder.glob("*.hea")):
        rec = read_recording(header)
        true_codes, _ = truth(header)
        probs = predictor.predict([rec.signal], [rec.fs], [rec.age], [rec.sex]).probabilities[0]
        model_said = {c for c, p in zip(codes, probs, strict=True) if p >= thresholds[c]}
        x = rec.signal.astype(np.float64)
        q = assess_quality(x, rec.fs)
        m = measure(x, rec.fs)
        rules = rule_statements(m, q, sex=rec.sex, age=rec.age, amplitudes_valid=True)
        fused = fuse(
            dict(zip(codes, map(float, probs), strict=True)), thresholds, rules, q, descriptions=descriptions
        )
        fused_primary = {s.code for s in fused if s.modifies is None}
        for counts, said in ((before, model_said), (after, fused_primary)):
            counts["tp"] += len(said & set(true_codes))
            counts["fp"] += len(said - set(true_codes))
            counts["fn"] += len(set(true_codes) - said)
        lines.append(f"{header.stem:8} truth {sorted(true_codes)} quality {q.verdict} HR {m.heart_rate_bpm or 0:.0f} "
                     f"QRS {m.qrs_ms} | model {sorted(model_said)} | fused "
                     + ", ".join(f"{s.code}({s.provenance})" for s in fused))  # fmt: skip

    def summary(c: dict) -> dict:
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        return {**c, "precision": p, "recall": r}

    return {"lines": lines, "before": summary(before), "after": summary(after)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--predictions", type=Path, default=None, help="out-of-fold .npz (see docstring)")
    parser.add_argument("--cache", type=Path, default=ARTIFACTS / "quality_heldout_predictions.npz")
    parser.add_argument("--min-positives", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--cinc-only", action="store_true", help="only the CinC before/after check")
    parser.add_argument(
        "--statements-cache", type=Path, default=None, help="pickle of quality + rule statements (reuse)"
    )
    args = parser.parse_args()
    result: dict = {}
    if not args.cinc_only:
        result = ptbxl_table(args)
    cinc = cinc_before_after(args.model, args.data / "cinc2021")
    print("\n== CinC 2021 (10 records, mV), DEFAULT_TABLE, not tuned on them")
    for line in cinc["lines"]:
        print(line)
    for name in ("before", "after"):
        c = cinc[name]
        print(
            f"{name:6} fusion: precision {c['precision']:.2f} recall {c['recall']:.2f} (tp {c['tp']} fp {c['fp']} fn {c['fn']})"
        )
    result["cinc"] = {k: cinc[k] for k in ("before", "after")}
    result["default_table"] = dict(DEFAULT_TABLE)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


def ptbxl_table(args: argparse.Namespace) -> dict:
    """Measure the options on ptbxl-sph and print the per-code table."""
    from model.training.data import read_sph_dataset

    data = read_sph_dataset(args.data / "ptbxl-sph")
    if args.predictions is not None:
        ids, probs, codes, thresholds = load_predictions(args.predictions)
        source = f"out-of-fold predictions {args.predictions}"
        if thresholds is None:
            from model.predictor import Predictor

            shipped = Predictor.load(args.model)
            by_code = {lb.code: t for lb, t in zip(shipped.labels, shipped.thresholds, strict=True)}
            thresholds = np.asarray([by_code.get(c, 0.5) for c in codes])
    else:
        ids, probs, codes, thresholds = heldout_predictions(data, args.model, args.cache)
        source = f"shipped model on its held-out test split ({len(ids)} records)"
    position = {e: i for i, e in enumerate(data.ecg_ids)}
    chosen = np.asarray([position[e] for e in ids])
    print(f"predictions: {source}")
    cache = args.statements_cache
    if cache is not None and cache.exists():
        with open(cache, "rb") as handle:
            reports, statements = pickle.load(handle)
    else:
        reports, statements = rules_for(data.signals, data.fs, data.ages, data.sexes, in_mv=False)
        if cache is not None:
            with open(cache, "wb") as handle:
                pickle.dump((reports, statements), handle)
    unreadable = sum(not reports[i].readable for i in chosen)
    print(
        f"records {len(ids)}, unreadable by quality {unreadable} (all {len(data.ecg_ids)}: {sum(not q.readable for q in reports)})"
    )
    y_codes = [set(data.codes[i]) for i in chosen]
    rows = choose_rows(
        y_codes, probs, codes, np.asarray(thresholds), [statements[i] for i in chosen], args.min_positives
    )
    print_rows(
        "ptbxl-sph: precision/recall/F1 per option (rule column = QRS requirement alone for gates)", rows
    )
    # Rules need no training: their figures on every record (the model column is not meaningful here).
    all_rows = choose_rows([set(c) for c in data.codes], np.zeros((len(data.ecg_ids), len(codes))), codes,
                           np.ones(len(codes)), statements, args.min_positives)  # fmt: skip
    print(f"\n== rules alone on all {len(data.ecg_ids)} ptbxl-sph records: precision/recall/F1 (tp/fp/fn)")
    for row in all_rows:
        s = row["scores"].get("rule") or row["scores"]["requirement alone"]
        if row["positives"] or s["fp"]:
            print(f"{row['code']:>5} pos {row['positives']:>4}  {s['precision']:.2f}/{s['recall']:.2f}/{s['f1']:.2f}"
                  f"  ({s['tp']}/{s['fp']}/{s['fn']})")  # fmt: skip
    result: dict = {"predictions": source, "records": len(ids), "unreadable": unreadable, "rows": rows,
                    "rules_on_all": [{"code": r["code"], "positives": r["positives"],
                                      "rule": r["scores"].get("rule") or r["scores"]["requirement alone"]}
                                     for r in all_rows]}  # fmt: skip
    return result


if __name__ == "__main__":
    raise SystemExit(main())
