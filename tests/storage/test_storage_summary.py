"""Revision 0009_summary: the verdict, critical findings and beat positions stored with a diagnosis,
on the real Postgres and on a SQLite file (written by the real SQL sink, read by every reader)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import SqlDiagnosisSink, create_engine, get_diagnosis
from storage.history import HistoryFilter, list_history
from storage.migrate import current_revision, downgrade_async, head_revision, upgrade_async
from storage.principals import record_owner
from storage.worklist import unconfirmed_keys, worklist_views
from tests.storage.conftest import SECRET, insert_old_diagnosis, make_result

VERDICT = {"kind": "abnormal", "text": "Abnormal ECG: 1 statement, most important: AV block, complete (third-degree)",
           "abnormal_count": 1, "most_important_code": 88}  # fmt: skip
CRITICAL = [{"finding": "complete_heart_block", "title": "Complete heart block",
             "rule": "statement 88 (AV block, complete / third-degree)", "evidence": "statement 88"}]  # fmt: skip
BEATS = {"fs": 500.0, "r_peaks": [210, 640, 1075], "classes": ["N", "V", "N"]}
BLOCK = [{"code": 88, "description": "AV block, complete (third-degree)", "probability": 0.8}]


async def test_summary_and_beats_are_stored_once_and_read_by_every_reader(engine: AsyncEngine) -> None:
    stored = make_result(statements=BLOCK, verdict=VERDICT, critical_findings=CRITICAL, beats=BEATS)
    older = make_result()  # a result without them (as every row before 0009): null, not empty
    sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
    outcome = await sink.write_batch([stored, older])
    assert outcome.stored[0] is not None and outcome.stored[0].verdict == VERDICT
    await record_owner(engine, stored.recording_id, "user:ann")

    view = await get_diagnosis(engine, stored.recording_id)
    assert view is not None and (view.verdict, view.critical_findings, view.beats) == (
        VERDICT,
        CRITICAL,
        BEATS,
    )
    plain = await get_diagnosis(engine, older.recording_id)
    assert plain is not None and (plain.verdict, plain.critical_findings, plain.beats) == (None, None, None)

    rows = {row.recording_id: row for row in (await list_history(engine, HistoryFilter())).rows}
    assert rows[stored.recording_id].verdict == VERDICT and rows[older.recording_id].verdict is None
    keys = {k.recording_id: k async for k in unconfirmed_keys(engine, owner=None, measurement_keys=())}
    assert (
        keys[stored.recording_id].critical_findings == CRITICAL
        and keys[older.recording_id].critical_findings is None
    )
    views = await worklist_views(engine, [stored.recording_id])
    assert views[stored.recording_id].beats == BEATS


async def test_a_redelivery_keeps_and_returns_the_first_summary(engine: AsyncEngine) -> None:
    first = make_result(statements=BLOCK, verdict=VERDICT, critical_findings=CRITICAL, beats=BEATS)
    other = {**VERDICT, "text": "Normal ECG", "kind": "normal"}
    again = make_result(recording_id=first.recording_id, verdict=other, critical_findings=[], beats=None)
    sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
    await sink.write_batch([first])
    outcome = await sink.write_batch([again])
    returned = outcome.stored[0]
    assert returned is not None, "the same recording again: a redelivery, not a conflict"
    assert (returned.verdict, returned.critical_findings, returned.beats) == (VERDICT, CRITICAL, BEATS)
    view = await get_diagnosis(engine, first.recording_id)
    assert view is not None and view.verdict == VERDICT, "first write wins, the summary included"


async def test_0009_up_and_down_keeps_older_rows(database_url: str) -> None:
    """A row written under 0008 reads with null summary and beats after the upgrade; downgrading back
    to 0008 drops the three columns and keeps every row, the newer one included."""
    await upgrade_async(database_url, "0008_overread")
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    row = {
        "recording_id": "old", "model_version": "cae-0.9", "statements": BLOCK, "probabilities": {"88": 0.8},
        "received_at": now, "diagnosed_at": now, "queue_wait_seconds": 0.1, "preprocess_seconds": 0.1,
        "inference_seconds": 0.1, "readable": True, "measurements": {"heart_rate_bpm": 36.0}, "quality": None,
    }  # fmt: skip
    engine = create_engine(database_url)
    try:
        await insert_old_diagnosis(engine, row)  # only 0008's columns
        await upgrade_async(database_url)
        assert current_revision(database_url) == head_revision() == "0009_summary"
        view = await get_diagnosis(engine, "old")
        assert view is not None and view.statements == BLOCK
        assert (view.verdict, view.critical_findings, view.beats) == (None, None, None)
        new = make_result(verdict=VERDICT, critical_findings=CRITICAL, beats=BEATS)
        await SqlDiagnosisSink(engine, hmac_secret=SECRET).write_batch([new])

        await downgrade_async(database_url, "0008_overread")
        assert current_revision(database_url) == "0008_overread"
        async with engine.connect() as conn:
            names = [r[0] for r in (await conn.exec_driver_sql("SELECT * FROM diagnoses")).cursor.description]
            count = (await conn.exec_driver_sql("SELECT count(*) FROM diagnoses")).scalar_one()
        assert not {"verdict", "critical_findings", "beats"} & set(names) and "measurements" in names
        assert count == 2
        await upgrade_async(database_url)  # and up again: the columns come back empty
        again = await get_diagnosis(engine, new.recording_id)
        assert again is not None and (again.verdict, again.beats) == (None, None)
    finally:
        await engine.dispose()
