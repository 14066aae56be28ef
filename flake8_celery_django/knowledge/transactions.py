"""Qualified names of Django's transaction API (``django/db/transaction.py``)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from flake8_celery_django.project.knowledge import absolute_name

if TYPE_CHECKING:
    from flake8_celery_django.context import FileContext

ATOMIC = frozenset({"django.db.transaction.atomic"})
ON_COMMIT = frozenset({"django.db.transaction.on_commit"})

# ``connection.on_commit(func)`` is what ``transaction.on_commit`` calls (django/db/backends/base/base.py).
CONNECTION_ON_COMMIT = frozenset({"django.db.connection.on_commit"})
NON_ATOMIC_REQUESTS = frozenset({"django.db.transaction.non_atomic_requests"})
METHOD_DECORATOR = frozenset({"django.utils.decorators.method_decorator"})
# Model signals sent inside the writer's transaction: pre_delete/post_delete and m2m_changed always
# (django/db/models/deletion.py, fields/related_descriptors.py wrap them in atomic), pre_save/post_save
# whenever the caller has one open (django/db/models/base.py ``save_base``).
MODEL_SIGNALS = frozenset(
    f"django.db.models.signals.{name}"
    for name in ("pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed")
)


def on_commit_callback(call: ast.Call, ctx: FileContext) -> ast.expr | None:
    """The callable handed to ``transaction.on_commit(func, using=None, robust=False)``, if ``call`` is one."""
    func = call.func
    # Most calls are not on_commit: look at the name before resolving it through the imports.
    if isinstance(func, ast.Attribute):
        if func.attr != "on_commit":
            return None
    elif not isinstance(func, ast.Name) or func.id not in ctx.imports.names:
        return None
    qualified = ctx.qualified_name(func)
    if qualified not in ON_COMMIT and qualified not in CONNECTION_ON_COMMIT:
        return None
    if call.args:
        first = call.args[0]
        return None if isinstance(first, ast.Starred) else first
    for keyword in call.keywords:
        if keyword.arg == "func":
            return keyword.value
    return None


def is_atomic_manager(name: str, ctx: FileContext) -> bool:
    """``name`` (a qualified context manager or decorator) opens a transaction: ``transaction.atomic``, or a
    project wrapper of it (a ``@contextmanager`` yielding inside ``atomic``, a function returning ``atomic()``)."""
    if name in ATOMIC:
        return True
    project = ctx.project
    if not project.enabled or not project.has_atomic_wrappers:
        return False
    return project.is_atomic_wrapper(absolute_name(name, ctx.module, ctx.filename.endswith("__init__.py")))


def names_decorator(decorator: ast.expr, names: frozenset[str], ctx: FileContext) -> bool:
    """``@x``, ``@x(...)`` or ``@method_decorator(x)`` where ``x`` resolves to one of ``names``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    qualified = ctx.qualified_name(target)
    if qualified in names:
        return True
    if qualified in METHOD_DECORATOR and isinstance(decorator, ast.Call) and decorator.args:
        inner = decorator.args[0]
        inner_target = inner.func if isinstance(inner, ast.Call) else inner
        return ctx.qualified_name(inner_target) in names
    return False


def atomic_requests(ctx: FileContext) -> bool:
    """Whether views run inside a transaction: the option when given, else the project's settings."""
    given: bool | None = getattr(ctx.options, "atomic_requests", None)
    if given is not None:
        return given
    return ctx.project.settings.atomic_requests is True
