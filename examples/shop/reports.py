"""CDJ6xx: how the report tasks retry, wait and are sent."""

import requests
from celery import chain, shared_task
from django.conf import settings

API = "https://reports.example.com"


# CDJ601: every failure retries after the same fixed delay; the twin backs off.
@shared_task(autoretry_for=(requests.RequestException,), max_retries=5)  # CDJ601
def fetch_sales(day):
    return requests.get(f"{API}/sales/{day}", timeout=settings.HTTP_TIMEOUT).json()


@shared_task(autoretry_for=(requests.RequestException,), retry_backoff=True, max_retries=5)
def fetch_sales_with_backoff(day):
    return requests.get(f"{API}/sales/{day}", timeout=settings.HTTP_TIMEOUT).json()


@shared_task
def summarize(sales):
    return sum(line["amount"] for line in sales)


# CDJ602: waiting on a subtask inside a task; the twin chains the work instead.
@shared_task
def daily_report(day):
    sales = fetch_sales.delay(day)
    return summarize(sales.get(timeout=60))  # CDJ602


@shared_task
def daily_report_chained(day):
    return chain(fetch_sales_with_backoff.s(day), summarize.s()).delay().id


# CDJ603: delay() hands countdown= to the task, which does not take it; the twin sends it to Celery.
def report_tomorrow(day):
    fetch_sales.delay(day, countdown=86400)  # CDJ603


def report_tomorrow_scheduled(day):
    fetch_sales.apply_async((day,), countdown=86400)
