"""The overread worklist as JSON: every unread recording ranked, critical findings first (the ones the
worker stored; older rows ``interpretation.critical`` on the stored statements and measurements),
then the oldest first; one page of them read in one query (``storage.worklist``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from interpretation.critical import MEASUREMENT_KEYS, critical_findings
from interpretation.summary import stored_summary
from storage import DiagnosisView
from storage.worklist import WorklistKey, unconfirmed_keys, worklist_views
from webapp.listing import ListRequest

__all__ = ["ranked_worklist", "worklist_json"]


def _critical(key: WorklistKey) -> bool:
    if key.critical_findings is not None:
        return bool(key.critical_findings)
    return bool(critical_findings(key.statements, key.measurements))  # a row stored before the findings


async def ranked_worklist(engine: AsyncEngine, owner: str | None) -> list[tuple[bool, datetime, str]]:
    """``(critical, received_at, recording_id)`` of every unread recording, in worklist order."""
    ranked = []
    async for key in unconfirmed_keys(engine, owner=owner, measurement_keys=MEASUREMENT_KEYS):
        ranked.append((_critical(key), key.received_at, key.recording_id))
    ranked.sort(key=lambda item: (not item[0], item[1], item[2]))
    return ranked


def _item_json(view: DiagnosisView, received_at: datetime) -> dict[str, Any]:
    summary = stored_summary(view)
    return {
        "recording_id": view.recording_id,
        "received_at": received_at.isoformat(),
        "diagnosed_at": view.diagnosed_at.isoformat(),
        "verdict": summary.verdict.text,
        "status": summary.verdict.kind,
        "critical_findings": [f.as_json() for f in summary.critical_findings],
        "statements": [
            {"code": int(s["code"]), "name": str(s.get("description") or "")} for s in view.statements
        ],
        "result_url": f"/?recording={view.recording_id}",
        "api_url": f"/api/recordings/{view.recording_id}",
    }


async def worklist_json(engine: AsyncEngine, owner: str | None, listing: ListRequest) -> dict[str, Any]:
    """One page of the worklist of ``owner``'s uploads (None: every recording); raises
    ``DatabaseUnavailable``."""
    ranked = await ranked_worklist(engine, owner)
    start = (listing.page - 1) * listing.page_size
    chosen = ranked[start : start + listing.page_size]
    views = await worklist_views(engine, [rid for _, _, rid in chosen])
    items = [_item_json(views[rid], received) for _, received, rid in chosen if rid in views]
    return {"items": items, "page": listing.page, "page_size": listing.page_size,
            "has_more": len(ranked) > start + listing.page_size, "total": len(ranked)}  # fmt: skip
