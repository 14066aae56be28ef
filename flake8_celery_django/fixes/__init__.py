"""The ``fix`` command's engine: libcst rewrites of what detection found (never used by flake8).

Importing this package registers the fixer of every rule family that is part of this build.
"""

from flake8_celery_django.fixes import http_timeouts, noqa_comments, on_commit, orm
from flake8_celery_django.fixes.engine import FixError, FixResult, fix_source
from flake8_celery_django.fixes.registry import FIXERS

__all__ = ["FIXERS", "FixError", "FixResult", "fix_source", "http_timeouts", "noqa_comments", "on_commit", "orm"]
