"""CDJ501-CDJ506: send the task when the transaction commits, with the arguments of the moment.

``transaction.on_commit(partial(task.delay, a, b))`` evaluates ``a`` and ``b`` now, as the original
``task.delay(a, b)`` did, and publishes only after the commit (never after a rollback); outside a
transaction Django runs the callback at once, so the behaviour there is unchanged.  A lambda would
read its variables at commit time instead, which is the CDJ505 bug.
"""

from __future__ import annotations

import libcst as cst

from flake8_celery_django.fix_plans import OnCommitPlan
from flake8_celery_django.fixes.arguments import (
    fits,
    keep_alignment,
    one_per_line,
    stacked,
    widest_line,
)
from flake8_celery_django.fixes.imports import NeededImport
from flake8_celery_django.fixes.layout import moved_arguments, statement_too_wide
from flake8_celery_django.fixes.names import Names, called_name, target_names
from flake8_celery_django.fixes.registry import Edit, FixContext, fixer

_ON_COMMIT_VARIANTS = {"delay": "delay_on_commit", "apply_async": "apply_async_on_commit"}
# ``task.s(x)``/``task.si(x)`` build a signature that ``on_commit`` would run in this process;
# ``task.delay(x)`` sends what they describe.
_SHORT_SIGNATURES = frozenset({"s", "si"})
# How a database alias is written (``fix_conditions`` carries only these): a string, a name, an attribute.
_ALIAS_FORMS: tuple[type[cst.BaseExpression], ...] = (cst.SimpleString, cst.ConcatenatedString, cst.Name, cst.Attribute)


def _is_statement(call: cst.Call, ctx: FixContext) -> bool:
    """The call is a whole expression statement: its result is not used."""
    parent = ctx.parent(call)
    return isinstance(parent, cst.Expr) and parent.value is call


def _deferred(
    call: cst.Call, ctx: FixContext, shift: int = 0, opening: int | None = None
) -> tuple[cst.BaseExpression, tuple[NeededImport, ...]]:
    """``partial(f, *args)`` for ``f(*args)`` (plain ``f`` when there are no arguments).

    ``shift`` is how far the fix also moves the call to the right (an ``on_commit(`` before it);
    ``opening`` is where the original call's arguments start (``FixContext.opening``).
    """
    if not call.args:
        return call.func, ()
    partial = ctx.imports.reference("functools", "partial")
    # "f(" becomes "partial(f, ": arguments aligned under the parenthesis move with it
    call = keep_alignment(call, shift + len(partial.expression) + len(", "), opening)
    spacing: cst.BaseParenthesizableWhitespace = cst.SimpleWhitespace(" ")
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        # the same line break, without the comment that stays after "partial(" (kept exactly once)
        spacing = call.whitespace_before_args.with_changes(first_line=cst.TrailingWhitespace())
    first = cst.Arg(value=call.func, comma=cst.Comma(whitespace_after=spacing))
    wrapped = cst.Call(
        func=partial.node(),
        args=[first, *call.args],
        whitespace_after_func=call.whitespace_after_func,
        whitespace_before_args=call.whitespace_before_args,
    )
    return wrapped, partial.needs


def _using(plan: OnCommitPlan, ctx: FixContext) -> cst.BaseExpression | None:
    """The ``using=`` of the enclosing ``atomic``, as written there."""
    if plan.using is None or plan.using_at is None:
        return None
    for kind in _ALIAS_FORMS:
        written = ctx.node_at(plan.using_at, kind)
        if written is not None:
            return written
    return cst.parse_expression(plan.using)


