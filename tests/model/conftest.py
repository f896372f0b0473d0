"""Make ``import model`` (and ``ingest``, ``schemas``) find the project packages, not test folders.

pytest puts ``tests/`` on ``sys.path`` (rootdir conftest, no ``__init__.py``), where ``tests/model``
would shadow the real ``model`` package as a namespace package; put the repository root first.
Also: a tiny synthetic SPH data set and a model trained on it, once per session.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_ROOT]:
    sys.path.insert(0, _ROOT)
for _name in ("model", "ingest", "schemas"):
    _module = sys.modules.get(_name)
    if _module is not None and getattr(_module, "__file__", None) is None:
        del sys.modules[_name]


@pytest.fixture(scope="session")
def synthetic_train_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingest.synthetic import write_sph_dataset

    return write_sph_dataset(tmp_path_factory.mktemp("syn_train"), 60, seed=0)


@pytest.fixture(scope="session")
def synthetic_test_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingest.synthetic import write_sph_dataset

    return write_sph_dataset(tmp_path_factory.mktemp("syn_test"), 40, seed=1)


@pytest.fixture(scope="session")
def tiny_checkpoint(synthetic_train_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ecgstream train`` on 60 synthetic records with a handful of epochs (a few seconds)."""
    from ecgstream.cli import main

    out = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    code = main([
        "train", "--data", str(synthetic_train_dir), "--out", str(out), "--ae-epochs", "2", "--epochs", "20",
        "--batch-size", "16", "--lr", "3e-3", "--threads", "1", "--no-progress", "--members", "1",
    ])  # fmt: skip
    assert code == 0
    return out
