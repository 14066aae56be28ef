"""CDJ2xx: outbound HTTP calls with no bound on how long they may wait.

``requests`` and ``urllib`` wait forever by default; ``httpx`` has a 5 second default that
``timeout=None`` switches off.  Signatures checked against requests' ``api.py``/``sessions.py``,
httpx's ``_api.py``/``_client.py`` and the standard library's ``urllib/request.py``.
"""

from __future__ import annotations

import ast

from flake8_celery_django.context import FileContext, Kind
from flake8_celery_django.fix_plans import TimeoutPlan
from flake8_celery_django.knowledge import bindings
from flake8_celery_django.knowledge.callers import application_call_sites
from flake8_celery_django.knowledge.file_kinds import in_hidden_folder, in_test_code, is_script
from flake8_celery_django.knowledge.http_clients import HTTPX_CLIENT_CONSTRUCTORS
from flake8_celery_django.knowledge.imports import dotted_name
from flake8_celery_django.knowledge.operator_code import runs_only_from_operator_code
from flake8_celery_django.registry import on, rule

NO_TIMEOUT = rule(
    "CDJ201",
    "http-call-without-timeout",
    "{call}() has no timeout and can hang forever; pass timeout=<seconds>",
    summary="Outbound HTTP call (requests, requests.Session, urlopen) without a timeout",
    fix="safe",
)
TIMEOUT_NONE = rule(
    "CDJ202",
    "http-call-with-timeout-none",
    "{call}() has timeout=None and can hang forever; pass timeout=<seconds>",
    summary="Outbound HTTP call or client with timeout=None",
    fix="safe",
)

_HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
_REQUESTS_FUNCTIONS = frozenset(
    [f"requests.{method}" for method in _HTTP_METHODS]
    + [f"requests.api.{method}" for method in _HTTP_METHODS]
)
_HTTPX_FUNCTIONS = frozenset(f"httpx.{method}" for method in (*_HTTP_METHODS, "stream"))
_URLOPEN = frozenset({"urllib.request.urlopen"})
# Session.send(prepared) passes **kwargs to HTTPAdapter.send(..., timeout=None): it waits forever too.
_SESSION_METHODS = frozenset((*_HTTP_METHODS, "send"))
_HTTPX_CLIENT_METHODS = frozenset((*_HTTP_METHODS, "stream", "send"))

# Where ``timeout`` may also be passed by position (0-based, ``self`` excluded).
_URLOPEN_TIMEOUT_POSITION = 2  # urlopen(url, data=None, timeout=...)
_SESSION_REQUEST_TIMEOUT_POSITION = 8  # Session.request(method, url, params, ..., auth, timeout)


def _timeout_argument(call: ast.Call, position: int | None) -> tuple[bool, ast.expr | None]:
    """(whether a timeout is passed, its expression); ``**kwargs`` or ``*args`` may hold one."""
    for keyword in call.keywords:
        if keyword.arg is None:
            return True, None
        if keyword.arg == "timeout":
            return True, keyword.value
    if position is not None:
        if any(isinstance(argument, ast.Starred) for argument in call.args):
            return True, None
        if len(call.args) > position:
            return True, call.args[position]
    return False, None


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _call_name(call: ast.Call) -> str:
    func = call.func
    name = dotted_name(func)
    if name is not None:
        return name
    if isinstance(func, ast.Attribute):
        inner = func.value
        if isinstance(inner, ast.Call):
            owner = dotted_name(inner.func)
            if owner is not None:
                return f"{owner}().{func.attr}"
        return func.attr
    return "call"


_HTTP_PACKAGES = frozenset({"requests", "httpx", "urllib"})


@on(ast.Call, rules=(NO_TIMEOUT, TIMEOUT_NONE))
def check_http_call(node: ast.Call, ctx: FileContext) -> None:
    func = node.func
    if ctx.imports.roots.isdisjoint(_HTTP_PACKAGES):
        # every form this family reports is built from one of these imports or a project session,
        # and a session is only reached through one of its methods
        if not ctx.project.has_sessions or not (isinstance(func, ast.Attribute) and func.attr in _HTTPX_CLIENT_METHODS):
            return
    waits_forever_by_default = False
    position: int | None = None
    qualified = ctx.qualified_name(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
    if qualified is not None and (qualified in _REQUESTS_FUNCTIONS or qualified in _URLOPEN):
        waits_forever_by_default = True
        position = _URLOPEN_TIMEOUT_POSITION if qualified in _URLOPEN else None
    elif qualified is not None and (qualified in _HTTPX_FUNCTIONS or qualified in HTTPX_CLIENT_CONSTRUCTORS):
        pass
    elif isinstance(func, ast.Attribute) and func.attr in _HTTPX_CLIENT_METHODS:
        client = bindings.infer(func.value, ctx)
        if client is None:
            return
        if client.kind is Kind.REQUESTS_SESSION and func.attr in _SESSION_METHODS:
            waits_forever_by_default = True
            if func.attr == "request":
                position = _SESSION_REQUEST_TIMEOUT_POSITION
        elif client.kind is not Kind.HTTPX_CLIENT:
            return
        qualified = f"{client.label}.{func.attr}"
    else:
        return
    if in_test_code(ctx.scope, ctx):
        return  # a test calls a test server: it cannot hang production
    if _runs_only_as_script(ctx) or in_hidden_folder(ctx):
        return  # someone runs the script and watches it, or a tool's file: no web or worker process waits
    if runs_only_from_operator_code(ctx):
        return  # a management command or a migration, or what only they call: an operator's run, not a worker's
    passed, timeout = _timeout_argument(node, position)
    if not passed:
        if waits_forever_by_default:
            ctx.report(node, NO_TIMEOUT, fix=TimeoutPlan(qualified), call=_call_name(node))
    elif _is_none(timeout):
        # the None to replace: the ``timeout=`` keyword, else the positional argument detection read
        at = position if position is not None and position < len(node.args) and timeout is node.args[position] else None
        ctx.report(node, TIMEOUT_NONE, fix=TimeoutPlan(qualified, at), call=_call_name(node))


def _runs_only_as_script(ctx: FileContext) -> bool:
    """The code here is a command-line script's (:func:`is_script`), and no other module of the
    project calls the function it is in."""
    if not is_script(ctx):
        return False
    module = ctx.module or ""
    return not any(
        site.caller != module and not site.caller.startswith(f"{module}.")
        for site in application_call_sites(ctx.code_scope(), ctx)
    )
