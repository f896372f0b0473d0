"""The signed-in pages: static HTML templates with the shared header, the CSRF token and the upload
limit filled in (``string.Template``; every value HTML-escaped)."""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from string import Template
from typing import Literal

from interpretation.fusion import FIRST_MODIFIER_CODE, sph_descriptions
from webapp.errors import format_size

__all__ = ["render_index", "render_history", "render_worklist", "statement_options"]

_CURRENT = ' aria-current="page"'
Current = Literal["upload", "history", "worklist"]


@cache
def _template(name: str) -> Template:
    return Template(files("webapp").joinpath("templates", name).read_text("utf-8"))


def _header(csrf_token: str, user: str, tagline: str, current: Current, can_confirm: bool) -> str:
    worklist = ""
    if can_confirm:
        worklist = f'<a id="nav-worklist" href="/worklist"{_CURRENT if current == "worklist" else ""}>Worklist</a>'
    return _template("header.html").substitute(
        csrf_token=html.escape(csrf_token),
        user=html.escape(user),
        tagline=html.escape(tagline),
        upload_current=_CURRENT if current == "upload" else "",
        history_current=_CURRENT if current == "history" else "",
        worklist_link=worklist,
    )


@cache
def statement_options() -> str:
    """``<optgroup>``s of code.csv's statements and modifiers for the overread editor."""
    groups = {"Statements": [], "Modifiers (qualify a statement)": []}  # type: dict[str, list[str]]
    for code, text in sorted(sph_descriptions().items()):
        label = "Statements" if code < FIRST_MODIFIER_CODE else "Modifiers (qualify a statement)"
        groups[label].append(f'<option value="{code}">{code} {html.escape(text)}</option>')
    return "".join(f'<optgroup label="{html.escape(label)}">{"".join(options)}</optgroup>' for label, options in groups.items())


def render_index(max_upload_bytes: int, *, csrf_token: str = "", user: str = "", can_confirm: bool = False) -> str:
    """The upload page for a signed-in ``user``; ``csrf_token`` goes into every form it posts;
    ``can_confirm`` (results:confirm) shows the overread controls of a result."""
    tagline = "Upload a 12-lead ECG and read the automated AHA-statement analysis."
    return _template("index.html").substitute(
        header=_header(csrf_token, user, tagline, "upload", can_confirm),
        csrf_token=html.escape(csrf_token),
        max_upload_bytes=str(max_upload_bytes),
        max_upload_size=format_size(max_upload_bytes),
        can_confirm="true" if can_confirm else "false",
        statement_options=statement_options(),
    )


def render_history(*, csrf_token: str, user: str, can_confirm: bool = False) -> str:
    """The history page (recent recordings, patient history) for a signed-in ``user``."""
    tagline = "Recent recordings and a patient's earlier recordings."
    return _template("history.html").substitute(
        header=_header(csrf_token, user, tagline, "history", can_confirm), csrf_token=html.escape(csrf_token)
    )


def render_worklist(*, csrf_token: str, user: str, can_confirm: bool) -> str:
    """The overread worklist page (recordings awaiting a physician, critical findings first)."""
    tagline = "ECGs awaiting a physician's overread: critical findings first, then the oldest."
    return _template("worklist.html").substitute(header=_header(csrf_token, user, tagline, "worklist", can_confirm))
