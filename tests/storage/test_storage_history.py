"""History list, filters, pages and the previous recording of a patient (storage.history), on the
real Postgres and on a SQLite file. Rows are written by the real SQL sink and ``record_owner``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from interpretation.verdict import headline_verdict
from storage import SqlDiagnosisSink, hash_patient_ref
from storage.history import HISTORY_STATUSES, HistoryFilter, list_history, previous_diagnosis
from storage.principals import record_owner
from tests.storage.conftest import SECRET, T0, make_result

NORMAL = [{"code": 1, "description": "Normal ECG", "probability": 0.9}]
AF = [{"code": 50, "description": "Atrial fibrillation", "probability": 0.8},
      {"code": 346, "description": "with rapid ventricular response", "probability": None}]  # fmt: skip
MODIFIER_ONLY = [{"code": 346, "description": "with rapid ventricular response", "probability": None}]


async def _seed(engine: AsyncEngine) -> dict[str, str]:
    """Six recordings: four uploaded by two principals (one pending), two streamed (no owner)."""
    sink = SqlDiagnosisSink(engine, hmac_secret=SECRET)
    results = {
        "normal": make_result(statements=NORMAL, patient_ref="P-1", ingested_at=T0),
        "af": make_result(statements=AF, patient_ref="P-1", ingested_at=T0 + timedelta(days=1)),
        "unreadable": make_result(statements=[], readable=False, unreadable_reasons=["flat_line"]),
        "modifier": make_result(statements=MODIFIER_ONLY),
        "streamed": make_result(statements=AF, patient_ref="P-1", ingested_at=T0 + timedelta(days=2)),
    }
    ids = {name: r.recording_id for name, r in results.items()}
    ids["pending"] = "pending-1"
    for name in ("normal", "af", "unreadable", "pending"):  # uploaded in this order
        await record_owner(engine, ids[name], "user:ann" if name != "unreadable" else "token:t1")
    await record_owner(engine, ids["modifier"], "user:ann")
    await sink.write_batch(list(results.values()))
    return ids


async def test_newest_first_with_every_status(engine: AsyncEngine) -> None:
    ids = await _seed(engine)
    page = await list_history(engine, HistoryFilter())
    listed = [row.recording_id for row in page.rows]
    assert set(listed) == set(ids.values()) and not page.has_more
    # uploads by their upload time; the streamed one by when the worker stored it (after the uploads)
    assert listed.index(ids["modifier"]) < listed.index(ids["pending"]) < listed.index(ids["af"]) < listed.index(ids["normal"])
    assert [row.received_at for row in page.rows] == sorted((row.received_at for row in page.rows), reverse=True)
    pending = next(row for row in page.rows if row.recording_id == ids["pending"])
    assert pending.pending and pending.statements is None


@pytest.mark.parametrize("status", HISTORY_STATUSES)
async def test_status_filter_agrees_with_the_headline_verdict(engine: AsyncEngine, status: str) -> None:
    ids = await _seed(engine)
    rows = (await list_history(engine, HistoryFilter(status=status))).rows
    expected = {"pending": {"pending"}, "normal": {"normal"}, "abnormal": {"af", "streamed"},
                "unreadable": {"unreadable"}, "no_statement": {"modifier"}}[status]  # fmt: skip
    assert {row.recording_id for row in rows} == {ids[name] for name in expected}
    for row in rows:
        if not row.pending:
            verdict = headline_verdict(row.statements or [], readable=bool(row.readable), quality=row.quality)
            assert verdict.kind == status


async def test_owner_statement_and_time_filters(engine: AsyncEngine) -> None:
    ids = await _seed(engine)
    ann = {row.recording_id for row in (await list_history(engine, HistoryFilter(owner="user:ann"))).rows}
    assert ann == {ids[n] for n in ("normal", "af", "pending", "modifier")}  # not token:t1's, not streamed
    by_code = await list_history(engine, HistoryFilter(statement=50))
    assert {row.recording_id for row in by_code.rows} == {ids["af"], ids["streamed"]}
    assert not (await list_history(engine, HistoryFilter(statement=50, owner="token:t1"))).rows
    everything = (await list_history(engine, HistoryFilter())).rows
    middle = next(row for row in everything if row.recording_id == ids["af"]).received_at
    since = {row.recording_id for row in (await list_history(engine, HistoryFilter(since=middle))).rows}
    until = {row.recording_id for row in (await list_history(engine, HistoryFilter(until=middle))).rows}
    assert ids["af"] in since and ids["normal"] not in since
    assert ids["normal"] in until and ids["af"] not in until
    assert since | until == set(ids.values()) and not since & until


async def test_pages_are_bounded_and_cover_the_list_once(engine: AsyncEngine) -> None:
    ids = await _seed(engine)
    pages = [await list_history(engine, HistoryFilter(), page=n, page_size=4) for n in (1, 2)]
    assert [len(p.rows) for p in pages] == [4, 2] and pages[0].has_more and not pages[1].has_more
    assert {row.recording_id for p in pages for row in p.rows} == set(ids.values())
    with pytest.raises(ValueError):
        await list_history(engine, HistoryFilter(), page_size=101)
    with pytest.raises(ValueError):
        await list_history(engine, HistoryFilter(), page=0)


async def test_patient_history_by_keyed_hash(engine: AsyncEngine) -> None:
    ids = await _seed(engine)
    patient = HistoryFilter(patient_ref_hash=hash_patient_ref("P-1", SECRET))
    assert {row.recording_id for row in (await list_history(engine, patient)).rows} == {
        ids["normal"], ids["af"], ids["streamed"]}  # fmt: skip
    wrong_key = HistoryFilter(patient_ref_hash=hash_patient_ref("P-1", "another-secret-0123"))
    assert not (await list_history(engine, wrong_key)).rows


async def test_previous_recording_of_the_same_patient(engine: AsyncEngine) -> None:
    ids = await _seed(engine)
    previous = await previous_diagnosis(engine, ids["af"], owner=None)
    assert previous is not None and previous.recording_id == ids["normal"]
    streamed_previous = await previous_diagnosis(engine, ids["streamed"], owner=None)
    assert streamed_previous is not None and streamed_previous.recording_id == ids["af"]
    assert await previous_diagnosis(engine, ids["normal"], owner=None) is None  # the first one
    assert await previous_diagnosis(engine, ids["unreadable"], owner=None) is None  # another patient
    # an owner sees only earlier recordings it uploaded itself
    assert (await previous_diagnosis(engine, ids["af"], owner="user:ann")) is not None
    assert await previous_diagnosis(engine, ids["af"], owner="token:t1") is None
