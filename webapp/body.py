"""Small request bodies read whole, but never more than a limit (the login form, the patient history)."""

from __future__ import annotations

from fastapi import Request

from webapp.errors import GatewayError

__all__ = ["read_small_body"]


async def read_small_body(request: Request, max_bytes: int, too_large: GatewayError) -> bytes:
    """The body of ``request``; raises ``too_large`` as soon as it passes ``max_bytes``."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)
