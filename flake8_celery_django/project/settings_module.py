"""What a settings module says: ``ATOMIC_REQUESTS`` of the default database, the task serializer,
``AUTH_USER_MODEL``."""

from __future__ import annotations

import ast

from flake8_celery_django.project.facts import SettingsFact

SERIALIZER_NAMES = frozenset({"CELERY_TASK_SERIALIZER", "task_serializer", "CELERY_TASK_SERIALIZER"})


def is_settings_module(module: str) -> bool:
    """``settings``, ``settings.*``, ``*settings*`` and Celery configuration modules."""
    parts = module.split(".")
    return "settings" in parts or "settings" in parts[-1] or "celery" in parts[-1]


def _constant(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _atomic_in_databases(value: ast.expr) -> bool | None:
    """``ATOMIC_REQUESTS`` of the ``default`` database (of the first one when none is called so)."""
    if not isinstance(value, ast.Dict):
        return None
    databases = [(key, item) for key, item in zip(value.keys, value.values) if isinstance(key, ast.Constant)]
    databases.sort(key=lambda pair: pair[0] is None or _constant(pair[0]) != "default")
    for _, database in databases[:1]:
        if isinstance(database, ast.Dict):
            for key, item in zip(database.keys, database.values):
                if key is not None and _constant(key) == "ATOMIC_REQUESTS" and isinstance(_constant(item), bool):
                    return bool(_constant(item))
    return None


def read_settings(body: list[ast.stmt]) -> SettingsFact:
    atomic: bool | None = None
    serializer: str | None = None
    user_model: str | None = None
    for statement in body:
        if isinstance(statement, ast.AnnAssign):
            targets: list[ast.expr] = [statement.target]
            value = statement.value
        elif isinstance(statement, ast.Assign):
            targets, value = list(statement.targets), statement.value
        else:
            continue
        if value is None:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                # A top-level ``ATOMIC_REQUESTS`` is no Django setting: Django reads it per database
                # (django/core/handlers/base.py ``make_view_atomic``, ``settings_dict["ATOMIC_REQUESTS"]``).
                if target.id == "DATABASES":
                    found = _atomic_in_databases(value)
                    atomic = found if found is not None else atomic
                elif target.id in SERIALIZER_NAMES and isinstance(_constant(value), str):
                    serializer = str(_constant(value))
                elif target.id == "AUTH_USER_MODEL" and isinstance(_constant(value), str):
                    user_model = str(_constant(value))
            elif (
                isinstance(target, ast.Subscript)
                and _constant(target.slice) == "ATOMIC_REQUESTS"
                and isinstance(target.value, ast.Subscript)
                and isinstance(target.value.value, ast.Name)
                and target.value.value.id == "DATABASES"
                and _constant(target.value.slice) == "default"
                and isinstance(_constant(value), bool)
            ):
                atomic = bool(_constant(value))
    return SettingsFact(atomic_requests=atomic, task_serializer=serializer, user_model=user_model)
