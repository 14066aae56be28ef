"""Celery tasks of the real-stack tests, run eagerly: each run records what the database held then."""

from __future__ import annotations

from celery import Celery

from tests.real_stack.models import Order

app = Celery("real_stack", broker="memory://", backend="cache+memory://")
app.conf.task_always_eager = True
app.conf.task_store_eager_result = False

# (order id, whether the order existed in the database when the task ran)
RUNS: list[tuple[int, bool]] = []


@app.task
def send_receipt(order_id: int) -> None:
    RUNS.append((order_id, Order.objects.filter(pk=order_id).exists()))
