"""Overreads, their publication marks, the worklist reads and the encrypted patient identity, on the
real Postgres and on a SQLite file (the ``engine`` fixture runs every test on both)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from storage import SqlDiagnosisSink
from storage.identity import (
    IdentityUnreadable,
    PatientIdentityRow,
    StoredIdentity,
    decrypt_identity,
    load_identity,
    store_identity,
)
from storage.overreads import (
    OverreadConflict,
    add_overread,
    confirmed_overreads,
    latest_overread,
    mark_published,
    overread_trail,
    unpublished_overreads,
)
from storage.principals import record_owner
from storage.worklist import unconfirmed_keys, worklist_views
from tests.storage.conftest import SECRET, make_result

AF = [{"code": 50, "description": "Atrial fibrillation", "modifies": None, "source": "physician"}]


async def _diagnosed(engine, **overrides):  # type: ignore[no-untyped-def]
    result = make_result(**overrides)
    await SqlDiagnosisSink(engine, hmac_secret=SECRET).write_batch([result])
    return result


async def _add(engine, recording_id: str, action: str, **kw):  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {"model_version": "cae-1.0.0", "statements": [], "reader": "user:doc", "reader_name": "doc"}
    values.update(kw)
    return await add_overread(engine, recording_id, action=action, **values)


async def test_overreads_append_versions_and_the_latest_is_the_state(engine) -> None:  # type: ignore[no-untyped-def]
    rid = (await _diagnosed(engine)).recording_id
    assert await latest_overread(engine, rid) is None
    first = await _add(engine, rid, "confirm", statements=AF, base_version=0)
    second = await _add(engine, rid, "edit", statements=AF + [{"code": 346, "description": "Rapid ventricular response",
                                                               "modifies": 50, "source": "physician"}],
                        free_text="rate 150", reason="RVR missed", base_version=1)  # fmt: skip
    third = await _add(engine, rid, "reject", reason="artefact", base_version=2)
    fourth = await _add(engine, rid, "confirm", statements=AF)
    assert [r.version for r in (first, second, third, fourth)] == [1, 2, 3, 4]
    assert [r.amends_version for r in (first, second, third, fourth)] == [None, 1, None, 2]
    trail = await overread_trail(engine, rid)
    assert [(r.version, r.action, r.amends_version) for r in trail] == [
        (1, "confirm", None), (2, "edit", 1), (3, "reject", None), (4, "confirm", 2)]  # fmt: skip
    assert trail[1].statements[1] == {"code": 346, "description": "Rapid ventricular response", "modifies": 50,
                                      "source": "physician"}  # fmt: skip
    assert trail[1].free_text == "rate 150" and trail[1].reason == "RVR missed" and trail[1].reader_name == "doc"
    assert trail[0].at.tzinfo is not None and trail[0].at <= trail[3].at
    assert (await latest_overread(engine, rid)).version == 4  # type: ignore[union-attr]
    # append-only: the first row is as it was stored
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT version, action FROM overreads ORDER BY version"))).all()
    assert [tuple(r) for r in rows] == [(1, "confirm"), (2, "edit"), (3, "reject"), (4, "confirm")]


async def test_a_stale_base_version_and_a_racing_writer_conflict(engine) -> None:  # type: ignore[no-untyped-def]
    rid = (await _diagnosed(engine)).recording_id
    await _add(engine, rid, "confirm", statements=AF, base_version=0)
    with pytest.raises(OverreadConflict):
        await _add(engine, rid, "edit", statements=[], base_version=0)  # read before version 1 was stored
    outcomes = await asyncio.gather(
        *(_add(engine, rid, "confirm", statements=AF, base_version=1) for _ in range(4)), return_exceptions=True
    )
    stored = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(stored) == 1 and all(isinstance(o, OverreadConflict) for o in outcomes if o not in stored), outcomes
    assert [r.version for r in await overread_trail(engine, rid)] == [1, 2]


async def test_publication_marks_and_confirmed_overreads(engine) -> None:  # type: ignore[no-untyped-def]
    a, b, c = [(await _diagnosed(engine)).recording_id for _ in range(3)]
    ra = await _add(engine, a, "confirm", statements=AF)
    rb = await _add(engine, b, "confirm", statements=AF)
    rb2 = await _add(engine, b, "edit", statements=[], free_text="no statement", at=datetime.now(UTC) + timedelta(days=2))
    await _add(engine, c, "reject", reason="noise")
    pending = await unpublished_overreads(engine)
    assert [p.id for p in pending] == sorted(p.id for p in pending) and len(pending) == 4
    assert next(p for p in pending if p.id == rb2.id).amends_version == rb.version
    await mark_published(engine, [ra.id, rb.id])
    await mark_published(engine, [ra.id])  # again: ignored
    assert {p.id for p in await unpublished_overreads(engine)} == {rb2.id} | {p.id for p in pending if p.recording_id == c}
    confirmed = await confirmed_overreads(engine)
    assert {(r.recording_id, r.version) for r in confirmed} == {(a, 1), (b, 2)}  # c rejected: left out
    later = await confirmed_overreads(engine, since=datetime.now(UTC) + timedelta(days=1))
    assert [(r.recording_id, r.version) for r in later] == [(b, 2)]


async def test_worklist_keys_leave_out_read_recordings_and_follow_the_owner(engine) -> None:  # type: ignore[no-untyped-def]
    mine = await _diagnosed(engine, measurements={"heart_rate_bpm": 35.0, "qrs_ms": 90.0, "beats": {"N": 5}})
    other = await _diagnosed(engine)
    streamed = await _diagnosed(engine)
    done = await _diagnosed(engine)
    await record_owner(engine, mine.recording_id, "user:a")
    await record_owner(engine, other.recording_id, "user:b")
    await record_owner(engine, done.recording_id, "user:a")
    await _add(engine, done.recording_id, "reject", reason="noise")
    keys = [k async for k in unconfirmed_keys(engine, owner=None, measurement_keys=("heart_rate_bpm", "qrs_ms"))]
    assert {k.recording_id for k in keys} == {mine.recording_id, other.recording_id, streamed.recording_id}
    first = next(k for k in keys if k.recording_id == mine.recording_id)
    assert first.measurements == {"heart_rate_bpm": 35.0, "qrs_ms": 90.0} and first.statements[0]["code"] == 22
    assert first.received_at.tzinfo is not None
    own = [k.recording_id async for k in unconfirmed_keys(engine, owner="user:a", measurement_keys=())]
    assert own == [mine.recording_id]
    views = await worklist_views(engine, [mine.recording_id, streamed.recording_id])
    assert set(views) == {mine.recording_id, streamed.recording_id}
    assert views[mine.recording_id].measurements["heart_rate_bpm"] == 35.0  # type: ignore[index]


async def test_identity_is_stored_encrypted_and_bound_to_its_recording(engine) -> None:  # type: ignore[no-untyped-def]
    identity = StoredIdentity("MRN-CLEAR-0042", "Müller, Anna")
    await store_identity(engine, "rec-1", identity, SECRET)
    await store_identity(engine, "rec-empty", StoredIdentity(), SECRET)  # nothing entered: no row
    assert await load_identity(engine, "rec-1", SECRET) == identity
    assert await load_identity(engine, "rec-empty", SECRET) is None
    async with engine.connect() as conn:
        ciphertext = bytes((await conn.execute(select(PatientIdentityRow.ciphertext))).scalar_one())
    assert b"MRN-CLEAR-0042" not in ciphertext and "Müller".encode() not in ciphertext
    assert "MRN" not in repr(identity) and "Anna" not in repr(identity)
    with pytest.raises(IdentityUnreadable):
        await load_identity(engine, "rec-1", SECRET + "-rotated")
    with pytest.raises(IdentityUnreadable):
        decrypt_identity(ciphertext, "rec-2", SECRET)  # moved to another recording
