"""Rule families, one module each; importing this package registers every rule and detector."""

from flake8_celery_django.rules import (
    http_timeouts,
    noqa_comments,
    on_commit,
    orm_loops,
    races,
    task_arguments,
    task_configuration,
)

__all__ = ["http_timeouts", "noqa_comments", "on_commit", "orm_loops", "races", "task_arguments", "task_configuration"]