def send_on_commit(node: cst.CSTNode, ctx: FixContext) -> Edit | None:
    """``task.delay(a)`` as a statement -> ``transaction.on_commit(partial(task.delay, a))``.

    Detection bound the send's method and the database alias (``OnCommitPlan``), and refused the
    sends that may not move (``fix_conditions``).
    """
    plan = ctx.plan
    if isinstance(node, cst.Expr):
        node = node.value
    if not isinstance(node, cst.Call) or not isinstance(plan, OnCommitPlan) or not _is_statement(node, ctx):
        return None
    using = _using(plan, ctx)
    method = plan.method
    if ctx.settings.prefer_delay_on_commit and method in _ON_COMMIT_VARIANTS and using is None:
        # ``delay_on_commit`` registers on the default database only
        if not isinstance(node.func, cst.Attribute):
            return None
        variant = _ON_COMMIT_VARIANTS[method]
        renamed = node.func.with_changes(attr=cst.Name(variant))
        aligned = keep_alignment(node, len(variant) - len(method)).with_changes(func=renamed)
        if _too_wide(aligned, node, ctx, _limit(node, ctx)):
            aligned = stacked(moved_arguments(node.with_changes(func=renamed), ctx, 4))
        return Edit(node, aligned)
    on_commit = ctx.imports.reference("django.db", "transaction", "on_commit")
    shift = len(on_commit.expression) + len("(")
    callback, needs = _deferred(node.with_changes(lpar=(), rpar=()), ctx, shift, ctx.opening(node))
    arguments = [cst.Arg(callback)]
    if using is not None:
        arguments = [
            cst.Arg(callback, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(
                using.with_changes(lpar=(), rpar=()),
                keyword=cst.Name("using"),
                equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
            ),
        ]
    replacement = cst.Call(func=on_commit.node(), args=arguments, lpar=node.lpar, rpar=node.rpar)
    column = ctx.column(node)
    limit = _limit(node, ctx)
    if fits(node, column, limit) and not fits(replacement, column, limit):
        # the fix makes it too long for one line: the arguments one per line, and the partial's too
        if isinstance(callback, cst.Call) and not fits(callback, column + 4 + len(","), limit):
            arguments[0] = arguments[0].with_changes(value=one_per_line(callback, depth=1))
            replacement = replacement.with_changes(args=arguments)
        replacement = one_per_line(replacement)
    elif isinstance(callback, cst.Call) and _too_wide(replacement, node, ctx, limit):
        # written across lines, its aligned lines moved past the limit: everything one per line
        partial = moved_arguments(node.with_changes(args=[cst.Arg(node.func), *node.args]), ctx, 8)
        arguments[0] = arguments[0].with_changes(value=stacked(callback.with_changes(args=partial.args), depth=1))
        replacement = stacked(replacement.with_changes(args=arguments))
    return Edit(node, replacement, (*on_commit.needs, *needs))


def _limit(original: cst.Call, ctx: FixContext) -> int:
    """How wide the fixed call may be: the line length, or the original's width where that is more
    (a line already too long is not reformatted, only kept from growing by a new layout)."""
    return max(ctx.line_length, widest_line(original, ctx.column(original)))


def _too_wide(replacement: cst.Call, original: cst.Call, ctx: FixContext, limit: int) -> bool:
    """The fix takes a call that spans lines wider than it may be (``limit``, see :func:`_limit`)."""
    return "\n" in ctx.code(original) and widest_line(replacement, ctx.column(original)) > limit


fixer("CDJ501", cst.Call, cst.Expr, plan=OnCommitPlan)(send_on_commit)
fixer("CDJ502", cst.Call, cst.Expr, plan=OnCommitPlan)(send_on_commit)
fixer("CDJ503", cst.Call, cst.Expr, plan=OnCommitPlan)(send_on_commit)
fixer("CDJ506", cst.Call, cst.Expr, plan=OnCommitPlan)(send_on_commit)


def _on_commit_argument(node: cst.CSTNode, ctx: FixContext) -> bool:
    """``node`` is the callback (first argument, or ``func=``) of an ``on_commit(...)`` call."""
    argument = ctx.parent(node)
    owner = ctx.parent(argument) if isinstance(argument, cst.Arg) else None
    if not isinstance(owner, cst.Call) or called_name(owner) != "on_commit" or not isinstance(argument, cst.Arg):
        return False
    if argument.keyword is not None:
        return argument.keyword.value == "func"
    return argument is owner.args[0]


@fixer("CDJ504", cst.Call, cst.Name)
def defer_call_result(node: cst.CSTNode, ctx: FixContext) -> Edit | None:
    """``on_commit(task.delay(x))`` / ``on_commit(task.s(x))`` -> ``on_commit(partial(task.delay, x))``."""
    if isinstance(node, cst.Name):
        # on_commit(sig), sig a signature: send it on commit instead of running it here
        if not _on_commit_argument(node, ctx):
            return None
        return Edit(node, cst.Attribute(value=node.with_changes(lpar=(), rpar=()), attr=cst.Name("delay"),
                                        lpar=node.lpar, rpar=node.rpar))
    assert isinstance(node, cst.Call)
    target: cst.Call = node
    if not _on_commit_argument(node, ctx):
        # reported on the on_commit(...) call itself: its callback is the call to defer
        first = node.args[0] if node.args else None
        if called_name(node) != "on_commit" or first is None or not isinstance(first.value, cst.Call):
            return None
        if first.keyword is not None and first.keyword.value != "func":
            return None
        target = first.value
    inner = target
    func = inner.func
    if isinstance(func, cst.Attribute) and func.attr.value in _SHORT_SIGNATURES:
        inner = inner.with_changes(func=func.with_changes(attr=cst.Name("delay")))
    elif called_name(inner) in ("signature", "subtask"):
        return None  # its arguments are packed (args, kwargs, options): left to a person
    callback, needs = _deferred(inner.with_changes(lpar=(), rpar=()), ctx, opening=ctx.opening(target))
    if isinstance(callback, cst.Call):
        callback = _fitted(target, inner, callback, ctx).with_changes(lpar=target.lpar, rpar=target.rpar)
    return Edit(target, callback, needs)


def _fitted(target: cst.BaseExpression, inner: cst.Call, callback: cst.Call, ctx: FixContext) -> cst.Call:
    """``callback`` (``partial(inner.func, *inner.args)`` in place of ``target``), its arguments one
    per line below its statement when its lines, moved right, would pass the line length."""
    if not statement_too_wide(target, callback, ctx):
        return callback
    partial = moved_arguments(inner.with_changes(args=[cst.Arg(inner.func), *inner.args]), ctx, 4)
    return stacked(callback.with_changes(args=partial.args))


def _loop_bound_names(node: cst.CSTNode, ctx: FixContext) -> set[str]:
    """Names that each iteration of the loops around ``node`` rebinds (in the same function)."""
    bound: set[str] = set()
    current: cst.CSTNode | None = ctx.parent(node)
    child: cst.CSTNode = node
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        if isinstance(current, (cst.For, cst.While)) and child is current.body:
            names = Names()
            current.body.visit(names)
            bound |= names.stores
            if isinstance(current, cst.For):
                bound |= target_names(current.target)
        elif isinstance(current, cst.CompFor):
            bound |= target_names(current.target)
        elif isinstance(current, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            comprehension: cst.CompFor | None = current.for_in
            while comprehension is not None:
                bound |= target_names(comprehension.target)
                comprehension = comprehension.inner_for_in
        child = current
        current = ctx.parent(current)
    return bound


def _free_names(lambda_: cst.Lambda) -> list[str]:
    """Names the lambda's body reads that its own parameters do not bind, in order of use."""
    names = Names()
    lambda_.body.visit(names)
    own = {param.name.value for param in lambda_.params.params}
    seen: list[str] = []
    for name in names.loads:
        if name not in own and name not in seen and name not in names.stores:
            seen.append(name)
    return seen


def _simple(node: cst.BaseExpression) -> bool:
    """A name or a literal: the same value whether read now or at commit time (once rebound)."""
    return isinstance(node, (cst.Name, cst.Integer, cst.Float, cst.SimpleString)) and not node.lpar


def _dotted(node: cst.BaseExpression) -> bool:
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


@fixer("CDJ505", cst.Lambda, cst.Call)
def bind_loop_variables(node: cst.CSTNode, ctx: FixContext) -> Edit | None:
    """``lambda: send.delay(order_id)`` in a loop -> ``partial(send.delay, order_id)``, or defaults."""
    if isinstance(node, cst.Call):
        lambdas = [argument.value for argument in node.args if isinstance(argument.value, cst.Lambda)]
        if len(lambdas) != 1:
            return None
        node = lambdas[0]
    if not isinstance(node, cst.Lambda):
        return None
    late = [name for name in _free_names(node) if name in _loop_bound_names(node, ctx)]
    if not late:
        return None
    params = node.params
    body = node.body
    if (
        not params.params
        and not params.posonly_params
        and not params.kwonly_params
        and not isinstance(params.star_arg, cst.Param)
        and params.star_kwarg is None
        and isinstance(body, cst.Call)
        and _dotted(body.func)
        and all(argument.star == "" and _simple(argument.value) for argument in body.args)
    ):
        # every argument is a plain name or literal: binding them now is all the lambda needed
        callback, needs = _deferred(body.with_changes(lpar=(), rpar=()), ctx, opening=ctx.opening(body))
        if isinstance(callback, cst.Call):
            callback = _fitted(node, body, callback, ctx).with_changes(lpar=node.lpar, rpar=node.rpar)
        return Edit(node, callback, needs)
    if params.kwonly_params or isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None:
        return None
    equal = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
    existing = list(params.params)
    if existing:
        existing[-1] = existing[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    added = [
        cst.Param(name=cst.Name(name), default=cst.Name(name), equal=equal, comma=separator)
        for name in late
    ]
    added[-1] = added[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    replacement = node.with_changes(
        params=params.with_changes(params=[*existing, *added]),
        whitespace_after_lambda=cst.SimpleWhitespace(" "),
    )
    if isinstance(body, cst.Call):
        # arguments aligned under the body's parenthesis move as far as the parameters push it
        placeholder = cst.Name("_")
        head, old_head = replacement.with_changes(body=placeholder), node.with_changes(body=placeholder)
        grown = len(ctx.code(head)) - len(ctx.code(old_head))
        aligned = keep_alignment(body, grown, ctx.opening(body))
        replacement = replacement.with_changes(body=aligned)
        if statement_too_wide(node, replacement, ctx):
            replacement = replacement.with_changes(body=stacked(moved_arguments(body, ctx, 4)))
    return Edit(node, replacement)
