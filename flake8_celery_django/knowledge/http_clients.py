"""Outbound HTTP client objects: ``requests`` sessions and ``httpx`` clients."""

from __future__ import annotations

import ast

from flake8_celery_django.context import FileContext, Kind, Value

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
    qualified = ctx.qualified_name(node.func)
    if qualified is None:
        return None
    if qualified in SESSION_CONSTRUCTORS:
        return Value(Kind.REQUESTS_SESSION, "requests.Session")
    if qualified in HTTPX_CLIENT_CONSTRUCTORS:
        return Value(Kind.HTTPX_CLIENT, qualified)
    return None
