"""The upload page: one static HTML file with the upload limit filled in."""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from string import Template

from webapp.errors import format_size

__all__ = ["render_index"]


@cache
def _template() -> Template:
    return Template(files("webapp").joinpath("templates", "index.html").read_text("utf-8"))


def render_index(max_upload_bytes: int, *, csrf_token: str = "", user: str = "") -> str:
    """The page for a signed-in ``user``; ``csrf_token`` goes into every form it posts."""
    return _template().substitute(
        csrf_token=html.escape(csrf_token),
        user=html.escape(user),
        max_upload_bytes=str(max_upload_bytes),
        max_upload_size=format_size(max_upload_bytes),
    )
