"""``ecgstream replay`` on real stored rows (real Postgres and a SQLite file) of real recordings.

The database is filled by the worker's own batch path (``BatchProcessor`` + SQL sink) with the shipped
model: the 10 CinC 2021 records with ``STORE_SIGNAL`` on, LUDB 1-6 with only the gateway's tracing
(float16), LUDB 7-10 with no samples at all. Replay only reads, so one database per backend serves
the whole module (and a test checks that every row is unchanged afterwards). The second model versions
are derived from the shipped checkpoint (``benchmarks.replay_example``).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.replay_example import (
    ALWAYS_CODE,
    NEVER_CODE,
    head_noise_checkpoint,
    shared_recordings,
    store_diagnoses,
    threshold_checkpoint,
)
from core.config import DEFAULT_MODEL_PATH
from ecgstream.cli import main as cli_main
from interpretation.agreement import AgreementTally
from model import Predictor
from schemas import Recording
from storage import create_engine
from storage.models import Base, Diagnosis
from storage.stored_recordings import count_stored_recordings
from stream_processor.analysis import BatchAnalyser
from stream_processor.replay import ReplayResult, outcome_conclusion, replay_stored
from tests.conftest import _admin_execute, shared_data_dir


@dataclass(frozen=True)
class StoredDb:
    url: str
    recordings: list[Recording]  # in storage order: 10 with signal, 6 with tracing, 4 without samples
    between: datetime  # after the STORE_SIGNAL batch, before the others


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("variants")
    return {"thresholds": threshold_checkpoint(folder / "thresholds.pt"),
            "head_noise": head_noise_checkpoint(folder / "head-noise.pt")}  # fmt: skip


def _fill(url: str, predictor: Predictor) -> StoredDb:
    shared_data_dir("cinc2021"), shared_data_dir("ludb")
    recordings = shared_recordings(ludb=10)
    asyncio.run(store_diagnoses(url, recordings[:10], predictor, store_signal=True))
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    asyncio.run(store_diagnoses(url, recordings[10:16], predictor, store_signal=False, tracings=True))
    asyncio.run(store_diagnoses(url, recordings[16:], predictor, store_signal=False))
    return StoredDb(url, recordings, between)


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def stored(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, predictor: Predictor) -> Iterator[StoredDb]:
    if request.param == "sqlite":
        yield _fill(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('replay') / 'ecgstream.db'}", predictor)
        return
    postgres_url = request.getfixturevalue("postgres_url")
    name = f"ecgs_replay_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin_execute(postgres_url, f'CREATE DATABASE "{name}"'))
    try:
        yield _fill(f"{postgres_url.rpartition('/')[0]}/{name}", predictor)
    finally:
        asyncio.run(_admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _replay(url: str, model: Path | Predictor, **window: Any) -> ReplayResult:
    predictor = model if isinstance(model, Predictor) else Predictor.load(model, torch_threads=1)
    engine = create_engine(url, read_only=True)
    try:
        return await replay_stored(engine, BatchAnalyser(predictor), **window)
    finally:
        await engine.dispose()


async def _all_rows(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    async with engine.connect() as conn:
        return {
            table.name: [row._asdict() for row in (await conn.execute(select(table))).all()]
            for table in Base.metadata.sorted_tables
        }


async def test_the_same_model_agrees_everywhere_and_nothing_is_written(stored: StoredDb, predictor: Predictor) -> None:
    engine = create_engine(stored.url)
    before = await _all_rows(engine)
    result = await _replay(stored.url, predictor)
    after = await _all_rows(engine)
    await engine.dispose()

    c = result.counts
    assert (c.read, c.compared, c.no_samples, c.no_diagnosis, c.invalid, c.failed) == (20, 16, 4, 0, 0, 0)
    assert c.sample_sources == {"signal": 10, "tracing": 6}, "float16 tracings are replayed too"
    assert c.stored_versions == {predictor.version: 16}
    report = result.report
    assert report.n == 16 and report.identical, "same model, same samples: the same conclusions"
    assert report.codes and all(code.kappa(16) == 1.0 and code.both == code.n_stored for code in report.codes)
    assert after == before and len(before["diagnoses"]) == 20


async def test_a_model_that_never_calls_147_and_always_88_changes_exactly_those(stored: StoredDb,
                                                                                variants: dict[str, Path]) -> None:  # fmt: skip
    report = (await _replay(stored.url, variants["thresholds"])).report
    t_wave, block = report.code(NEVER_CODE), report.code(ALWAYS_CODE)
    assert t_wave is not None and block is not None
    assert t_wave.n_stored > 0 and t_wave.n_replay == 0 and t_wave.no_longer_called == t_wave.n_stored
    assert t_wave.kappa(report.n) == 0.0 and len(t_wave.no_longer_examples) == min(5, t_wave.n_stored)
    assert block.n_stored == 0 and block.newly_called == block.n_replay >= 12, "88 on (nearly) every record"
    assert block.kappa(report.n) == 0.0
    assert report.critical_raised == {"complete_heart_block": block.n_replay}, "a definite 88 is critical"
    assert report.critical_cleared == {} and report.critical_changed == block.n_replay
    assert report.verdict_changed >= block.n_replay
    normal = report.code(1)
    assert normal is not None and normal.n_replay == 0, "'Normal ECG' never stands beside a definite 88"
    assert report.verdict_transitions.get("normal -> abnormal") == normal.no_longer_called > 0
    # nothing else moves, except "Normal ECG" (dropped beside another statement) and 147's modifier 367
    moved = {code.code for code in report.codes if code.newly_called or code.no_longer_called}
    assert moved <= {1, NEVER_CODE, ALWAYS_CODE, 367} and {NEVER_CODE, ALWAYS_CODE} <= moved


async def test_the_report_equals_the_agreement_of_direct_analyses(stored: StoredDb, predictor: Predictor,
                                                                  variants: dict[str, Path]) -> None:  # fmt: skip
    new = Predictor.load(variants["head_noise"], torch_threads=1)
    result = await _replay(stored.url, new)
    with_samples = stored.recordings[:16]
    before = BatchAnalyser(predictor).run(with_samples).outcomes
    after = BatchAnalyser(new).run(with_samples).outcomes
    tally = AgreementTally()
    for rec, b, a in zip(with_samples, before, after, strict=True):
        tally.describe([asdict(s) for s in b.statements] + [asdict(s) for s in a.statements])
        tally.add(rec.recording_id, outcome_conclusion(b), outcome_conclusion(a))
    direct = tally.report()
    assert result.model_version == new.version and result.report.n == direct.n == 16

    def counts(report: Any) -> dict[str, Any]:
        return {
            "codes": [(c.code, c.n_stored, c.n_replay, c.both, c.newly_called, c.no_longer_called) for c in report.codes],
            "kappa": [round(c.kappa(report.n), 6) for c in report.codes],
            "rest": (report.records_with_statement_changes, report.critical_changed, dict(report.critical_raised),
                     dict(report.critical_cleared), report.verdict_changed, dict(report.verdict_transitions),
                     report.certainty_changed, report.readability_changed),
        }  # fmt: skip

    assert counts(result.report) == counts(direct)
    assert result.report.records_with_statement_changes > 0, "a perturbed output layer changes something"


async def test_windows_limits_and_pages(stored: StoredDb, predictor: Predictor) -> None:
    later = await _replay(stored.url, predictor, since=stored.between)
    assert (later.counts.read, later.counts.compared, later.counts.no_samples) == (10, 6, 4)
    earlier = await _replay(stored.url, predictor, until=stored.between)
    assert (earlier.counts.read, earlier.counts.compared) == (10, 10)
    assert earlier.counts.sample_sources == {"signal": 10}
    limited = await _replay(stored.url, predictor, limit=7, page_size=3)
    assert limited.counts.read == 7
    engine = create_engine(stored.url, read_only=True)
    counted = [await count_stored_recordings(engine, **w) for w in ({}, {"since": stored.between}, {"until": stored.between})]
    await engine.dispose()
    assert counted == [20, 10, 10]
    # one recording a page walks the keyset through rows stored in one transaction (equal created_at)
    single = await _replay(stored.url, predictor, page_size=1)
    whole = await _replay(stored.url, predictor, page_size=32)
    assert single.counts.read == whole.counts.read == 20
    assert single.report.as_json() == whole.report.as_json()


async def test_the_replay_engine_refuses_writes(stored: StoredDb) -> None:
    engine = create_engine(stored.url, read_only=True)
    row = {"recording_id": "x", "model_version": "v", "statements": [], "probabilities": {},
           "received_at": datetime.now(UTC), "diagnosed_at": datetime.now(UTC), "queue_wait_seconds": 0.0,
           "preprocess_seconds": 0.0, "inference_seconds": 0.0}  # fmt: skip
    try:
        with pytest.raises(Exception, match="(?i)read-only|readonly"):
            async with engine.begin() as conn:
                await conn.execute(insert(Diagnosis).values(**row))
    finally:
        await engine.dispose()


def test_the_command_prints_the_report_and_writes_json(stored: StoredDb, variants: dict[str, Path], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "report.json"
    code = cli_main(["replay", "--url", stored.url, "--model", str(variants["thresholds"]), "--json", str(out),
                     "--no-progress", "--examples", "2"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    saved = json.loads(out.read_text())
    assert saved["read"] == 20 and saved["compared"] == 16 and saved["skipped"]["no_samples"] == 4
    block = next(s for s in saved["agreement"]["statements"] if s["code"] == ALWAYS_CODE)
    assert block["n_stored"] == 0 and block["newly_called"] == block["n_replay"] > 0
    assert len(block["newly_called_examples"]) == 2
    assert "recordings read 20, compared 16; skipped: 4 without samples" in printed
    line = next(x for x in printed.splitlines() if x.startswith(f"{ALWAYS_CODE:>4}  AV block, complete"))
    assert line.split()[-6:] == ["0", str(block["n_replay"]), "0", "0.000", str(block["n_replay"]), "0"]
    assert f"critical findings changed in {block['n_replay']} records; raised: complete_heart_block" in printed


def test_the_command_refuses_a_missing_database_and_a_broken_model(tmp_path: Path, stored: StoredDb,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    missing = f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"
    assert cli_main(["replay", "--url", missing, "--model", str(DEFAULT_MODEL_PATH), "--no-progress"]) == 2
    assert not (tmp_path / "none.db").exists(), "no empty database is created"
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    assert cli_main(["replay", "--url", stored.url, "--model", str(broken), "--no-progress"]) == 2
    assert "cannot load model" in capsys.readouterr().err
