"""Rule families, one module each; importing this package registers every rule and detector."""

from flake8_celery_django.rules import (
    get_or_create_lookup,
    http_timeouts,
    noqa_comments,
    on_commit,
    orm_loops,
    races,
    relation_traversal,
    select_related_fields,
    send_options,
    serializer_relations,
    task_arguments,
    task_configuration,
)

__all__ = [
    "get_or_create_lookup",
    "http_timeouts",
    "noqa_comments",
    "on_commit",
    "orm_loops",
    "races",
    "relation_traversal",
    "select_related_fields",
    "send_options",
    "serializer_relations",
    "task_arguments",
    "task_configuration",
]
