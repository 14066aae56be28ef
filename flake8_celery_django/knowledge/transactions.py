"""Qualified names of Django's transaction API (``django/db/transaction.py``)."""

from __future__ import annotations

ATOMIC = frozenset({"django.db.transaction.atomic"})
ON_COMMIT = frozenset({"django.db.transaction.on_commit"})
