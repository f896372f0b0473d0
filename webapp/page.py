"""The signed-in pages: static HTML templates with the shared header, the CSRF token and the upload
limit filled in (``string.Template``; every value HTML-escaped)."""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from string import Template
from typing import Literal

from webapp.errors import format_size

__all__ = ["render_index", "render_history"]

_CURRENT = ' aria-current="page"'


@cache
def _template(name: str) -> Template:
    return Template(files("webapp").joinpath("templates", name).read_text("utf-8"))


def _header(csrf_token: str, user: str, tagline: str, current: Literal["upload", "history"]) -> str:
    return _template("header.html").substitute(
        csrf_token=html.escape(csrf_token),
        user=html.escape(user),
        tagline=html.escape(tagline),
        upload_current=_CURRENT if current == "upload" else "",
        history_current=_CURRENT if current == "history" else "",
    )


def render_index(max_upload_bytes: int, *, csrf_token: str = "", user: str = "") -> str:
    """The upload page for a signed-in ``user``; ``csrf_token`` goes into every form it posts."""
    tagline = "Upload a 12-lead ECG and read the automated AHA-statement analysis."
    return _template("index.html").substitute(
        header=_header(csrf_token, user, tagline, "upload"),
        csrf_token=html.escape(csrf_token),
        max_upload_bytes=str(max_upload_bytes),
        max_upload_size=format_size(max_upload_bytes),
    )


def render_history(*, csrf_token: str, user: str) -> str:
    """The history page (recent recordings, patient history) for a signed-in ``user``."""
    tagline = "Recent recordings and a patient's earlier recordings."
    return _template("history.html").substitute(
        header=_header(csrf_token, user, tagline, "history"), csrf_token=html.escape(csrf_token)
    )
