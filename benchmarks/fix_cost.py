"""Cost of ``fix`` as the number of findings in one file grows: it must stay near-linear.

    python benchmarks/fix_cost.py [--lines 5000 10000 20000 40000] [--repeat 1]

Each size is a generated module of that many lines made of the same ten-line view repeated, with
four findings per view (two HTTP calls without a timeout, a read-modify-write of a model field
and a task sent inside ``transaction.atomic``): about 4,000 findings per 10,000 lines.  The whole
``fix --unsafe-fixes`` engine runs on it (detection binding each finding's fix plan, libcst
rewrite, re-parse, passes until nothing changes).  Printed per size: lines, findings, fixes applied, seconds, and
microseconds per finding; near-linear means the last column stays about flat as the size doubles.
"""

from __future__ import annotations

import argparse
import time

from flake8_celery_django.fixes import fix_source
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings

HEADER = """import requests
from django.db import transaction
from shop.models import Order
from shop.tasks import send_receipt

URL = "https://example.com/api"
"""
VIEW = '''

def view_{number}(request, pk):
    data = requests.get(URL).json()
    requests.post(URL, json=data)
    order = Order.objects.get(pk=pk)
    order.total += 1
    order.save()
    with transaction.atomic():
        send_receipt.delay(order.pk)
'''
FINDINGS_PER_VIEW = 4


def module(lines: int) -> str:
    views = max(1, (lines - HEADER.count("\n")) // VIEW.count("\n"))
    return HEADER + "".join(VIEW.format(number=number) for number in range(views))


def measure(source: str, repeat: int) -> tuple[float, int]:
    settings = Settings(enabled=frozenset(RULES))
    best = float("inf")
    fixed = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fix_source(source, "shop/views.py", settings, unsafe=True)
        best = min(best, time.perf_counter() - start)
        fixed = sum(result.fixed.values())
    return best, fixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[5000, 10000, 20000, 40000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{'lines':>7} {'findings':>9} {'fixed':>7} {'seconds':>8} {'us/finding':>11}")
    for lines in args.lines:
        source = module(lines)
        findings = (source.count("\ndef view_")) * FINDINGS_PER_VIEW
        seconds, fixed = measure(source, args.repeat)
        print(f"{source.count(chr(10)):>7} {findings:>9} {fixed:>7} {seconds:>8.2f} {seconds / findings * 1e6:>11.0f}")


if __name__ == "__main__":
    main()
