"""``ecgstream generate OUT``: write a small synthetic data set in the SPH layout."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="folder to write (metadata.csv, code.csv, records/)")
    parser.add_argument("--n", type=int, default=20, help="number of recordings")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from ingest.synthetic import write_sph_dataset

    folder = write_sph_dataset(args.out, args.n, seed=args.seed)
    print(f"wrote {args.n} synthetic recordings to {folder}")
    return 0
