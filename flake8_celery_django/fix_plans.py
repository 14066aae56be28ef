"""What a finding's fix needs, bound by the detector when it reports the finding.

A rule's fix safety is declared once, on the rule (``rule(..., fix="safe" | "unsafe")``).  What this
occurrence's rewrite needs (the call detection resolved, where an argument goes, the database alias
of the enclosing ``atomic``) travels with the finding as one of the frozen plans below, or as a
:class:`NotFixable` with the reason when the fix would not be correct where the finding stands.  The
fixers in ``fixes/`` find the reported node again by its exact range and carry the plan out; they
never resolve a name or an argument position again.

Plans are computed only when a finding is reported, so a file without findings pays nothing.
"""

from __future__ import annotations

from typing import NamedTuple

# (line, column, end line, end column), as ast counts them (columns in UTF-8 bytes).
Span = tuple[int, int, int, int]


class NotFixable(NamedTuple):
    """The rule has a fix, but not for this occurrence: ``fix`` leaves it and prints ``reason``."""

    reason: str


class TimeoutPlan(NamedTuple):
    """CDJ201/CDJ202: the HTTP call detection resolved, and where its timeout goes.

    ``position`` is the 0-based positional argument that holds ``timeout=None`` (``urlopen``'s third,
    ``Session.request``'s ninth); None means the ``timeout=`` keyword, added when it is missing.
    """

    call: str
    position: int | None = None


class UpdatePlan(NamedTuple):
    """CDJ301: ``obj.field`` becomes ``F("field") <op> operand``.

    ``refresh_after`` is the save that ``obj.refresh_from_db(fields=[...])`` must follow (the object
    is read after it), None when nothing reads it again; ``asynchronous`` when that save is awaited
    (``asave``), so the refresh is ``await obj.arefresh_from_db(...)``.  ``update_fields`` is the
    save's literal ``update_fields`` (None when it writes every field); it already names the field.
    """

    obj: str
    field: str
    operands: tuple[str, ...]
    refresh_after: Span | None = None
    asynchronous: bool = False
    update_fields: tuple[str, ...] | None = None


class OnCommitPlan(NamedTuple):
    """CDJ501-CDJ503, CDJ506: the send to defer to ``transaction.on_commit``.

    ``send`` is the callable that sends (``notify.delay``), ``method`` its last name (``delay``,
    ``apply_async``, ``send_task``).  ``using`` is the database alias of the innermost enclosing
    ``atomic(using=...)`` as ast reads it and ``using_at`` where it is written (the fix copies it
    from there, as written); both None for the default database.
    """

    send: str
    method: str
    using: str | None = None
    using_at: Span | None = None


class BulkCreatePlan(NamedTuple):
    """CDJ401: the loop builds one ``model`` row per item; ``loop_at`` is the ``for`` statement to replace."""

    model: str
    loop_at: Span


class RemoveNoqaCodes(NamedTuple):
    """CDJ900: the codes to take out of the ``# noqa`` comment."""

    codes: tuple[str, ...]


FixPlan = TimeoutPlan | UpdatePlan | OnCommitPlan | BulkCreatePlan | RemoveNoqaCodes
