"""Small request bodies read whole, but never more than a limit (the login form, the patient history,
an overread)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from webapp.errors import GatewayError

__all__ = ["read_small_body", "read_json_object"]


async def read_small_body(request: Request, max_bytes: int, too_large: GatewayError) -> bytes:
    """The body of ``request``; raises ``too_large`` as soon as it passes ``max_bytes``."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


async def read_json_object(request: Request, max_bytes: int, what: str, *, flat: bool = False) -> dict[str, Any]:
    """The JSON object in the body of ``request``: 415 ``not_json`` for another content type, 413
    ``body_too_large`` past ``max_bytes``, 400 ``invalid_json`` for anything but a JSON object, 422
    ``invalid_json`` for nesting too deep to parse (or, with ``flat``, any nested value) and 422
    ``invalid_text`` for a lone surrogate. ``what`` names the content in the 415 message."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise GatewayError(415, "not_json", f"send {what} as a JSON object (application/json)")
    too_large = GatewayError(413, "body_too_large", f"the request body is larger than {max_bytes} bytes")
    body = await read_small_body(request, max_bytes, too_large)
    try:
        parsed = json.loads(body)
    except RecursionError:
        raise GatewayError(422, "invalid_json", "the request body nests too deeply; send a flat JSON object") from None
    except (ValueError, UnicodeDecodeError):
        raise GatewayError(400, "invalid_json", "the request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise GatewayError(400, "invalid_json", "the request body must be a JSON object")
    if flat and any(isinstance(value, dict | list) for value in parsed.values()):
        raise GatewayError(422, "invalid_json", "the request body nests too deeply; send a flat JSON object")
    try:  # "\ud800" is valid JSON but no text: it could be neither hashed nor quoted back in an error
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise GatewayError(422, "invalid_text", "the request body holds a lone surrogate (\\ud800-\\udfff), which is no text") from None
    return parsed
