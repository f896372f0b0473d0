"""Revision 0002_integrate and the findings columns (measurements, quality, readability, provenance),
on the real Postgres and on a SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import SqlDiagnosisSink, create_engine, get_diagnosis
from storage.migrate import current_revision, downgrade_async, head_revision, upgrade_async
from storage.models import Diagnosis
from tests.storage.conftest import SECRET, insert_old_diagnosis, make_result

MEASUREMENTS = {
    "heart_rate_bpm": 72.5, "rr_mean_ms": 827.0, "rr_sd_ms": 20.0, "pr_ms": None, "qrs_ms": 96.0,
    "qt_ms": 380.0, "qtc_bazett_ms": 418.0, "qtc_fridericia_ms": 405.0, "p_axis_deg": None,
    "qrs_axis_deg": 45.0, "t_axis_deg": 30.0, "beats": {"N": 11, "S": 1, "V": 0, "Q": 0},
    "leads": [{"lead": "I", "qrs_amplitude_mv": 0.8, "st_j60_mv": 0.01}],
    "sokolow_lyon_mv": 2.1, "cornell_mv": 0.9, "missing": {"pr_ms": "no_p_waves"},
}  # fmt: skip
QUALITY = {"verdict": "acceptable", "problems": [],
           "leads": [{"lead": "V2", "verdict": "acceptable", "problems": ["baseline_wander"]}]}  # fmt: skip
STATEMENTS = [
    {
        "code": 21,
        "description": "Sinus tachycardia",
        "probability": 0.9,
        "provenance": "both",
        "evidence": "HR 112",
    },
    {
        "code": 310,
        "description": "Frequent",
        "probability": None,
        "provenance": "measurement",
        "evidence": "6/14",
    },
]


async def test_findings_are_stored_and_read_back(engine: AsyncEngine) -> None:
    readable = make_result(statements=STATEMENTS, measurements=MEASUREMENTS, quality=QUALITY)
    unreadable = make_result(statements=[], probabilities={}, readable=False,
                             unreadable_reasons=["too_many_bad_leads", "lead_off"],
                             quality={"verdict": "unreadable", "leads": [], "problems": ["too_many_bad_leads"]})  # fmt: skip
    plain = make_result()  # model only (MEASUREMENTS=off): no findings
    await SqlDiagnosisSink(engine, hmac_secret=SECRET).write_batch([readable, unreadable, plain])

    view = await get_diagnosis(engine, readable.recording_id)
    assert view is not None and view.readable is True
    assert view.measurements == MEASUREMENTS and view.quality == QUALITY
    assert view.statements == STATEMENTS, "provenance, evidence and a null probability survive"
    bad = await get_diagnosis(engine, unreadable.recording_id)
    assert bad is not None and bad.readable is False
    assert bad.unreadable_reasons == ["too_many_bad_leads", "lead_off"] and bad.statements == []
    none = await get_diagnosis(engine, plain.recording_id)
    assert none is not None and none.readable is True
    assert (none.measurements, none.quality, none.unreadable_reasons) == (None, None, None)


async def test_redelivery_keeps_the_first_findings(engine: AsyncEngine) -> None:
    first = make_result(measurements=MEASUREMENTS, quality=QUALITY)
    again = make_result(
        recording_id=first.recording_id, measurements={**MEASUREMENTS, "heart_rate_bpm": 99.0}
    )
    sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
    await sink.write_batch([first])
    await sink.write_batch([again])
    view = await get_diagnosis(engine, first.recording_id)
    assert view is not None and view.measurements == MEASUREMENTS, "first write wins, findings included"


async def test_0002_keeps_rows_written_under_0001(database_url: str) -> None:
    """A row written before the revision reads as readable, model-decided, not measured; downgrade
    back to 0001 drops the columns and keeps the row."""
    await upgrade_async(database_url, "0001")
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    row = {
        "recording_id": "old", "model_version": "cae-0.9",
        "statements": [{"code": 22, "description": "Sinus bradycardia", "probability": 0.8}],
        "probabilities": {"22": 0.8}, "received_at": now, "diagnosed_at": now, "queue_wait_seconds": 0.1,
        "preprocess_seconds": 0.1, "inference_seconds": 0.1,
    }  # fmt: skip
    engine = create_engine(database_url)
    try:
        await insert_old_diagnosis(engine, row)  # only 0001's columns
        await upgrade_async(database_url)
        assert current_revision(database_url) == head_revision()  # 0002 and every later revision
        view = await get_diagnosis(engine, "old")
        assert view is not None and view.readable is True
        assert (view.measurements, view.quality, view.unreadable_reasons) == (None, None, None)
        async with engine.connect() as conn:
            statements = (await conn.execute(select(Diagnosis.__table__.c.statements))).scalar_one()
        assert "provenance" not in statements[0], (
            "old statements stay as written (the gateway reads them as model)"
        )

        await downgrade_async(database_url, "0001")
        async with engine.connect() as conn:
            columns = [
                r[0] for r in (await conn.exec_driver_sql("SELECT * FROM diagnoses")).cursor.description
            ]
            count = (await conn.exec_driver_sql("SELECT count(*) FROM diagnoses")).scalar_one()
        assert "measurements" not in columns and "readable" not in columns and count == 1
    finally:
        await engine.dispose()
