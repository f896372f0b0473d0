"""The body of ``POST /api/recordings/{id}/overread``, checked (pure; no IO).

``{"action": "confirm" | "edit" | "reject", "statements": [...], "free_text": ..., "reason": ...,
"base_version": n}``:

- ``confirm``: the computer's statements as they are (no ``statements`` field); free text optional;
- ``edit``: ``statements`` is the whole interpretation after the edit, a list of
  ``{"code": <AHA code of code.csv>, "modifies": <primary code> | null}``; a modifier (code >= 300)
  names a primary statement of the same list, a primary statement names none; "Normal ECG" (1)
  stands alone, as in SPH's labels; an empty list needs free text; a reason is optional;
- ``reject``: the computer's interpretation is wrong or unusable: a ``reason`` is required;
- ``base_version``: the overread version the reader saw (0 = none); a newer one stored meanwhile
  makes the request a 409 instead of silently overwriting.

Every problem is a ``FieldError`` (422) naming the field. The stored statements carry the code.csv
description and ``"source": "physician"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from webapp.errors import FieldError

__all__ = [
    "ACTIONS", "MAX_STATEMENTS", "MAX_FREE_TEXT", "MAX_REASON", "OverreadRequest", "parse_overread",
    "physician_statements", "confirmed_statements",
]  # fmt: skip

ACTIONS = ("confirm", "edit", "reject")
MAX_STATEMENTS = 60
MAX_FREE_TEXT = 2000
MAX_REASON = 500
NORMAL_CODE, FIRST_MODIFIER = 1, 300
_FIELDS = {"action", "statements", "free_text", "reason", "base_version"}


@dataclass(frozen=True)
class OverreadRequest:
    action: str
    statements: list[dict[str, Any]] | None  # edit only: code, description, modifies, source
    free_text: str | None
    reason: str | None
    base_version: int | None


def _text(body: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(name, f"{name} must be text")
    cleaned = "".join(ch for ch in value if ch in "\n\t" or ch.isprintable()).strip()
    if len(cleaned) > limit:
        raise FieldError(name, f"{name} is longer than {limit} characters")
    return cleaned or None


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(name, f"{name} must be a whole number")
    return value


def physician_statements(items: object, descriptions: Mapping[int, str]) -> list[dict[str, Any]]:
    """Checked ``statements`` of an edit, in the order given, with descriptions and the source."""
    if not isinstance(items, list):
        raise FieldError("statements", "statements must be a list of {code, modifies}")
    if len(items) > MAX_STATEMENTS:
        raise FieldError("statements", f"at most {MAX_STATEMENTS} statements")
    parsed: list[tuple[int, int | None]] = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"code", "modifies"}:
            raise FieldError("statements", "each statement is {code, modifies}")
        code = _whole(item.get("code"), "statements")
        modifies = None if item.get("modifies") is None else _whole(item.get("modifies"), "statements")
        if code not in descriptions:
            raise FieldError("statements", f"{code} is not an AHA statement of code.csv")
        if (code, modifies) in parsed:
            raise FieldError("statements", f"statement {code} is given twice")
        parsed.append((code, modifies))
    primaries = {code for code, _ in parsed if code < FIRST_MODIFIER}
    for code, modifies in parsed:
        if code < FIRST_MODIFIER and modifies is not None:
            raise FieldError("statements", f"statement {code} is not a modifier and qualifies nothing")
        if code >= FIRST_MODIFIER and (modifies is None or modifies not in primaries or modifies == NORMAL_CODE):
            raise FieldError("statements", f"modifier {code} must qualify an abnormal statement of the list")
    if NORMAL_CODE in primaries and len(primaries) > 1:
        raise FieldError("statements", "Normal ECG (1) cannot stand with other statements")
    return [{"code": c, "description": descriptions[c], "modifies": m, "source": "physician"} for c, m in parsed]


def parse_overread(body: Mapping[str, Any], descriptions: Mapping[int, str]) -> OverreadRequest:
    """The checked request (see the module docstring); ``descriptions``: code.csv's code -> text."""
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise FieldError(unknown[0][:40], f"unknown field {unknown[0][:40]!r}; use {', '.join(sorted(_FIELDS))}")
    action = body.get("action")
    if action not in ACTIONS:
        raise FieldError("action", f"action must be one of {', '.join(ACTIONS)}")
    base = body.get("base_version")
    base_version = None if base is None else _whole(base, "base_version")
    if base_version is not None and base_version < 0:
        raise FieldError("base_version", "base_version must be 0 or more")
    free_text = _text(body, "free_text", MAX_FREE_TEXT)
    reason = _text(body, "reason", MAX_REASON)
    statements = None
    if action == "edit":
        if "statements" not in body:
            raise FieldError("statements", "an edit sends the whole interpretation as statements")
        statements = physician_statements(body["statements"], descriptions)
        if not statements and not free_text:
            raise FieldError("statements", "an interpretation without statements needs free text")
    elif "statements" in body:
        raise FieldError("statements", f"a {action} takes no statements; use edit to change them")
    if action == "reject" and not reason:
        raise FieldError("reason", "say why the interpretation is rejected")
    return OverreadRequest(str(action), statements, free_text, reason, base_version)


def confirmed_statements(statements: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The computer's statements as a confirmation stores them (code, description, modifies, source)."""
    return [
        {"code": int(s["code"]), "description": str(s.get("description") or ""),
         "modifies": None if s.get("modifies") is None else int(s["modifies"]), "source": "physician"}
        for s in statements
    ]  # fmt: skip
