"""POST a FHIR transaction Bundle to a FHIR R4 server (``FHIR_BASE_URL``) with httpx.

2xx: delivered. 408, 425, 429 and 5xx, or a network error or timeout: another attempt may succeed
(``Retry-After`` in seconds is passed on). Any other status: rejected. The response body is never
read into logs (a server's OperationOutcome may quote the resource).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from exports import FHIR_CONTENT_TYPE
from stream_processor.export.delivery import DeliveryRejected, TransientDeliveryError

__all__ = ["FhirClient", "RETRIABLE_STATUSES"]

RETRIABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: use our own backoff


class FhirClient:
    """One keep-alive HTTP client for one FHIR server; ``post_bundle`` makes one attempt."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, bearer_token: str | None = None) -> None:
        headers = {"Content-Type": FHIR_CONTENT_TYPE, "Accept": "application/fhir+json"}
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        self._url = base_url.rstrip("/") or base_url
        self._client = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(timeout), follow_redirects=False)

    def __repr__(self) -> str:
        return "FhirClient(<FHIR_BASE_URL>)"

    async def post_bundle(self, bundle: dict[str, Any]) -> None:
        """POST ``bundle`` to the base URL (a transaction) or ``[base]/Bundle`` (any other type)."""
        url = self._url if bundle.get("type") in {"transaction", "batch"} else f"{self._url}/Bundle"
        body = json.dumps(bundle, separators=(",", ":")).encode("utf-8")
        try:
            response = await self._client.post(url, content=body)
        except httpx.TransportError as exc:  # connect, read, write, pool, timeouts
            raise TransientDeliveryError(type(exc).__name__) from exc
        if response.is_success:
            return
        detail = f"HTTP {response.status_code}"
        if response.status_code in RETRIABLE_STATUSES:
            raise TransientDeliveryError(detail, _retry_after(response))
        raise DeliveryRejected(detail)

    async def aclose(self) -> None:
        await self._client.aclose()
