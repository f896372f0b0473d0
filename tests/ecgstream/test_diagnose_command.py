"""``ecgstream diagnose`` with the shipped model on real CinC 2021 files: fused statements with
provenance, measurements, quality; an unreadable file says so with its reasons and no statements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecgstream.cli import main
from ingest import read_recording
from ingest.writers import write_dicom
from tests.conftest import shared_data_dir
from tests.stream_processor.records import leads_off_recording


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    good = shared_data_dir("cinc2021") / "E07501.hea"
    off = write_dicom(leads_off_recording(read_recording(good)), tmp_path / "off.dcm")
    return good, off


def test_json_has_fused_statements_measurements_and_quality(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    good, off = files
    assert main(["diagnose", str(good), str(off), "--json", "--threads", "1"]) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.strip().splitlines())

    assert first["readable"] is True and first["unreadable_reasons"] == []
    assert 30 <= first["measurements"]["heart_rate_bpm"] <= 200
    assert {"pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qrs_axis_deg", "beats", "leads"} <= set(first["measurements"])
    assert first["quality"]["verdict"] in {"good", "acceptable"} and len(first["quality"]["leads"]) == 12
    assert first["statements"], "a real record gets statements"
    for statement in first["statements"]:
        assert statement["provenance"] in {"measurement", "model", "both"}
        assert set(statement) == {"code", "description", "probability", "provenance", "evidence", "modifies",
                                  "certainty"}  # fmt: skip
        assert statement["certainty"] in {"definite", "possible"}
    # The same verdict and critical findings as the page and the event (interpretation.verdict/.critical).
    assert first["verdict"]["kind"] in {"normal", "abnormal", "no_statement"} and first["verdict"]["text"]
    assert isinstance(first["critical_findings"], list)
    assert second["verdict"]["kind"] == "unreadable"

    assert second["readable"] is False and second["unreadable_reasons"]
    assert second["statements"] == [] and second["measurements"] is None
    assert second["quality"]["verdict"] == "unreadable"


def test_text_output_marks_provenance_and_unreadable(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    good, off = files
    assert main(["diagnose", str(good), str(off), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    good_part, off_part = out.split(str(off))
    assert "HR " in good_part and "QRS " in good_part and "quality: " in good_part
    assert any(tag in good_part for tag in (" meas", " model", " both"))
    assert "UNREADABLE (" in off_part and "no statements" in off_part


def test_fusion_off_lists_only_model_statements(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUSION", "off")
    good, _ = files
    assert main(["diagnose", str(good), "--json", "--threads", "1"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert all(s["provenance"] == "model" and s["probability"] is not None for s in line["statements"])
    assert line["measurements"] is not None, "measurements are still reported"


def test_fhir_format_prints_a_valid_bundle_per_file(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    good, off = files
    assert main(["diagnose", str(good), str(off), "--format", "fhir", "--threads", "1"]) == 0
    bundles = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert len(bundles) == 2
    for bundle in bundles:
        Bundle.model_validate(bundle)
    kinds = [[e["resource"]["resourceType"] for e in b["entry"]] for b in bundles]
    assert kinds[0].count("Observation") >= 8, "measurements + the waveform"
    assert bundles[1]["entry"][0]["resource"]["conclusion"].startswith("Unreadable: ")
    assert main(["diagnose", str(good), "--format", "fhir", "--no-waveform", "--threads", "1"]) == 0
    lean = json.loads(capsys.readouterr().out)
    assert not any("component" in e["resource"] for e in lean["entry"])


def test_hl7_format_prints_an_oru_r01_per_file(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message

    good, off = files
    assert main(["diagnose", str(good), str(off), "--format", "hl7", "--threads", "1"]) == 0
    messages = [m for m in capsys.readouterr().out.split("\n\n") if m.strip()]
    assert len(messages) == 2
    for text in messages:
        message = parse_message(text.strip().replace("\n", "\r"), validation_level=VALIDATION_LEVEL.STRICT)
        assert message.validate() and message.msh.msh_9.to_er7() == "ORU^R01^ORU_R01"
    assert "8867-4^Heart rate^LN" in messages[0] and "Unreadable: " in messages[1]


def test_json_flag_and_format_must_agree(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    good, _ = files
    assert main(["diagnose", str(good), "--json", "--format", "hl7"]) == 2
    assert "contradicts" in capsys.readouterr().err
