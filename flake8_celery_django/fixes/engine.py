"""Apply fixes to one source text: detect first, rewrite with libcst only when something is fixable.

Each pass runs the same detection that flake8 runs, keeps the findings that have a fix allowed by
the options and no ``# noqa``, finds each finding's node again in the libcst tree by its exact
position, and applies the fixers' edits that do not overlap.  Passes repeat until nothing more
changes, so fixes of nested calls land one after the other and a second run changes nothing.
"""

from __future__ import annotations

import ast
import bisect
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from flake8_celery_django.context import Finding
from flake8_celery_django.fix_plans import NotFixable
from flake8_celery_django.fixable import (
    Refusal,
    Scan,
    Where,
    detection_settings,
    fixable_codes,
    fixable_findings,
    physical_lines,
    scan,
    sort_out,
)
from flake8_celery_django.fixes.imports import ImportPlan, NeededImport, add_imports
from flake8_celery_django.fixes.registry import (
    DEFAULT_LINE_LENGTH,
    FIXERS,
    Edit,
    FixContext,
    Fixer,
    Replacement,
    char_column,
)
from flake8_celery_django.project.knowledge import ProjectKnowledge
from flake8_celery_django.settings import Settings

MAX_PASSES = 10


class FixError(Exception):
    """A file could not be fixed; it is left exactly as it was."""


@dataclass
class FixResult:
    source: str
    fixed: Counter[str] = field(default_factory=Counter)
    # Findings of the codes being fixed that are still there, and why each has no fix.
    unfixed: list[Refusal] = field(default_factory=list)
    # Why the file was left alone: it does not parse (flake8 reports that itself, as E999), or it
    # nests too deeply for libcst.
    skipped: str | None = None

    @property
    def changed(self) -> bool:
        return sum(self.fixed.values()) > 0


class _Taken:
    """Disjoint source ranges already claimed by accepted edits, sorted: overlap checks in O(log n)."""

    def __init__(self) -> None:
        self.starts: list[tuple[int, int]] = []
        self.ends: list[tuple[int, int]] = []

    def free(self, where: CodeRange) -> bool:
        start = (where.start.line, where.start.column)
        end = (where.end.line, where.end.column)
        index = bisect.bisect_right(self.starts, start)
        if index > 0 and self.ends[index - 1] > start:
            return False
        return not (index < len(self.starts) and self.starts[index] < end)

    def take(self, where: CodeRange) -> None:
        start = (where.start.line, where.start.column)
        index = bisect.bisect_right(self.starts, start)
        self.starts.insert(index, start)
        self.ends.insert(index, (where.end.line, where.end.column))


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, Replacement]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
        return self.replacements.get(original_node, updated_node)


def apply_findings(
    source: str,
    findings: list[Finding],
    settings: Settings,
    tree: ast.Module,
    fixers: Mapping[str, Fixer] = FIXERS,
    line_length: int = DEFAULT_LINE_LENGTH,
) -> tuple[str, Counter[str]]:
    """One pass: the fixes of ``findings`` that do not overlap, applied to ``source``.

    Each fixer gets the plan its finding carries (``Finding.fix``); a finding whose detector found
    its fix not correct there (``NotFixable``) is left alone.
    """
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise FixError(f"libcst cannot parse it: {error}") from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    by_range: dict[tuple[int, int, int, int], list[cst.CSTNode]] = {}
    for node, where in positions.items():
        key = (where.start.line, where.start.column, where.end.line, where.end.column)
        by_range.setdefault(key, []).append(node)
    lines = physical_lines(source)
    context = FixContext(module, parents, settings, ImportPlan(tree), positions, line_length, by_range, lines)
    accepted: list[tuple[Edit, str]] = []
    taken = _Taken()
    for finding in findings:
        fixer = fixers.get(finding.code)
        if fixer is None or isinstance(finding.fix, NotFixable):
            continue
        if fixer.plan is not None and not isinstance(finding.fix, fixer.plan):
            continue  # its detector bound no plan: nothing says how to rewrite it
        if not (0 < finding.line <= len(lines) and 0 < finding.end_line <= len(lines)):
            continue
        key = (
            finding.line,
            char_column(lines[finding.line - 1], finding.col),
            finding.end_line,
            char_column(lines[finding.end_line - 1], finding.end_col),
        )
        for node in by_range.get(key, ()):
            if not isinstance(node, fixer.node_types):
                continue
            context.plan = finding.fix
            edit = fixer.function(node, context)
            if edit is None:
                continue
            claimed = [positions[original] for original, _ in edit.replacements()]
            if not all(taken.free(where) for where in claimed):
                break  # the next pass sees it again, on the code this pass rewrote
            for where in claimed:
                taken.take(where)
            accepted.append((edit, finding.code))
            break
    if not accepted:
        return source, Counter()
    replacements = {original: new for edit, _ in accepted for original, new in edit.replacements()}
    needed: list[NeededImport] = [need for edit, _ in accepted for need in edit.imports]
    rewritten = module.visit(_Replace(replacements))
    assert isinstance(rewritten, cst.Module)
    rewritten = add_imports(rewritten, needed, line_length)
    return rewritten.code, Counter(code for _, code in accepted)


def fix_source(
    source: str,
    filename: str = "<unknown>",
    settings: Settings | None = None,
    *,
    unsafe: bool = False,
    first: Scan | None = None,
    line_length: int = DEFAULT_LINE_LENGTH,
    project: ProjectKnowledge | None = None,
    module: str | None = None,
    buffer: bool = False,
) -> FixResult:
    """``source`` with every allowed fix applied; raises :class:`FixError` when anything fails.

    ``first`` is the scan of ``source`` with the same settings, when the caller already made it.
    """
    settings = detection_settings(settings or Settings(), unsafe)
    result = FixResult(source)
    where = Where(filename, buffer, project, module)
    found = first if first is not None else scan(source, where, settings)
    if found.skipped is not None:
        result.skipped = found.skipped
        return result
    tree = found.tree
    for _ in range(MAX_PASSES):
        if not found.findings or tree is None:
            break
        try:
            rewritten, fixed = apply_findings(
                result.source, list(found.findings), settings, tree, line_length=line_length
            )
        except FixError:
            raise
        except RecursionError:
            # ast may parse what libcst cannot (their depth limits differ by Python version).
            result.source = source
            result.fixed.clear()
            result.skipped = "it is nested too deeply to rewrite"
            return result
        except Exception as error:  # noqa: BLE001  (any failure leaves the file as it was)
            raise FixError(f"internal error while fixing: {type(error).__name__}: {error}") from error
        if not fixed:
            break
        try:
            tree = ast.parse(rewritten, filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            raise FixError(f"a fix produced code that does not parse ({error}); nothing was written") from None
        result.source = rewritten
        result.fixed += fixed
        remaining = fixable_findings(
            tree, rewritten, filename, settings, fixable_codes(unsafe), buffer, where.project, where.module
        )
        found = sort_out(tree, remaining)
    declined = [Refusal(finding, "the fix cannot rewrite this form") for finding in found.findings]
    result.unfixed = sorted([*found.refused, *declined], key=lambda refusal: refusal.finding)
    return result
