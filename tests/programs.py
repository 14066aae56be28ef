"""Generated programs for the crash tests and the benchmark: a long module, deep nesting.

The long module is ordinary Django/Celery code (models, tasks, views, loops, ``atomic`` blocks,
HTTP calls) repeated with fresh names, so that every rule family has work to do on every block.
"""

from __future__ import annotations

import ast

HEADER = '''\
"""A generated module: every block below is the same code with fresh names."""
import requests
import httpx
from celery import shared_task
from django.db import models, transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import get_object_or_404

'''

BLOCK = '''\

class Order{i}(models.Model):
    total = models.IntegerField(default=0)
    note = models.TextField(blank=True)

    def bump(self):
        self.total += 1
        self.save(update_fields=["total"])


@shared_task(bind=True, max_retries=3)
def sync_order_{i}(self, order_id, url):
    order = Order{i}.objects.select_related("customer").get(pk=order_id)
    response = requests.post(url, json={{"id": order.pk}}, timeout=10)
    for line in order.lines.all():
        line.price = line.price * 2
        line.save()
    with transaction.atomic():
        Order{i}.objects.filter(pk=order.pk).update(total=F("total") + 1)
        transaction.on_commit(lambda: notify_{i}.delay(order.pk))
    return response.status_code


@shared_task
def notify_{i}(order_id):
    with httpx.Client(timeout=5) as client:
        client.post("https://example.com/notify/{i}", json={{"id": order_id}})
    return requests.get("https://example.com/status/{i}").status_code


@receiver(post_save, sender=Order{i})
def order_saved_{i}(sender, instance, created, **kwargs):
    if created:
        transaction.on_commit(lambda: sync_order_{i}.delay(instance.pk, "https://example.com"))


def view_{i}(request, pk):
    order = get_object_or_404(Order{i}, pk=pk)
    sync_order_{i}.delay(order.pk, "https://example.com/{i}")
    names = [item.note for item in Order{i}.objects.filter(total__gt=pk)]
    totals = {{o.pk: o.total for o in Order{i}.objects.all()[:10]}}
    session = requests.Session()
    data = session.get("https://example.com/{i}", timeout=(3, 10)).json()
    return JsonResponse({{"names": names, "totals": totals, "data": data}})
'''


def large_module(lines: int) -> str:
    """Django/Celery source of at least ``lines`` lines, the same block repeated with fresh names."""
    parts = [HEADER]
    count = HEADER.count("\n")
    index = 0
    while count < lines:
        block = BLOCK.format(i=index)
        parts.append(block)
        count += block.count("\n")
        index += 1
    return "".join(parts)


DEPTH = 1000

# Expressions nested DEPTH levels deep that the parser accepts (brackets stop at 200 levels in
# CPython's tokenizer, so these are chains, operators and right-nested forms).
DEEP_EXPRESSIONS: dict[str, str] = {
    "attribute chain": "x = a" + ".b" * DEPTH,
    "call chain": "x = f" + "()" * DEPTH,
    "queryset chain": "x = Order.objects" + ".filter(a=1)" * DEPTH,
    "requests chain": "x = requests.Session()" + ".get(u)" * DEPTH,
    "task chain": "x = task.s()" + ".set(queue=q)" * DEPTH,
    "subscript chain": "x = a" + "[0]" * DEPTH,
    "binary operators": "x = " + " + ".join(["a"] * DEPTH),
    "power": "x = " + "a ** " * DEPTH + "a",
    "boolean operators": "x = " + " and ".join(["a"] * DEPTH),
    "comparison": "x = " + " < ".join(["a"] * DEPTH),
    "not": "x = " + "not " * DEPTH + "a",
    "unary minus": "x = " + "-" * DEPTH + "a",
    "conditional": "x = " + "a if b else " * DEPTH + "a",
    "lambda": "x = " + "lambda: " * DEPTH + "a",
    "brackets": "x = " + "[" * 199 + "a" + "]" * 199,
    "nested targets": "(" * 199 + "a, b" + ",)" * 199 + " = x",
    "assignment targets": "a = " * DEPTH + "Order.objects.get()",
}

# The most indentation CPython's tokenizer accepts in a file is 100 levels: a task, then loops and
# atomic blocks down to the last level.
DEEP_BLOCK_SOURCE = (
    "import requests\nfrom celery import shared_task\nfrom django.db import transaction\n"
    "@shared_task\ndef job():\n"
    + "".join(
        " " * level + ("for item in Order.objects.all():\n" if level % 2 else "with transaction.atomic():\n")
        for level in range(1, 99)
    )
    + " " * 99
    + "requests.get(item.url)\n"
)


def in_task_loop(statement: str) -> str:
    """``statement`` inside a loop inside ``atomic`` inside a Celery task, where every family looks."""
    return (
        "import requests\n"
        "from celery import shared_task\n"
        "from django.db import transaction\n"
        "@shared_task\n"
        "def job(order):\n"
        "    with transaction.atomic():\n"
        "        for item in Order.objects.all():\n"
        "            " + statement + "\n"
        "            requests.get(item.url)\n"
    )


def _deep_block(kind: str, depth: int) -> ast.stmt:
    """One compound statement of ``kind`` nested ``depth`` levels deep (built, not parsed)."""
    inner: ast.stmt = ast.Expr(
        ast.Call(
            ast.Attribute(ast.Name("requests", ast.Load()), "get", ast.Load()),
            [ast.Name("url", ast.Load())],
            [],
        )
    )
    for level in range(depth):
        body: list[ast.stmt] = [inner]
        name = f"{kind}_{level}"
        if kind == "def":
            inner = ast.FunctionDef(
                name, ast.arguments([], [ast.arg("order")], None, [], [], None, []), body, [], None
            )
        elif kind == "class":
            inner = ast.ClassDef(name, [ast.Name("Base", ast.Load())], [], body, [])
        elif kind == "for":
            inner = ast.For(
                ast.Name("item", ast.Store()),
                ast.Call(ast.Attribute(ast.Name("Order", ast.Load()), "objects", ast.Load()), [], []),
                body,
                [],
            )
        elif kind == "while":
            inner = ast.While(ast.Name("running", ast.Load()), body, [])
        elif kind == "with":
            atomic = ast.Attribute(ast.Name("transaction", ast.Load()), "atomic", ast.Load())
            inner = ast.With([ast.withitem(ast.Call(atomic, [], []), None)], body)
        elif kind == "if":
            inner = ast.If(ast.Name("flag", ast.Load()), body, [])
        elif kind == "try":
            inner = ast.Try(body, [ast.ExceptHandler(None, None, [ast.Pass()])], [], [])
        else:
            raise ValueError(kind)
    return inner


DEEP_BLOCK_KINDS = ("def", "class", "for", "while", "with", "if", "try")


def deep_block_module(kind: str, depth: int = DEPTH) -> ast.Module:
    """A module whose one statement nests ``depth`` blocks of ``kind`` (deeper than a file can)."""
    header = ast.parse("import requests\nfrom django.db import transaction\n").body
    module = ast.Module([*header, _deep_block(kind, depth)], [])
    # positions set with a loop: ast.fix_missing_locations recurses and cannot reach this depth
    line = 3
    stack: list[ast.AST] = [module]
    while stack:
        node = stack.pop()
        if "lineno" in node._attributes and not hasattr(node, "lineno"):
            node.lineno = node.end_lineno = line  # type: ignore[attr-defined]
            node.col_offset = node.end_col_offset = 0  # type: ignore[attr-defined]
            line += 1
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return module
