"""The validation report (``python -m benchmarks.validation_report``) on the real shared data.

The command runs as CI runs it: a subprocess over all of LUDB 1-100 and the 10 CinC records, and 50
ptbxl-sph records (with and without an out-of-fold file). Its JSON is checked for structure and
arithmetic (counts recomputed from the per-record detail), and its labels against the headers.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.labels_ludb import diagnoses, ludb_labels
from benchmarks.validation_compare import compact, compare
from benchmarks.validation_labels import RecordLabels, cinc_labels
from benchmarks.validation_scoring import (
    RecordResult,
    classify_alarm,
    macro_summary,
    score_codes,
    score_groups,
)
from tests.conftest import REPO_ROOT, shared_data_dir

LIMIT = 50


def run_report(out: Path, *args: str) -> tuple[str, dict[str, Any]]:
    command = [sys.executable, "-m", "benchmarks.validation_report", "--json", str(out), *args]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(out.read_text())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    shared_data_dir("ludb"), shared_data_dir("cinc2021"), shared_data_dir("ptbxl-sph")
    return run_report(tmp_path_factory.mktemp("report") / "report.json", "--limit", str(LIMIT))


def af_records_by_text(folder: Path) -> set[str]:
    """LUDB records whose header says "Rhythm: Atrial fibrillation" (read independently of the mapping)."""
    return {
        h.stem for h in folder.glob("*.hea") if re.search(r"#\s*Rhythm: Atrial fibrillation", h.read_text())
    }


def recount(per_record: list[dict[str, Any]], code: int) -> dict[str, int]:
    counts = {"tp": 0, "fp": 0, "fn": 0}
    for r in per_record:
        said = code in {s["code"] for s in r["statements"]}
        if code in r["positive"]:
            counts["tp" if said else "fn"] += 1
        elif code in r["negative"] and said:
            counts["fp"] += 1
    return counts


def test_every_set_is_reported_with_its_records(report: tuple[str, dict[str, Any]]) -> None:
    text, data = report
    assert set(data["sets"]) == {"ludb", "ludb-noamp", "cinc", "ptbxl"}
    assert data["sets"]["ludb"]["records"] == 100 and data["sets"]["ludb-noamp"]["records"] == 100
    assert data["sets"]["cinc"]["records"] == 10 and data["sets"]["ptbxl"]["records"] == LIMIT
    for title in ("== LUDB", "== CinC 2021", "== ptbxl-sph", "critical findings:", "macro over"):
        assert title in text
    assert "model-decided rows are skipped" in text
    assert data["model_version"] and data["date"]


def test_counts_add_up_and_rates_are_proportions(report: tuple[str, dict[str, Any]]) -> None:
    _, data = report
    for name, s in data["sets"].items():
        for row in s["rows"] + s["groups"]:
            assert row["tp"] + row["fn"] == row["labelled"], (name, row)
            assert row["fp"] <= row["negatives"], (name, row)
            assert row["labelled"] + row["negatives"] <= s["records"], (name, row)
            for rate in ("sensitivity", "ppv"):
                assert row[rate] is None or 0.0 <= row[rate] <= 1.0, (name, row)
            if row["labelled"]:
                assert row["sensitivity"] == pytest.approx(row["tp"] / row["labelled"])
        for row in s["rows"]:  # the table agrees with the per-record detail it came from
            assert {k: row[k] for k in ("tp", "fp", "fn")} == recount(s["per_record"], row["code"]), (
                name,
                row,
            )
        micro = s["summary"]["micro"]
        primary = [r for r in s["rows"] if r["code"] < 300]
        assert micro["tp"] == sum(r["tp"] for r in primary) and micro["fp"] == sum(r["fp"] for r in primary)


def test_ludb_af_records_are_labelled_af(report: tuple[str, dict[str, Any]]) -> None:
    _, data = report
    af = af_records_by_text(shared_data_dir("ludb"))
    assert len(af) >= 5  # 9 in LUDB 1-100
    ludb = data["sets"]["ludb"]
    assert {r["record"] for r in ludb["per_record"] if 50 in r["positive"]} == af
    row = next(r for r in ludb["rows"] if r["code"] == 50)
    assert row["labelled"] == len(af) and row["negatives"] == 100 - len(af)


def test_critical_findings_are_all_judged(report: tuple[str, dict[str, Any]]) -> None:
    _, data = report
    for s in data["sets"].values():
        critical = s["critical"]
        verdicts = [a["verdict"] for a in critical["all"]]
        assert len(verdicts) == critical["total"]
        assert set(verdicts) <= {"supported", "false", "unverifiable"}
        assert len(critical["false_alarms"]) == verdicts.count("false")
        records = {r["record"] for r in s["per_record"]}
        assert {a["record"] for a in critical["all"]} <= records


def test_ptbxl_without_oof_scores_rule_statements_only(report: tuple[str, dict[str, Any]]) -> None:
    _, data = report
    ptbxl = data["sets"]["ptbxl"]
    assert ptbxl["skipped"]["1"] == "model-decided (no --oof)"
    assert {r["code"] for r in ptbxl["rows"]} >= {21, 22, 50} and 1 not in {r["code"] for r in ptbxl["rows"]}
    said = {s["provenance"] for r in ptbxl["per_record"] for s in r["statements"]}
    assert said == {"measurement"}


def test_not_evaluable_statements_have_no_label_anywhere(report: tuple[str, dict[str, Any]]) -> None:
    _, data = report
    never = {item["code"] for item in data["not_evaluable"]}
    assert never and 50 not in never
    for s in data["sets"].values():
        assert not [r for r in s["rows"] if r["code"] in never and r["labelled"]]


def test_ptbxl_with_an_oof_file_scores_the_model_statements(tmp_path: Path) -> None:
    from benchmarks.validation_labels import sph_metadata_codes
    from core.config import DEFAULT_MODEL_PATH
    from ingest import read_recording
    from model.predictor import Predictor
    from model.training.crossval import CVResult, save_oof

    folder = shared_data_dir("ptbxl-sph")
    ids = list(sph_metadata_codes(folder / "metadata.csv"))[:LIMIT]
    predictor = Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)
    recs = [read_recording(folder / "records" / f"{i}.h5") for i in ids]
    p = predictor.predict(
        [r.signal for r in recs], [r.fs for r in recs], [r.age for r in recs], [r.sex for r in recs]
    )
    codes = [label.code for label in predictor.labels]
    oof = save_oof(tmp_path / "oof.npz", CVResult(
        "shipped-on-own-records", ids, np.zeros((len(ids), len(codes))), p.probabilities, p.probabilities[None],
        np.zeros(len(ids), int), codes, 0.0, 0, {},
    ))  # fmt: skip
    with np.load(oof) as z:  # the model's calibrated output: no second calibration
        np.savez_compressed(oof, **{k: z[k] for k in z.files}, probabilities_calibrated=p.probabilities)
    text, data = run_report(tmp_path / "r.json", "--sets", "ptbxl", "--limit", str(LIMIT), "--oof", str(oof))
    ptbxl = data["sets"]["ptbxl-oof"]
    assert set(data["sets"]) == {"ptbxl-oof"} and ptbxl["records"] == LIMIT
    assert "model-decided" not in " ".join(ptbxl["skipped"].values())
    normal = next(r for r in ptbxl["rows"] if r["code"] == 1)
    assert normal["labelled"] > 0 and normal["tp"] > 0  # the shipped model on records it trained on
    assert "probabilities calibrated in the file" in text
    assert any(s["provenance"] in ("model", "both") for r in ptbxl["per_record"] for s in r["statements"])


def test_compare_lists_what_changed(report: tuple[str, dict[str, Any]]) -> None:
    _, data = report
    before = compact(data)
    assert "per_record" not in before["sets"]["ludb"] and "all" not in before["sets"]["ludb"]["critical"]
    assert not [line for line in compare(before, data) if line.startswith("   50")]  # nothing changed
    after = copy.deepcopy(data)
    cinc = after["sets"]["cinc"]
    af = next(r for r in cinc["rows"] if r["code"] == 50)
    af.update(fp=af["fp"] + 1, ppv=0.0)
    cinc["critical"]["false_alarms"].append({"record": "JS20011", "finding": "af_rapid_ventricular_response"})
    lines = compare(before, after)
    changed = [line for line in lines if line.split()[:1] == ["50"]]
    assert len(changed) == 1 and "Atrial fibrillation" in changed[0]
    assert any("new: JS20011 af_rapid_ventricular_response" in line for line in lines)


# -- labels and scoring, on real headers and small hand-made cases ---------------------------------


def test_ludb_labels_of_real_headers() -> None:
    folder = shared_data_dir("ludb")
    first = ludb_labels(folder / "1.hea")  # sinus bradycardia, left axis deviation, LVH, LV overload, NSRA
    assert first.positive == {22, 121, 142}
    assert first.truth(1) is False and first.truth(50) is False and first.truth(148) is None
    assert first.truth(147) is None  # non-specific repolarization abnormality: T-wave truth unknown
    assert "Left ventricular overload" in first.unmapped
    paced_af = ludb_labels(folder / "8.hea")  # AF, ventricular pacing, no axis line
    assert 50 in paced_af.positive and paced_af.truth(120) is None and paced_af.truth(346) is None
    assert any("pacing" in d for d in paced_af.unmapped)
    assert 88 in ludb_labels(folder / "34.hea").positive
    assert 51 in ludb_labels(folder / "35.hea").positive


def test_ludb_diagnoses_split_on_every_hash(tmp_path: Path) -> None:
    header = tmp_path / "900.hea"
    header.write_text("900 12 500 5000\n#<age>: 40\n#<diagnoses>:\n#Rhythm: Sinus rhythm.\n"
                      "#Electric axis of the heart: normal. #Left posterior hemiblock.\n")  # fmt: skip
    assert diagnoses(header) == [
        "Rhythm: Sinus rhythm",
        "Electric axis of the heart: normal",
        "Left posterior hemiblock",
    ]
    labels = ludb_labels(header)
    assert labels.positive == {102} and labels.truth(1) is False and labels.truth(121) is False
    header.write_text(
        "900 12 500 5000\n#<diagnoses>:\n#Rhythm: Sinus rhythm.\n#Electric axis of the heart: vertical.\n"
    )
    assert ludb_labels(header).positive == {1}


def test_cinc_labels_leave_near_codes_unknown() -> None:
    folder = shared_data_dir("cinc2021")
    universe = range(1, 400)
    e07501 = cinc_labels(folder / "E07501.hea", universe)  # sinus tachycardia + left atrial abnormality
    assert e07501.positive == {21} and e07501.truth(140) is None and e07501.truth(50) is False
    js20011 = cinc_labels(folder / "JS20011.hea", universe)  # sinus tachycardia + PACs
    assert js20011.positive == {21, 30} and js20011.truth(50) is False and js20011.truth(310) is None


def labels(record: str, positive: set[int], negative: set[int]) -> RecordLabels:
    return RecordLabels(record, frozenset(positive), frozenset(negative))


def test_scoring_counts_and_unknowns() -> None:
    results = [
        RecordResult(labels("a", {50}, {22, 160}), frozenset({50, 346})),  # TP for 50
        RecordResult(labels("b", set(), {50, 22, 160}), frozenset({50, 160})),  # FP 50, FP MI
        RecordResult(labels("c", {50}, {22}), frozenset(), readable=False),  # FN 50 (unreadable)
        RecordResult(labels("d", set(), {22}), frozenset({50})),  # 50 unknown: said unlabelled
    ]
    rows = {r.code: r for r in score_codes(results, {50: "AF", 22: "SB", 346: "RVR"})}
    af = rows[50]
    assert (af.labelled, af.negatives, af.tp, af.fp, af.fn, af.said_unlabelled) == (2, 1, 1, 1, 1, 1)
    assert af.sensitivity == 0.5 and af.ppv == 0.5
    assert rows[22].sensitivity is None and rows[22].ppv is None
    summary = macro_summary(list(rows.values()))
    assert summary["statements_with_labels"] == 1 and summary["micro"] == {
        "tp": 1, "fp": 1, "fn": 1, "sensitivity": 0.5, "ppv": 0.5}  # fmt: skip
    mi = score_groups(results)[0]
    assert (mi.tp, mi.fp, mi.labelled) == (0, 1, 0)  # 161/165/166 are never labelled here: 160 decides


def test_alarm_classification() -> None:
    sinus_with_apcs = labels("x", {21, 30}, {50, 51, 148, 22})
    assert classify_alarm(sinus_with_apcs, "af_rapid_ventricular_response")[0] == "false"
    assert classify_alarm(sinus_with_apcs, "severe_tachycardia", known={21, 50, 51})[0] == "supported"
    assert classify_alarm(sinus_with_apcs, "severe_bradycardia")[0] == "unverifiable"  # 85, 87, 88 unknown
    assert classify_alarm(sinus_with_apcs, "severe_bradycardia", known={22, 50})[0] == "false"
    assert classify_alarm(sinus_with_apcs, "a_new_finding")[0] == "unverifiable"
    assert (
        classify_alarm(sinus_with_apcs, "long_qtc", override=("supported", "reference QT"))[0] == "supported"
    )
