"""One recording the caller may read, loaded once per request for every view of it.

``readable_recording()`` is the FastAPI dependency of the result, the tracing, the report, the
comparison and the overread trail. It checks the id (``RECORDING_ID``; else 404), the caller's scope
(recordings:read or results:read:all; else 401 / 403), the right to read the recording (its
uploader, or results:read:all; everyone else gets the same 404 ``unknown_recording`` as for an id
that does not exist, so ids are never confirmed) and loads the newest diagnosis. A recording neither
uploaded here nor diagnosed is unknown (404); one uploaded and not diagnosed yet is readable with
``view`` None (the result says pending, the report and the comparison answer 409 ``pending``).

``ReadableRecording`` then loads what a view adds (the kept samples, the overreads, the previous
ECG). Every database outage is a 503 ``database_unavailable`` with the view's ``unavailable``
message (the result page's says it keeps trying).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NoReturn

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import DatabaseUnavailable, DiagnosisView, get_diagnosis
from storage.history import previous_diagnosis
from storage.overreads import OverreadRecord, latest_overread, overread_trail
from storage.tracings import StoredTracing, load_tracing
from webapp.auth import (
    RECORDINGS_READ,
    RESULTS_READ_ALL,
    Principal,
    authorize_read,
    require_scope,
    visible_owner,
)
from webapp.errors import GatewayError

__all__ = [
    "RECORDING_ID", "READ_RESULTS", "UNAVAILABLE", "ReadableRecording", "load_readable", "readable_recording",
    "unknown_recording",
]  # fmt: skip

logger = logging.getLogger(__name__)

RECORDING_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# one object, so FastAPI authenticates once per request however many dependencies name it
READ_RESULTS = require_scope(RECORDINGS_READ, RESULTS_READ_ALL)
UNAVAILABLE = "the results database is unavailable"


def unknown_recording() -> GatewayError:
    return GatewayError(404, "unknown_recording", "no such recording")


def _unavailable(exc: DatabaseUnavailable, message: str) -> NoReturn:
    logger.warning("results database unavailable", extra={"error": type(exc).__name__})
    raise GatewayError(503, "database_unavailable", message) from exc


@dataclass(frozen=True)
class ReadableRecording:
    """A recording the caller may read: its owner (None: not uploaded here) and newest diagnosis
    (None: pending)."""

    recording_id: str
    principal: Principal
    owner: str | None
    view: DiagnosisView | None
    engine: AsyncEngine = field(repr=False)
    unavailable: str = UNAVAILABLE

    def diagnosed(self) -> DiagnosisView:
        """The diagnosis; 409 ``pending`` until the worker has stored it."""
        if self.view is None:
            raise GatewayError(409, "pending", "the recording has not been diagnosed yet")
        return self.view

    async def tracing(self) -> StoredTracing:
        """The samples kept at upload; 404 ``no_tracing`` for a recording that came another way."""
        try:
            tracing = await load_tracing(self.engine, self.recording_id)
        except DatabaseUnavailable as exc:
            _unavailable(exc, self.unavailable)
        if tracing is None:
            raise GatewayError(
                404, "no_tracing", "no samples were kept for this recording (not uploaded here)"
            )
        return tracing

    async def latest_overread(self) -> OverreadRecord | None:
        """The physician's latest overread, None before the diagnosis or any overread."""
        if self.view is None:
            return None
        try:
            return await latest_overread(self.engine, self.recording_id)
        except DatabaseUnavailable as exc:
            _unavailable(exc, self.unavailable)

    async def overread_trail(self) -> list[OverreadRecord]:
        """Every overread, oldest first."""
        try:
            return await overread_trail(self.engine, self.recording_id)
        except DatabaseUnavailable as exc:
            _unavailable(exc, self.unavailable)

    async def previous(self) -> DiagnosisView | None:
        """The same patient's previous ECG that the caller may read (``storage.history``)."""
        try:
            return await previous_diagnosis(
                self.engine, self.recording_id, owner=visible_owner(self.principal)
            )
        except DatabaseUnavailable as exc:
            _unavailable(exc, self.unavailable)


async def load_readable(
    request: Request, principal: Principal, recording_id: str, *, unavailable: str = UNAVAILABLE
) -> ReadableRecording:
    """``recording_id`` as ``principal`` may read it (see the module docstring)."""
    if not RECORDING_ID.match(recording_id):
        raise unknown_recording()
    engine: AsyncEngine = request.app.state.gateway.engine
    try:
        owner = await authorize_read(request, principal, recording_id)
        view = await get_diagnosis(engine, recording_id)
    except DatabaseUnavailable as exc:
        _unavailable(exc, unavailable)
    if owner is None and view is None:  # neither uploaded here nor diagnosed
        raise unknown_recording()
    return ReadableRecording(recording_id, principal, owner, view, engine, unavailable)


def readable_recording(unavailable: str = UNAVAILABLE) -> Callable[..., Awaitable[ReadableRecording]]:
    """The dependency: the path's ``recording_id`` as the caller may read it; ``unavailable`` is the
    view's 503 message."""

    async def dependency(
        recording_id: str, request: Request, principal: Principal = Depends(READ_RESULTS)
    ) -> ReadableRecording:
        return await load_readable(request, principal, recording_id, unavailable=unavailable)

    return dependency
