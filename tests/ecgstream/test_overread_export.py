"""``ecgstream overread export``: confirmed statements of real CinC 2021 recordings (kept as the gateway
keeps them) written as an SPH-layout data set, read back with the training code's own reader."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from ecgstream.cli import main as cli_main
from ecgstream.overread_dataset import aha_code
from model.training.data import read_sph_dataset
from schemas.pseudonym import patient_pseudonym
from storage import DiagnosisResult, SqlDiagnosisSink, create_engine, upgrade
from storage.overreads import add_overread
from storage.tracings import store_tracing
from tests.webapp.conftest import cinc_recording

SECRET = "overread-export-test-secret"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
AF = {"code": 50, "description": "Atrial fibrillation", "modifies": None, "source": "physician"}
RVR = {"code": 346, "description": "Rapid ventricular response", "modifies": 50, "source": "physician"}
TWA = {"code": 147, "description": "T-wave abnormality", "modifies": None, "source": "physician"}
INV = {"code": 367, "description": "Inversion", "modifies": 147, "source": "physician"}


def test_aha_code_follows_the_sph_grammar() -> None:
    assert aha_code([AF, RVR, TWA, INV]) == "50+346;147+367"
    assert aha_code([{"code": 22}, {"code": 23}]) == "22;23"
    assert aha_code([{"code": 1}]) == "1"
    assert aha_code([{"code": 346, "modifies": None}, {"code": 30}]) == "30;346"  # a model modifier of nothing
    assert aha_code([]) == ""


def _result(rid: str, patient: str | None, when: datetime) -> DiagnosisResult:
    return DiagnosisResult(
        recording_id=rid, model_version="cae-test", device_id=None, patient_ref=patient, statements=[],
        probabilities={}, age=67, sex="F", height_cm=None, weight_kg=None, sampling_rate_hz=500.0, n_samples=5000,
        acquired_at=when, ingested_at=when, signal_sha256="0" * 64, signal=None, received_at=when,
        diagnosed_at=when, queue_wait_seconds=0.0, preprocess_seconds=0.0, inference_seconds=0.0,
    )  # fmt: skip


async def _prepare(url: str) -> dict[str, np.ndarray]:
    rec_a, rec_b = cinc_recording("E07501"), cinc_recording("E07506")
    kept = {"edited": rec_a.signal, "slow": rec_b.signal[:, ::2], "confirmed-old": rec_a.signal}
    engine = create_engine(url)
    try:
        sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
        await sink.write_batch([_result("edited", "MRN-1", T0), _result("slow", None, T0 + timedelta(days=1)),
                                _result("confirmed-old", "MRN-1", T0 - timedelta(days=30)),
                                _result("rejected", "MRN-2", T0), _result("no-samples", "MRN-3", T0),
                                _result("text-only", "MRN-4", T0)])  # fmt: skip
        await store_tracing(engine, "edited", kept["edited"], 500.0, tuple(rec_a.leads))
        await store_tracing(engine, "slow", kept["slow"], 250.0, tuple(rec_b.leads))  # resampled to 500 Hz
        await store_tracing(engine, "confirmed-old", kept["confirmed-old"], 500.0, tuple(rec_a.leads))
        await store_tracing(engine, "rejected", rec_a.signal, 500.0, tuple(rec_a.leads))
        await store_tracing(engine, "text-only", rec_a.signal, 500.0, tuple(rec_a.leads))
        common = {"model_version": "cae-test", "reader": "user:dr", "reader_name": "dr"}
        now = datetime.now(UTC)
        await add_overread(engine, "edited", action="confirm", statements=[AF], at=now, **common)
        await add_overread(engine, "edited", action="edit", statements=[AF, RVR, TWA, INV], at=now, **common)
        await add_overread(engine, "slow", action="confirm", statements=[{**TWA}], at=now, **common)
        await add_overread(engine, "confirmed-old", action="confirm", statements=[AF], at=now - timedelta(days=10), **common)
        await add_overread(engine, "rejected", action="confirm", statements=[AF], at=now, **common)
        await add_overread(engine, "rejected", action="reject", statements=[], reason="noise", at=now, **common)
        await add_overread(engine, "no-samples", action="confirm", statements=[AF], at=now, **common)
        await add_overread(engine, "text-only", action="edit", statements=[], free_text="see comment", at=now, **common)
    finally:
        await engine.dispose()
    return kept


def test_confirmed_overreads_export_as_an_sph_data_set_read_back_by_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ecgstream.db'}"
    upgrade(url)
    kept = asyncio.run(_prepare(url))
    monkeypatch.setenv("DATABASE_URL", url)
    out = tmp_path / "confirmed"
    assert cli_main(["overread", "export", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "wrote 3 confirmed recordings" in said and "1 no samples" in said and "1 no statement" in said

    data = read_sph_dataset(out)
    assert sorted(data.ecg_ids) == ["confirmed-old", "edited", "slow"]  # the rejection is left out
    by_id = {rid: i for i, rid in enumerate(data.ecg_ids)}
    assert data.codes[by_id["edited"]] == [50, 346, 147, 367] and data.codes[by_id["slow"]] == [147]
    assert [label.code for label in data.labels][:3] == [1, 21, 22] and len(data.labels) == 59
    assert data.patient_ids[by_id["edited"]] == patient_pseudonym("MRN-1", SECRET)
    assert data.patient_ids[by_id["slow"]] == "unknown" and data.sexes[by_id["edited"]] == "F"
    edited = data.signals[by_id["edited"]]
    assert edited.dtype == np.float16 and edited.shape == (12, 5000)
    np.testing.assert_allclose(edited.astype(np.float32), kept["edited"], atol=2e-3)  # float16 mV, as SPH
    slow = data.signals[by_id["slow"]]
    assert slow.shape == (12, 5000)  # 250 Hz kept -> 500 Hz written
    np.testing.assert_allclose(slow[:, ::2].astype(np.float32)[:, 50:-50], kept["slow"][:, 50:-50], atol=0.05)
    with open(out / "metadata.csv", newline="", encoding="utf-8") as handle:
        rows = {row["ECG_ID"]: row for row in csv.DictReader(handle)}
    assert rows["edited"]["AHA_Code"] == "50+346;147+367" and rows["edited"]["Date"] == "2026-11-20"
    assert rows["edited"]["N"] == "5000" and rows["edited"]["Age"] == "67"
    assert "MRN-1" not in (out / "metadata.csv").read_text()

    recent = tmp_path / "recent"
    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert cli_main(["overread", "export", "--out", str(recent), "--since", since]) == 0
    assert sorted(read_sph_dataset(recent).ecg_ids) == ["edited", "slow"]
    assert cli_main(["overread", "export", "--out", str(recent)]) == 1  # never overwrites a data set
