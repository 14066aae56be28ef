"""Names in one module resolved to absolute dotted names, and the library classes the index starts from."""

from __future__ import annotations

import ast

from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.project.knowledge import absolute_name

MODEL_ROOTS = frozenset(
    {
        "django.db.models.Model",
        "django.db.models.base.Model",
        "django.contrib.auth.models.AbstractUser",
        "django.contrib.auth.models.AbstractBaseUser",
        "django.contrib.auth.base_user.AbstractBaseUser",
        "django.contrib.auth.models.PermissionsMixin",
    }
)
TASK_ROOTS = frozenset(
    {
        "celery.Task",
        "celery.app.task.Task",
        "celery.task.Task",
        "celery.contrib.django.task.DjangoTask",
        "celery.contrib.abortable.AbortableTask",
    }
)
SESSION_ROOTS = frozenset(
    {"requests.Session", "requests.sessions.Session", "requests.session", "requests.sessions.session"}
)
ADAPTER_ROOTS = frozenset({"requests.adapters.HTTPAdapter"})
TASK_DECORATORS = frozenset(
    {
        "celery.shared_task",
        "celery.app.shared_task",
        "celery.task",
        "celery.decorators.task",
        "celery.decorators.periodic_task",
        "celery.task.periodic_task",
    }
)
CELERY_APP = frozenset({"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"})
ON_COMMIT = frozenset({"django.db.transaction.on_commit"})
ATOMIC = frozenset({"django.db.transaction.atomic"})
CONTEXT_MANAGER = frozenset({"contextlib.contextmanager", "contextlib.asynccontextmanager"})
PARTIAL = frozenset({"functools.partial"})
# Names a Celery application object usually has when it is imported from another module.
APP_NAMES = frozenset({"app", "celery_app", "celery", "capp", "current_app"})


def is_model_root(name: str) -> bool:
    """A Django model class from outside the project (``TimeStampedModel`` of a models module too)."""
    return name in MODEL_ROOTS or (name.endswith("Model") and ".models." in name)


class Names:
    """What the names of one module stand for: imports (relative ones made absolute) and top-level definitions."""

    __slots__ = ("module", "is_package", "packages", "imported", "defined", "celery_apps")

    def __init__(self, module: str, is_package: bool, packages: frozenset[str]) -> None:
        self.module = module
        self.is_package = is_package
        # The project's top-level packages and modules: a name under one of them is the project's.
        self.packages = packages
        self.imported: dict[str, str] = {}
        self.defined: set[str] = set()
        self.celery_apps: set[str] = set()

    def add_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.imported[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    self.imported[top] = top
            return
        base = "." * (node.level or 0) + (node.module or "")
        if node.level:
            base = absolute_name(base, self.module, self.is_package) if base.strip(".") else _parent(
                self.module, node.level, self.is_package
            )
        for alias in node.names:
            if alias.name != "*":
                self.imported[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name

    def qualify(self, node: ast.expr) -> str | None:
        """The absolute dotted name of a name or attribute chain, when its root is imported or defined here."""
        # The root name first: most calls are methods of local values, which need no dotted name.
        base = node
        while type(base) is ast.Attribute:
            base = base.value
        if type(base) is not ast.Name:
            return None
        root = base.id
        found = self.imported.get(root)
        if found is None and root not in self.defined:
            return None
        dotted = dotted_name(node)
        assert dotted is not None
        rest = dotted[len(root):]
        if found is not None:
            return found + rest
        return f"{self.module}.{dotted}" if self.module else dotted

    def is_project(self, qualified: str) -> bool:
        return qualified.partition(".")[0] in self.packages or (
            bool(self.module) and qualified.startswith(self.module + ".")
        )

    def is_celery_app(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name) and node.id in self.celery_apps:
            return True
        qualified = self.qualify(node)
        if qualified in CELERY_APP:
            return False
        dotted = qualified or dotted_name(node)
        return dotted is not None and dotted.rpartition(".")[2] in APP_NAMES

    def is_task_decorator(self, node: ast.expr) -> bool:
        """``shared_task``, ``app.task`` or ``<celery app>.task`` (the decorator itself, not its call)."""
        if isinstance(node, ast.Attribute) and node.attr == "task" and self.is_celery_app(node.value):
            return True
        return self.qualify(node) in TASK_DECORATORS


def _parent(module: str, level: int, is_package: bool) -> str:
    parts = module.split(".")
    keep = len(parts) - level + (1 if is_package else 0)
    return ".".join(parts[: max(keep, 0)])
