"""CDJ900: take the unused codes out of a ``# noqa`` comment, or the comment out of the line.

The codes to remove travel with the finding (``RemoveNoqaCodes``), as detection decided them.
"""

from __future__ import annotations

import re

import libcst as cst
from flake8.defaults import NOQA_INLINE_REGEXP

from flake8_celery_django.fix_plans import RemoveNoqaCodes
from flake8_celery_django.fixes.registry import Edit, FixContext, fixer
from flake8_celery_django.noqa import CODE_SEPARATOR

_BEFORE_NOQA = re.compile(r"\s*#?\s*$")


def without_codes(comment: str, unused: tuple[str, ...]) -> str | None:
    """``comment`` with ``unused`` left out of its noqa codes; ``""`` when nothing is left of it,
    ``None`` when it holds no noqa with codes."""
    match = NOQA_INLINE_REGEXP.search(comment)
    if match is None or match.group("codes") is None:
        return None
    kept = [code for code in CODE_SEPARATOR.split(match.group("codes").strip()) if code and code not in unused]
    if kept:
        start, end = match.span("codes")
        return comment[:start] + ", ".join(kept) + comment[end:]
    before = comment[: match.start()]
    after = comment[match.end():].strip()
    if _BEFORE_NOQA.fullmatch(before):
        # the comment is only the noqa (after it, perhaps another comment: keep that one)
        return ("# " + after.lstrip("#").strip()) if after else ""
    return (before.rstrip() + ("  " + after if after else "")).rstrip()


@fixer("CDJ900", cst.Comment, plan=RemoveNoqaCodes)
def remove_unused_codes(node: cst.CSTNode, ctx: FixContext) -> Edit | None:
    assert isinstance(node, cst.Comment)
    plan = ctx.plan
    if not isinstance(plan, RemoveNoqaCodes) or not plan.codes:
        return None
    text = without_codes(node.value, plan.codes)
    if text is None:
        return None
    if text:
        return Edit(node, node.with_changes(value=text))
    parent = ctx.parent(node)
    if isinstance(parent, cst.TrailingWhitespace):
        return Edit(parent, parent.with_changes(whitespace=cst.SimpleWhitespace(""), comment=None))
    if isinstance(parent, cst.EmptyLine):
        return Edit(parent, parent.with_changes(comment=None, whitespace=cst.SimpleWhitespace("")))
    return None
