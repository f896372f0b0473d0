"""``ecgstream inspect`` on real shared LUDB and CinC files (through ``ecgstream.cli.main``)."""

from __future__ import annotations

import json

import pytest

from ecgstream.cli import main
from tests.conftest import shared_data_dir


def test_inspect_json_prints_one_array_for_many_files(capsys: pytest.CaptureFixture[str]) -> None:
    ludb, cinc = shared_data_dir("ludb"), shared_data_dir("cinc2021")
    files = [ludb / "1.hea", ludb / "8.hea", cinc / "E07501.hea", cinc / "E07509.hea"]
    assert main(["inspect", "--json", *map(str, files)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["file"] for o in out] == [str(f) for f in files]
    for obj in out:
        assert {"heart_rate_bpm", "beats", "missing", "paced"} <= obj.keys()
        assert set(obj["beats"]) == {"N", "S", "V", "Q"}
    # LUDB 8 is ventricular-paced (header): no QRS duration, reason "paced"; the others are measured.
    assert out[1]["paced"] is True and out[1]["missing"]["qrs_ms"] == "paced"
    assert all("qrs_ms" in o and o["paced"] is False for o in (out[0], out[2], out[3]))
    # LUDB 1: sinus bradycardia; CinC E07501 labelled sinus tachycardia, E07509 sinus bradycardia.
    assert out[0]["heart_rate_bpm"] < 60
    assert out[2]["heart_rate_bpm"] > 100
    assert out[3]["heart_rate_bpm"] < 60
    # Quality and rule statements come from measurements.quality / measurements.rules.
    for obj in out:
        assert obj["quality"]["verdict"] in ("good", "acceptable", "unreadable")
        assert len(obj["quality"]["leads"]) == 12
        assert isinstance(obj["statements"], list)
    tachy = {s["code"] for s in out[2]["statements"]}
    assert 21 in tachy  # E07501: sinus tachycardia by rate
    # LUDB 8: atrial fibrillation with ventricular pacing: no PR, reason paced, no rhythm statement.
    assert "pr_ms" not in out[1] and out[1]["missing"]["pr_ms"] == "paced"
    assert not {s["code"] for s in out[1]["statements"]} & {21, 22, 23, 50, 104, 105, 106}


def test_inspect_reports_an_unreadable_file(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "junk.xml"
    bad.write_text("not an ecg")
    good = shared_data_dir("ludb") / "2.hea"
    assert main(["inspect", "--json", str(bad), str(good)]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out[0]["file"] == str(bad) and "error" in out[0]
    assert out[1]["qrs_ms"] > 40


def test_inspect_table(capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_data_dir("cinc2021") / "E07501.hea"
    assert main(["inspect", str(path)]) == 0
    text = capsys.readouterr().out
    assert "heart rate" in text and "QTc Bazett" in text and "beats" in text
