"""The rule documentation pages (``docs/rules/CDJxxx.md``), from an installed package or a checkout.

A wheel carries the pages as package data in ``flake8_celery_django/rule_docs/`` (copied there at
build time by ``setup.py``); a source checkout or an editable install reads ``docs/rules/``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT_PAGES = Path(__file__).resolve().parent.parent / "docs" / "rules"


def page(code: str) -> str | None:
    """The Markdown page of ``code``, or ``None`` when this installation has none."""
    name = f"{code}.md"
    packaged = resources.files("flake8_celery_django").joinpath("rule_docs").joinpath(name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    in_checkout = _CHECKOUT_PAGES / name
    if in_checkout.is_file():
        return in_checkout.read_text(encoding="utf-8")
    return None
