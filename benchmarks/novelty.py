"""Does the CAE's novelty score flag recordings unlike the training data, and are statements on them
less accurate? (issue 17, point 2). Inference only, one thread, about a minute of CPU.

    taskset -c 0 nice -n 5 .venv/bin/python benchmarks/novelty.py [--checkpoint PATH] [--data DIR]

Sets: ptbxl-sph records the checkpoint trained on (its patient split: ``model.training.data.patient_split``
with ``ckpt.training['split']['seed']``), ptbxl-sph held out (val + test), LUDB 1-100 and the 10
CinC 2021 records (``ingest.read_recording``; for LUDB it returns ``validate_ludb.load_record``'s
signal to within 3e-8). ``preprocess_batch`` z-scores every lead of every window, so units do not
matter; ptbxl-sph was however band-passed (0.5-40 Hz) before we got it and is filtered again by the
preprocessing, so LUDB/CinC are also scored "prepared like ptbxl-sph" (band-pass 0.5-40 Hz order 4
at 500 Hz + per-lead z-score of the whole record, then the same preprocessing) to isolate shape.

Scores (``model.novelty``), window -> record by max (every record here is 10 s = one window, so
max = mean): ``recon`` relative reconstruction error, mean over the members; ``recon-m0`` member 0
alone; ``latent`` Mahalanobis distance of the pooled latent (reference: the training windows).
Tables: (a) distributions and AUROC of OOD vs held-out ptbxl-sph; (b) held-out ptbxl-sph accuracy
by novelty tercile (cut at the training records' 33.3/66.7th percentiles); (c) LUDB precision of the
model's statements (Predictor thresholds) in the low and high novelty halves; (d) what a
training-percentile threshold would qualify; (e) whether artefacts raise the score.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.labels_ludb import ludb_labels  # noqa: E402
from benchmarks.validation_labels import RecordLabels, ptbxl_labels  # noqa: E402
from core.config import DEFAULT_MODEL_PATH  # noqa: E402
from interpretation.table import DEFAULT_TABLE, mode_of  # noqa: E402
from model.checkpoint import LoadedCheckpoint, load_checkpoint  # noqa: E402
from model.novelty import (  # noqa: E402
    LatentReference,
    cae_members,
    latent_distance,
    latent_features,
    reconstruction_error,
    record_novelty,
)
from model.predictor import Predictor  # noqa: E402
from model.preprocessing import bandpass, preprocess_batch, zscore  # noqa: E402
from model.training.data import SphDataset, patient_split, read_sph_dataset  # noqa: E402
from model.training.evaluation import predict_dataset  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
MIN_POS = 5  # macro AUROC per tercile: labels with >= 5 positives (and one negative) there
Scorer = Callable[[np.ndarray], np.ndarray]  # (W, 12, T) windows -> (W,) scores


@dataclass
class Records:
    """Signals of one set (any rate), demographics and labels."""

    name: str
    signals: list[np.ndarray]
    fs: list[float]
    ages: list[float | None]
    sexes: list[str | None]
    labels: list[RecordLabels]


def from_sph(name: str, data: SphDataset) -> Records:
    vocabulary = {c for codes in data.codes for c in codes}
    return Records(
        name, [s.astype(np.float32) for s in data.signals], [data.fs] * len(data.signals), data.ages,
        data.sexes, [ptbxl_labels(e, c, vocabulary) for e, c in zip(data.ecg_ids, data.codes, strict=True)],
    )  # fmt: skip


def from_headers(name: str, headers: Sequence[Path], labels: Callable[[Path], RecordLabels]) -> Records:
    from ingest import read_recording

    recs = [read_recording(h) for h in headers]
    return Records(name, [r.signal for r in recs], [float(r.fs) for r in recs], [r.age for r in recs],
                   [r.sex for r in recs], [labels(h) for h in headers])  # fmt: skip


def prepared_like_ptbxl(records: Records) -> Records:
    """The same records band-passed (0.5-40 Hz) and z-scored per lead over the whole record, as ptbxl-sph."""
    signals = [
        zscore(bandpass(np.asarray(s, np.float64), f))
        for s, f in zip(records.signals, records.fs, strict=True)
    ]
    return Records(
        records.name + " (prepared)", signals, records.fs, records.ages, records.sexes, records.labels
    )


def novelty(records: Records, scorer: Scorer, preprocess: object) -> np.ndarray:
    """(R,) per-record max-over-windows score."""
    windows, owner = preprocess_batch(records.signals, records.fs, preprocess)  # type: ignore[arg-type]
    return record_novelty(scorer(windows), owner, len(records.signals), "max")


# -- statistics ----------------------------------------------------------------------------------


def auroc(novel: np.ndarray, familiar: np.ndarray) -> float:
    """P(score of a novel record > score of a familiar one)."""
    y = np.r_[np.ones(len(novel)), np.zeros(len(familiar))]
    return float(roc_auc_score(y, np.r_[novel, familiar]))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of the proportion k / n."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre, half = p + z * z / (2 * n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


@dataclass(frozen=True)
class Calls:
    """A set's calibrated probabilities, labels and the Predictor's thresholds: its statements."""

    probs: np.ndarray  # (R, L)
    labels: Sequence[RecordLabels]
    codes: Sequence[int]
    thresholds: np.ndarray  # (L,)

    def precision(self, sel: np.ndarray, model_decided: bool) -> tuple[int, int]:
        """(true, judged) calls p >= threshold of the selected records, on codes their labels know."""
        tp = judged = 0
        for i in np.flatnonzero(sel):
            for j in np.flatnonzero(self.probs[i] >= self.thresholds):
                code = int(self.codes[int(j)])
                truth = self.labels[int(i)].truth(code)
                if truth is None or (model_decided and mode_of(code, DEFAULT_TABLE) == "rule"):
                    continue
                judged += 1
                tp += int(truth)
        return tp, judged

    def cells(self, sel: np.ndarray, which: Sequence[bool] = (False, True)) -> str:
        """Precision with its Wilson 95 % interval: all calls, then model-decided codes only."""
        out = []
        for model_decided in which:
            tp, n = self.precision(sel, model_decided)
            lo, hi = wilson(tp, n)
            out.append(f"{tp:>4}/{n:<4} {tp / n:.2f} [{lo:.2f}-{hi:.2f}]" if n else f"{'-':>22}")
        return " ".join(f"{c:>25}" for c in out)


def macro_auroc_min(y: np.ndarray, p: np.ndarray, min_pos: int = MIN_POS) -> tuple[float, int]:
    """Mean AUROC over labels with >= ``min_pos`` positives and one negative, and their number."""
    vals = [roc_auc_score(y[:, j], p[:, j]) for j in range(y.shape[1]) if min_pos <= y[:, j].sum() < len(y)]
    return (float(np.mean(vals)) if vals else float("nan")), len(vals)


# -- tables --------------------------------------------------------------------------------------

PRECISION_HEAD = f"{'precision, all calls':>25} {'precision, model-decided':>25}"


def table_a(scores: Mapping[str, Mapping[str, np.ndarray]], held: str, ood: Sequence[str]) -> None:
    print("\n(a) novelty per record: median / 90th / 95th percentile; AUROC of the set's scores > held-out's")
    for score, sets in scores.items():
        print(f"\n  score {score}")
        print(f"  {'set':<34} {'n':>5} {'median':>8} {'p90':>8} {'p95':>8} {'AUROC':>8}")
        for name, values in sets.items():
            auc = "" if name == held else f"{auroc(values, sets[held]):8.3f}"
            q = np.percentile(values, [50, 90, 95])
            print(f"  {name:<34} {len(values):>5} {q[0]:8.3f} {q[1]:8.3f} {q[2]:8.3f} {auc}")
        for suffix in ("", " (prepared)"):
            pooled = np.concatenate([sets[n + suffix] for n in ood])
            name = f"LUDB+CinC{suffix}"
            print(f"  {name:<34} {len(pooled):>5} {'':>26} {auroc(pooled, sets[held]):8.3f}")


def table_b(score: str, nov: np.ndarray, train_ref: np.ndarray, y: np.ndarray, calls: Calls) -> None:
    cuts = np.percentile(train_ref, [100 / 3, 200 / 3])
    bins = np.digitize(nov, cuts)
    p = calls.probs
    brier, mae = ((p - y) ** 2).mean(axis=1), np.abs(p - y).mean(axis=1)
    print(
        f"\n  score {score}: terciles cut at training percentiles 33.3 / 66.7 = {cuts[0]:.3f} / {cuts[1]:.3f}"
    )
    print(
        f"  {'tercile':<8} {'n':>4} {f'macro AUROC (>={MIN_POS} pos)':>24} {'Brier':>7} {'MAE':>7} {PRECISION_HEAD}"
    )
    for k, name in enumerate(("low", "mid", "high")):
        sel = bins == k
        auc, n_lab = macro_auroc_min(y[sel], p[sel])
        print(
            f"  {name:<8} {sel.sum():>4} {auc:>14.3f} ({n_lab:>2} labels) {brier[sel].mean():7.4f} "
            f"{mae[sel].mean():7.4f} {calls.cells(sel)}"
        )
    rho, pval = spearmanr(nov, brier)
    normal = np.asarray([1 in lab.positive for lab in calls.labels])
    print(f"  Spearman(novelty, per-record Brier) = {rho:.3f} (p = {pval:.2g}, n = {len(nov)})")
    print(
        f"  AUROC of novelty, 'normal ECG' (code 1) records > the others: {auroc(nov[normal], nov[~normal]):.3f}"
    )


def table_c(score: str, nov: np.ndarray, calls: Calls) -> None:
    cut = float(np.median(nov))
    print(f"\n  score {score}: halves split at the LUDB median {cut:.3f}")
    print(f"  {'half':<6} {'n':>4} {PRECISION_HEAD}")
    for name, sel in (("low", nov <= cut), ("high", nov > cut)):
        print(f"  {name:<6} {sel.sum():>4} {calls.cells(sel)}")


def table_d(
    score: str, train_ref: np.ndarray, sets: Mapping[str, np.ndarray], held: str, calls: Calls
) -> None:
    print(f"\n  score {score}: share of each set at or above the cut; held-out model-decided precision")
    short = {HELD: "held-out"}
    names = " ".join(f"{short.get(n, n).replace(' 1-100', '').replace(' 10', '')[:14]:>14}" for n in sets)
    print(f"  {'pct':>4} {'cut':>7} {names} {'above the cut':>25} {'below the cut':>25}")
    for pct in (80, 90, 95, 99):
        cut = float(np.percentile(train_ref, pct))
        shares = " ".join(f"{np.mean(v >= cut):14.2f}" for v in sets.values())
        above = sets[held] >= cut
        print(f"  {pct:>4} {cut:7.3f} {shares} {calls.cells(above, (True,))} {calls.cells(~above, (True,))}")


# -- run -----------------------------------------------------------------------------------------


def artefacts(signals: np.ndarray, fs: float, seed: int = 0) -> dict[str, np.ndarray]:
    """(R, 12, N) records spoiled four ways: lead II flat with a spike every 0.5 s, lead II a 50 Hz or
    17 Hz sine, the six limb leads Gaussian noise."""
    t = np.arange(signals.shape[-1]) / fs
    out = {
        name: signals.copy()
        for name in ("II flat + spikes", "II 50 Hz sine", "II 17 Hz sine", "limb leads noise")
    }
    out["II flat + spikes"][:, 1] = 0.0
    out["II flat + spikes"][:, 1, :: int(fs / 2)] = 20.0
    out["II 50 Hz sine"][:, 1] = np.sin(2 * np.pi * 50 * t)
    out["II 17 Hz sine"][:, 1] = np.sin(2 * np.pi * 17 * t)
    out["limb leads noise"][:, :6] = np.random.default_rng(seed).normal(size=(len(signals), 6, len(t)))
    return out


def table_e(
    score: str, scorer: Scorer, records: Records, clean: np.ndarray, train_ref: np.ndarray, pre: object
) -> None:
    cut = float(np.percentile(train_ref, 90))
    print(f"\n  score {score}: {len(clean)} held-out records; clean records above the training p90 ({cut:.3f}): "
          f"{np.mean(clean >= cut):.2f}")  # fmt: skip
    print(f"  {'artefact':<18} {'score rises':>12} {'median change':>14} {'above training p90':>19}")
    stacked = np.stack([np.asarray(x, np.float32) for x in records.signals])
    for name, spoiled in artefacts(stacked, records.fs[0]).items():
        scores = novelty(Records(name, list(spoiled), records.fs, [], [], []), scorer, pre)
        change = scores - clean
        print(
            f"  {name:<18} {np.mean(change > 0):12.2f} {np.median(change):+14.3f} {np.mean(scores >= cut):19.2f}"
        )


HELD, TRAINED = "ptbxl-sph held out (val+test)", "ptbxl-sph trained on"


def load_sets(data_dir: Path, ckpt: LoadedCheckpoint) -> tuple[dict[str, Records], SphDataset]:
    """The six sets of table (a), and the held-out ptbxl-sph records (for their targets)."""
    from benchmarks.validation_labels import cinc_labels

    data = read_sph_dataset(data_dir / "ptbxl-sph")
    train, val, test = patient_split(
        data.patient_ids, seed=int(ckpt.training.get("split", {}).get("seed", 0))
    )
    held = data.subset(np.concatenate([val, test]))
    universe = sorted({lb.code for lb in ckpt.labels})
    ludb_headers = sorted((data_dir / "ludb").glob("*.hea"), key=lambda h: int(h.stem))
    ludb = from_headers("LUDB 1-100", ludb_headers, ludb_labels)
    cinc_headers = sorted((data_dir / "cinc2021").glob("*.hea"))
    cinc = from_headers("CinC 10", cinc_headers, lambda h: cinc_labels(h, universe))
    sets = {
        TRAINED: from_sph(TRAINED, data.subset(train)), HELD: from_sph(HELD, held),
        ludb.name: ludb, f"{ludb.name} (prepared)": prepared_like_ptbxl(ludb),
        cinc.name: cinc, f"{cinc.name} (prepared)": prepared_like_ptbxl(cinc),
    }  # fmt: skip
    return sets, held


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--data", type=Path, default=DATA, help="folder with ptbxl-sph, ludb, cinc2021")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.process_time()
    ckpt = load_checkpoint(args.checkpoint)
    predictor = Predictor(ckpt.models, ckpt.labels, np.asarray(ckpt.thresholds), ckpt.preprocess, ckpt.version,
                          1, calibration=ckpt.calibration)  # fmt: skip
    codes = [lb.code for lb in ckpt.labels]
    sets, held_data = load_sets(args.data, ckpt)
    train_windows, _ = preprocess_batch(sets[TRAINED].signals, sets[TRAINED].fs, ckpt.preprocess)
    caes = cae_members(ckpt.models)
    if not caes:
        parser.error(f"{args.checkpoint}: no CAE member to score novelty with")
    refs = [LatentReference.fit(latent_features(m, train_windows)) for m in caes]
    scorers: dict[str, Scorer] = {
        "recon (3-member mean)": lambda w: reconstruction_error(caes, w),
        "recon-m0 (member 0)": lambda w: reconstruction_error(caes[0], w),
        "latent (Mahalanobis, 3-member mean)": lambda w: latent_distance(caes, refs, w),
    }
    scores = {s: {n: novelty(r, f, ckpt.preprocess) for n, r in sets.items()} for s, f in scorers.items()}
    stage1 = [
        h["val_mse"] for h in ckpt.training.get("history", []) if h.get("stage") == 1 and h["epoch"] == 9
    ]
    counts = [np.bincount(preprocess_batch(r.signals, r.fs, ckpt.preprocess)[1]).max() for r in sets.values()]
    print(f"checkpoint {ckpt.version} ({len(ckpt.models)} members); {len(sets[TRAINED].signals)} trained-on, "
          f"{len(sets[HELD].signals)} held-out records; at most {max(counts)} window(s) per record")  # fmt: skip
    print("reference: a decoder that outputs zeros scores recon 1.0 (window without flat leads); the members'"
          " stage-1 val MSE in the training history (epoch 9): " + ", ".join(f"{v:.3f}" for v in stage1))  # fmt: skip
    table_a(scores, HELD, ["LUDB 1-100", "CinC 10"])

    held = Calls(predict_dataset(predictor, held_data), sets[HELD].labels, codes, predictor.thresholds)
    print("\n(b) held-out ptbxl-sph by novelty tercile: calibrated probabilities, Predictor thresholds")
    for s in scorers:
        table_b(s, scores[s][HELD], scores[s][TRAINED], held_data.targets(), held)
    ludb = sets["LUDB 1-100"]
    p_ludb = predictor.predict(ludb.signals, ludb.fs, ludb.ages, ludb.sexes).probabilities
    print(
        "\n(c) LUDB 1-100 as served: precision of the model's statements (labels: benchmarks/labels_ludb.py)"
    )
    for s in scorers:
        table_c(s, scores[s]["LUDB 1-100"], Calls(p_ludb, ludb.labels, codes, predictor.thresholds))
    print("\n(d) candidate thresholds: training-record percentiles of the score")
    for s in scorers:
        table_d(s, scores[s][TRAINED], {n: v for n, v in scores[s].items() if n != TRAINED}, HELD, held)
    print("\n(e) artefacts on the held-out records (chance: rises 0.50, above the training p90 about 0.10)")
    for s in scorers:
        table_e(s, scorers[s], sets[HELD], scores[s][HELD], scores[s][TRAINED], ckpt.preprocess)
    print(f"\nCPU time {time.process_time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
