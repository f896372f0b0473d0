"""Calibration and threshold rules on OOF predictions; optionally write them into a checkpoint.

    .venv/bin/python benchmarks/crossval.py ../artifacts/oof_cae.npz [--json OUT] \
        [--checkpoint model/weights/ecgstream-cae.pt --out NEW.pt --version VERSION]

Reads an OOF file from ``ecgstream crossval --oof``; prints pooled OOF macro AUROC/AP, fold
SE, macro ECE of raw / Platt / isotonic probabilities (each calibrator cross-fitted: fitted on
k-1 folds, scored on the held-out one) and the threshold-rule comparison of
``model.training.oof_rules``. With ``--checkpoint``, the shipped rule (Platt + prevalence-matched calibrated
thresholds, fitted on ALL OOF records) is stored in a copy of that checkpoint (format 2).

``--holdout-of CKPT --data DIR`` first writes the OOF file itself: the checkpoint's RAW
(uncalibrated) predictions on the records it did not train on (its patient split's validation and
test parts, as "folds" 0 and 1), i.e. that network's own out-of-sample predictions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.isotonic import IsotonicRegression

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from model.predictor import Predictor  # noqa: E402
from model.training.crossval import CVResult, fold_scores, load_oof, pooled_scores, save_oof  # noqa: E402
from model.training.data import patient_split, read_sph_dataset  # noqa: E402
from model.training.evaluation import predict_dataset  # noqa: E402
from model.training.oof_rules import (  # noqa: E402
    THRESHOLD_RULES,
    compare_threshold_rules,
    crossfit_calibration,
    fit_oof_decisions,
    macro_ece,
    scored_labels,
)


def _crossfit_isotonic(y: np.ndarray, p: np.ndarray, fold: np.ndarray, cols: np.ndarray) -> np.ndarray:
    out = p.copy()
    for f in np.unique(fold):
        m = fold == f
        for j in cols:
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(p[~m, j], y[~m, j])
            out[m, j] = iso.predict(p[m, j])
    return out


def write_holdout_predictions(checkpoint: Path, data_dir: Path, out: Path) -> Path:
    """Raw predictions of ``checkpoint`` on its own validation + test patients, saved like an OOF file."""
    ckpt = load_checkpoint(checkpoint)
    predictor = Predictor(
        ckpt.models, ckpt.labels, np.asarray(ckpt.thresholds), ckpt.preprocess, ckpt.version, 2
    )
    data = read_sph_dataset(data_dir)
    _, val, test = patient_split(data.patient_ids, seed=int(ckpt.training.get("split", {}).get("seed", 0)))
    held = np.concatenate([val, test])
    subset = data.subset(held)
    p = predict_dataset(predictor, subset)
    result = CVResult(
        recipe=f"holdout:{ckpt.version}", ecg_ids=subset.ecg_ids, y=subset.targets(), probabilities=p,
        member_probabilities=p[None], fold=np.r_[np.zeros(len(val), int), np.ones(len(test), int)],
        label_codes=[lb.code for lb in ckpt.labels], seconds=0.0, parameters=0, config={},
    )  # fmt: skip
    return save_oof(out, result)


def parse_mix_part(text: str) -> tuple[Path, int | None]:
    """``oof.npz`` (all members) or ``oof.npz:K`` (its first K members, i.e. seeds 0..K-1 of each fold)."""
    head, sep, count = text.rpartition(":")
    return (Path(head), int(count)) if sep and count.isdigit() else (Path(text), None)


def mix_oof_files(paths: list[Path], out: Path, counts: list[int | None] | None = None) -> Path:
    """The mixed ensemble of several recipes' OOF files: every member (or the first ``counts[i]``) of
    every file, averaged with equal weight per member; records aligned by ECG_ID, labels and folds
    must agree."""
    counts = counts or [None] * len(paths)
    parts = [load_oof(path) for path in paths]
    order = np.argsort(parts[0]["ECG_ID"])
    ids = parts[0]["ECG_ID"][order]
    members, first = [], parts[0]
    for part, path, count in zip(parts, paths, counts, strict=True):
        idx = np.argsort(part["ECG_ID"])
        if not np.array_equal(part["ECG_ID"][idx], ids) or not np.array_equal(
            part["labels"], first["labels"]
        ):
            raise ValueError(f"{path}: other records or labels than {paths[0]}")
        if not np.array_equal(part["fold"][idx], first["fold"][order]):
            raise ValueError(f"{path}: other folds than {paths[0]}")
        available = len(part["member_probabilities"])
        if count is not None and not 1 <= count <= available:
            raise ValueError(f"{path}: asked for {count} of its {available} members")
        members.append(part["member_probabilities"][: count or available, idx])
    member_probabilities = np.concatenate(members)
    recipe = "+".join(f"{part['recipe']}x{len(m)}" for part, m in zip(parts, members, strict=True))
    np.savez_compressed(
        out, ECG_ID=ids, labels=first["labels"], y=first["y"][order], fold=first["fold"][order],
        probabilities=member_probabilities.mean(axis=0), member_probabilities=member_probabilities,
        recipe=np.asarray(recipe),
    )  # fmt: skip
    print(f"mixed {len(member_probabilities)} members of {recipe} into {out}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("oof", type=Path, help="OOF .npz (with --merge: where the merged file is written)")
    parser.add_argument("--merge", type=Path, nargs="*", default=[],
                        help="per-fold OOF files (ecgstream crossval --only-folds) to concatenate into OOF")  # fmt: skip
    parser.add_argument("--mix", nargs="*", default=[],
                        help="OOF files of other recipes (same records and folds), each FILE or FILE:K (its "
                             "first K members): write OOF as their mixed ensemble, the mean over the members")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--checkpoint", type=Path, default=None, help="checkpoint to copy with OOF decisions")
    parser.add_argument("--out", type=Path, default=None, help="where to write that copy")
    parser.add_argument("--version", type=str, default=None, help="version string of the copy")
    parser.add_argument(
        "--holdout-of", type=Path, default=None, help="write OOF-like predictions of this checkpoint"
    )
    parser.add_argument("--data", type=Path, default=None, help="SPH folder for --holdout-of")
    parser.add_argument(
        "--add-calibrated", action="store_true",
        help="store cross-fitted Platt-calibrated OOF probabilities in the file (key probabilities_calibrated)",
    )  # fmt: skip
    parser.add_argument(
        "--decide-with", type=Path, default=None,
        help="fit calibration + thresholds on this OTHER OOF file (same labels), score them on OOF",
    )  # fmt: skip
    args = parser.parse_args()
    if args.holdout_of:
        if not args.data:
            parser.error("--holdout-of needs --data")
        write_holdout_predictions(args.holdout_of, args.data, args.oof)

    if args.merge:
        parts = [load_oof(m) for m in args.merge]
        merged = {
            k: np.concatenate([part[k] for part in parts]) for k in ("ECG_ID", "y", "probabilities", "fold")
        }
        merged["member_probabilities"] = np.concatenate(
            [part["member_probabilities"] for part in parts], axis=1
        )
        if len(set(merged["ECG_ID"])) != len(merged["ECG_ID"]):
            parser.error("--merge: a record appears in two files")
        np.savez_compressed(args.oof, **merged, labels=parts[0]["labels"], recipe=parts[0]["recipe"])  # type: ignore[arg-type]  # numpy stubs: **arrays vs allow_pickle
    if args.mix:
        mix_parts = [parse_mix_part(text) for text in args.mix]
        mix_oof_files([path for path, _ in mix_parts], args.oof, [count for _, count in mix_parts])
    oof = load_oof(args.oof)
    y, p, fold = oof["y"].astype(float), oof["probabilities"].astype(np.float64), oof["fold"]
    codes = [int(c) for c in oof["labels"]]
    cols = scored_labels(y)
    pooled, folds = pooled_scores(y, p), fold_scores(y, p, fold)
    print(
        f"{args.oof}: {len(y)} records, {len(np.unique(fold))} folds, {len(cols)} labels with >= 10 positives"
    )
    print(f"pooled OOF macro AUROC {pooled['macro_auroc']:.4f}  AP {pooled['macro_ap']:.4f}; fold AUROC "
          f"{folds['fold_mean_auroc']:.4f} +/- {folds['fold_se_auroc']:.4f} SE, AP {folds['fold_mean_ap']:.4f} "
          f"+/- {folds['fold_se_ap']:.4f}")  # fmt: skip
    for j in cols:
        print(f"  {codes[j]:>4} pos {int(y[:, j].sum()):>4}  AUROC {pooled['per_label_auroc'][int(j)]:.3f}  "
              f"AP {pooled['per_label_ap'][int(j)]:.3f}")  # fmt: skip
    eces = {
        "raw": macro_ece(y, p, cols),
        "platt (cross-fitted)": macro_ece(y, crossfit_calibration(y, p, fold), cols),
        "isotonic (cross-fitted)": macro_ece(y, _crossfit_isotonic(y, p, fold, cols), cols),
    }
    print("macro ECE (10 bins) over the same labels: " + ", ".join(f"{k} {v:.4f}" for k, v in eces.items()))
    rules = compare_threshold_rules(y, p, fold)
    if args.add_calibrated:
        np.savez_compressed(args.oof, **oof, probabilities_calibrated=crossfit_calibration(y, p, fold))  # type: ignore[arg-type]  # numpy stubs: **arrays vs allow_pickle
        print(f"added probabilities_calibrated (cross-fitted Platt) to {args.oof}")
    print(
        f"{'threshold rule (cross-fitted over folds)':<56} {'F1':>6} {'call ratio':>10} {'worst':>6} {'thr SD':>6}"
    )
    for r in rules:
        print(f"{r['rule']:<56} {r['macro_f1']:6.3f} {r['median_call_ratio']:10.2f} "
              f"{r['worst_call_ratio']:6.2f} {r['threshold_fold_sd']:6.3f}")  # fmt: skip
    source = load_oof(args.decide_with) if args.decide_with else oof
    cal, thresholds = fit_oof_decisions(source["y"].astype(float), source["probabilities"].astype(np.float64))
    if args.decide_with:
        q = cal.apply(p)
        truth, called = y > 0.5, q >= thresholds
        f1 = [2 * np.sum(called[:, j] & truth[:, j]) / (called[:, j].sum() + truth[:, j].sum()) for j in cols]
        ratio = [called[:, j].sum() / truth[:, j].sum() for j in cols]
        eces[f"platt fitted on {args.decide_with.name}"] = macro_ece(y, q, cols)
        sy, sp = source["y"].astype(float), source["probabilities"].astype(np.float64)
        for name, (calibrated, choose) in THRESHOLD_RULES.items():
            t = choose(sy, cal.apply(sp) if calibrated else sp)
            hit = (q if calibrated else p) >= t
            f1r = [2 * np.sum(hit[:, j] & truth[:, j]) / (hit[:, j].sum() + truth[:, j].sum()) for j in cols]
            rr = [hit[:, j].sum() / truth[:, j].sum() for j in cols]
            print(f"  transfer of rule {name:<56} F1 {np.mean(f1r):.3f}  median call ratio {np.median(rr):.2f}  "
                  f"range {min(rr):.2f}-{max(rr):.2f}")  # fmt: skip
        print(f"decisions fitted on {args.decide_with.name}, scored here: macro ECE {macro_ece(y, q, cols):.4f}, "
              f"macro F1 {np.mean(f1):.3f}, median call ratio {np.median(ratio):.2f}")  # fmt: skip
    decisions = {str(codes[j]): {"slope": float(cal.slope[j]), "intercept": float(cal.intercept[j]),
                                 "threshold": float(thresholds[j])} for j in cols}  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"pooled": pooled, "folds": folds, "ece": eces, "rules": rules,
                                         "decisions": decisions}, indent=2))  # fmt: skip
    if args.checkpoint:
        if not (args.out and args.version):
            parser.error("--checkpoint needs --out and --version")
        ckpt = load_checkpoint(args.checkpoint)
        if [lb.code for lb in ckpt.labels] != codes:
            parser.error("the OOF file's label order differs from the checkpoint's")
        training = dict(ckpt.training)
        training["decisions"] = {
            "source": str((args.decide_with or args.oof).name), "records": len(source["y"]), "rule": "platt + calibrated prevalence match",
            "oof_macro_auroc": pooled["macro_auroc"], "ece": eces, "previous_version": ckpt.version,
        }  # fmt: skip
        save_checkpoint(args.out, ckpt.models, ckpt.preprocess, ckpt.labels, list(thresholds), args.version,
                        training, calibration=cal)  # fmt: skip
        print(f"wrote {args.out} ({args.version})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
