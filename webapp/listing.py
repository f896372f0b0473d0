"""History list parameters and rows: checked filters in, JSON out (pure; no IO).

Parameters (query string of ``GET /api/recordings``, or the JSON body of the patient history):
``status`` (one of ``storage.history.HISTORY_STATUSES``), ``statement`` (an AHA code, 1-999),
``since`` and ``until`` (``YYYY-MM-DD`` UTC days, ``until`` including its day, or ISO 8601 times;
a time without offset is UTC; years 1900-9998), ``page`` (1-10000) and ``page_size`` (1-100, default
25). Whole numbers are ASCII digits only (``str.isdigit`` also accepts ``²`` and other scripts'
digits). Each bad value is a 422 ``invalid_field`` naming the parameter; an unknown parameter is a
422 too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from interpretation.summary import stored_verdict
from storage.history import HISTORY_STATUSES, MAX_PAGE, MAX_PAGE_SIZE, HistoryFilter, HistoryPage, HistoryRow
from webapp.errors import FieldError

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "LIST_PARAMETERS",
    "ListRequest",
    "parse_list_request",
    "page_json",
    "row_json",
]

DEFAULT_PAGE_SIZE = 25
MAX_CODE = 999
LIST_PARAMETERS = ("status", "statement", "since", "until", "page", "page_size")
_WHOLE = re.compile(r"^[0-9]{1,9}$")  # ASCII digits only, short enough for int()
YEARS = (1900, 9998)  # a day after 9999-12-31 does not exist


@dataclass(frozen=True)
class ListRequest:
    """A checked list request; ``filter`` lacks the owner and patient, which the caller adds."""

    filter: HistoryFilter
    page: int
    page_size: int


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FieldError(name, f"{name} must be text or a whole number")
    text = str(value).strip()
    return text or None


def _whole(params: Mapping[str, Any], name: str, low: int, high: int, default: int | None) -> int | None:
    text = _text(params, name)
    if text is None:
        return default
    if not _WHOLE.match(text) or not low <= int(text) <= high:
        raise FieldError(name, f"{name} must be a whole number from {low} to {high}, got {text[:20]!r}")
    return int(text)


def _time(params: Mapping[str, Any], name: str, *, end_of_day: bool) -> datetime | None:
    text = _text(params, name)
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                days=1 if end_of_day else 0
            )
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise FieldError(
            name, f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 time, got {text[:40]!r}"
        ) from None
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise FieldError(name, f"{name} must lie in the years {YEARS[0]}-{YEARS[1]}, got {text[:40]!r}")
    return moment


def parse_list_request(params: Mapping[str, Any], *, allowed_extra: tuple[str, ...] = ()) -> ListRequest:
    """The checked filters and page of ``params``; ``FieldError`` (422) names the first bad one."""
    unknown = sorted(set(params) - set(LIST_PARAMETERS) - set(allowed_extra))
    if unknown:
        raise FieldError(
            unknown[0], f"unknown parameter {unknown[0][:40]!r}; use {', '.join(LIST_PARAMETERS)}"
        )
    status = _text(params, "status")
    if status is not None and status not in HISTORY_STATUSES:
        raise FieldError(
            "status", f"status must be one of {', '.join(HISTORY_STATUSES)}, got {status[:20]!r}"
        )
    since = _time(params, "since", end_of_day=False)
    until = _time(params, "until", end_of_day=True)
    if since is not None and until is not None and since >= until:
        raise FieldError("until", "until must be after since")
    flt = HistoryFilter(
        status=status, statement=_whole(params, "statement", 1, MAX_CODE, None), since=since, until=until
    )
    page = _whole(params, "page", 1, MAX_PAGE, 1)
    page_size = _whole(params, "page_size", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
    assert page is not None and page_size is not None
    return ListRequest(flt, page, page_size)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def row_json(row: HistoryRow) -> dict[str, Any]:
    """One history row: status and headline verdict (as the worker stored them; the result page shows the same), the asserted
    statements' codes and names, times and links. No demographics, no patient reference."""
    base: dict[str, Any] = {
        "recording_id": row.recording_id,
        "received_at": _iso(row.received_at),
        "acquired_at": _iso(row.acquired_at),
        "result_url": f"/?recording={row.recording_id}",
        "api_url": f"/api/recordings/{row.recording_id}",
    }
    if row.pending:
        return {**base, "status": "pending", "verdict": None, "statements": [], "model_version": None,
                "diagnosed_at": None}  # fmt: skip
    verdict = stored_verdict(row.verdict, row.statements or [], readable=bool(row.readable),
                             unreadable_reasons=row.unreadable_reasons, quality=row.quality)  # fmt: skip
    statements = [
        {"code": int(s["code"]), "name": str(s.get("description") or "")} for s in row.statements or []
    ]
    return {**base, "status": verdict.kind, "verdict": verdict.text, "statements": statements,
            "model_version": row.model_version, "diagnosed_at": _iso(row.diagnosed_at)}  # fmt: skip


def page_json(page: HistoryPage) -> dict[str, Any]:
    return {
        "items": [row_json(row) for row in page.rows],
        "page": page.page,
        "page_size": page.page_size,
        "has_more": page.has_more,
    }
