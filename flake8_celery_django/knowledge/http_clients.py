"""Outbound HTTP client objects: ``requests`` sessions and ``httpx`` clients."""

from __future__ import annotations

import ast

from flake8_celery_django.context import FileContext, Kind, Value
from flake8_celery_django.knowledge.project_names import project_session

SESSION_CONSTRUCTORS = frozenset(
    {
        "requests.Session",
        "requests.session",
        "requests.sessions.Session",
        "requests.sessions.session",
    }
)
HTTPX_CLIENT_CONSTRUCTORS = frozenset({"httpx.Client", "httpx.AsyncClient"})


def infer_call(node: ast.Call, ctx: FileContext) -> Value | None:
    if ctx.project.has_sessions:
        found = _project_session(node.func, ctx)
        if found is not None:
            return found
    qualified = ctx.qualified_name(node.func)
    if qualified is None:
        return None
    if qualified in SESSION_CONSTRUCTORS:
        return Value(Kind.REQUESTS_SESSION, "requests.Session")
    if qualified in HTTPX_CLIENT_CONSTRUCTORS:
        return Value(Kind.HTTPX_CLIENT, qualified)
    return None


def _project_session(func: ast.expr, ctx: FileContext) -> Value | None:
    """A session made by a project factory or class: unknown (safe) when it sets a default timeout."""
    fact = project_session(func, ctx)
    if fact is None or fact.sets_default_timeout:
        return None
    return Value(Kind.REQUESTS_SESSION, fact.qualified_name.rpartition(".")[2])
