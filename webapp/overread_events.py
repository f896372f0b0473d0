"""Overreads to the overreads topic (``OVERREADS_TOPIC``, ``ecg.overreads.v1``), at least once.

The database row is the record; the event is how exports learn of it. Each overread is published
right after it is stored, and a publication row (``storage.overreads.mark_published``) is written
once the broker acknowledged it. What the broker did not take (it was down, or the gateway stopped
in between) is published again by ``republish_forever``, which the gateway runs in the background
every ``OVERREAD_REPUBLISH_SECONDS``. A repeat is harmless: the event names its recording and
version, and the exports' resource ids and message ids follow from them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.publisher import Publisher
from schemas.overread_event import OverreadEvent, OverreadStatement, encode_overread
from storage import DatabaseUnavailable
from storage.overreads import OverreadRecord, mark_published, unpublished_overreads

__all__ = ["overread_event", "publish_overreads", "republish_pending", "republish_forever", "PUBLISH_TIMEOUT_SECONDS"]

logger = logging.getLogger(__name__)
PUBLISH_TIMEOUT_SECONDS = 10.0


def overread_event(record: OverreadRecord) -> OverreadEvent:
    """The event of one stored overread."""
    return OverreadEvent(
        recording_id=record.recording_id,
        model_version=record.model_version,
        version=record.version,
        action=record.action,  # type: ignore[arg-type]
        statements=[
            OverreadStatement(int(s["code"]), str(s.get("description") or ""), s.get("modifies"), str(s.get("source") or "physician"))
            for s in record.statements
        ],
        reader=record.reader_name,
        at=record.at,
        free_text=record.free_text,
        reason=record.reason,
        amends_version=record.amends_version,
    )


async def publish_overreads(
    engine: AsyncEngine, publisher: Publisher, topic: str, records: Sequence[OverreadRecord]
) -> int:
    """Publish ``records`` in order and mark each published; returns how many the broker took.

    Stops at the first failure (a broker outage): the rest stay unpublished for the next attempt,
    so one recording's versions never overtake each other."""
    published = 0
    for record in records:
        try:
            await asyncio.wait_for(
                publisher.publish_event(topic, encode_overread(overread_event(record))), PUBLISH_TIMEOUT_SECONDS
            )
        except Exception as exc:  # noqa: BLE001 - any broker failure: retried later, never lost
            logger.warning("overread not published yet; will retry",
                           extra={"recording_id": record.recording_id, "version": record.version,
                                  "error": type(exc).__name__})  # fmt: skip
            return published
        await mark_published(engine, [record.id])
        published += 1
    return published


async def republish_pending(engine: AsyncEngine, publisher: Publisher, topic: str, limit: int = 100) -> int:
    """Publish up to ``limit`` overreads that have no publication row yet; returns how many went out."""
    pending = await unpublished_overreads(engine, limit)
    if not pending:
        return 0
    done = await publish_overreads(engine, publisher, topic, pending)
    logger.info("unpublished overreads sent", extra={"pending": len(pending), "published": done})
    return done


async def republish_forever(engine: AsyncEngine, publisher: Publisher, topic: str, interval: float) -> None:
    """``republish_pending`` every ``interval`` seconds until cancelled (the gateway's lifespan)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await republish_pending(engine, publisher, topic)
        except DatabaseUnavailable:
            logger.warning("overread republishing: database unavailable; next try in %.0f s", interval)
        except Exception:  # noqa: BLE001 - the loop must outlive any one failure
            logger.exception("overread republishing failed; next try later")
