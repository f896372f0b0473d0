"""``ecgstream evaluate``: score a checkpoint on the held-out patient split of an SPH-layout folder.

The split is rebuilt from the seed stored in the checkpoint (same deterministic patient split as
training); records go through ``Predictor.predict``, i.e. exactly the serving path.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.config import DEFAULT_MODEL_PATH


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, type=Path, help="SPH-layout folder")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="checkpoint")
    parser.add_argument("--json", type=Path, default=None, help="write the report as JSON here")
    parser.add_argument("--split", choices=["test", "val", "train", "all"], default="test")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")


def run(args: argparse.Namespace) -> int:
    from model.checkpoint import load_checkpoint
    from model.predictor import Predictor
    from model.training.data import patient_split, read_sph_dataset
    from model.training.evaluation import evaluate_predictor, format_report

    predictor = Predictor.load(args.model, torch_threads=args.threads)
    seed = int(load_checkpoint(args.model).training.get("split", {}).get("seed", 0))
    data = read_sph_dataset(args.data)
    parts = dict(zip(("train", "val", "test"), patient_split(data.patient_ids, seed=seed), strict=True))
    subset = data if args.split == "all" else data.subset(parts[args.split])
    report = evaluate_predictor(predictor, subset)
    report["split"] = {"name": args.split, "seed": seed, "by": "Patient_ID"}
    print(format_report(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
        print(f"report written to {args.json}")
    return 0
