"""The evaluate, diagnose and generate subcommands on the tiny synthetic model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecgstream.cli import main


def test_evaluate_writes_json(tiny_checkpoint: Path, synthetic_train_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    assert main(["evaluate", "--data", str(synthetic_train_dir), "--model", str(tiny_checkpoint),
                 "--json", str(out), "--threads", "1"]) == 0  # fmt: skip
    report = json.loads(out.read_text())
    assert report["split"]["by"] == "Patient_ID" and report["min_positives"] == 10
    assert len(report["per_label"]) == 59
    few = set(report["labels_with_few_positives"])
    assert all(r["code"] in few for r in report["per_label"] if 0 < r["positives"] < 10)


def test_diagnose_good_and_bad_files(
    tiny_checkpoint: Path, synthetic_test_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = sorted((synthetic_test_dir / "records").glob("*.h5"))[0]
    assert main(["diagnose", str(good), "--model", str(tiny_checkpoint), "--json", "--threads", "1"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["model_version"].startswith("cae-") and isinstance(line["statements"], list)
    bad = tmp_path / "notes.txt"
    bad.write_text("not an ECG")
    assert main(["diagnose", str(bad), "--model", str(tiny_checkpoint), "--threads", "1"]) != 0
    assert "error" in capsys.readouterr().err


def test_generate(tmp_path: Path) -> None:
    assert main(["generate", str(tmp_path / "g"), "--n", "5", "--seed", "2"]) == 0
    assert len(list((tmp_path / "g" / "records").glob("*.h5"))) == 5
