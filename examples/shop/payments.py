"""CDJ2xx: outbound HTTP calls to the payment provider."""

import httpx
import requests
from django.conf import settings

API = "https://payments.example.com"


class PaymentGateway:
    def __init__(self):
        self.session = requests.Session()

    def charge(self, order_id, amount):
        return self.session.post(f"{API}/charges", json={"order": order_id, "amount": amount})  # CDJ201

    def charge_with_timeout(self, order_id, amount):
        return self.session.post(
            f"{API}/charges", json={"order": order_id, "amount": amount}, timeout=settings.HTTP_TIMEOUT
        )


def exchange_rates():
    return requests.get(f"{API}/rates").json()  # CDJ201


def exchange_rates_bounded():
    return requests.get(f"{API}/rates", timeout=(3.05, 27)).json()


def exchange_rates_cached():
    return requests.get(f"{API}/rates", timeout=5).json()  # noqa: CDJ201  # CDJ900


def download_report(report_id):
    return httpx.get(f"{API}/reports/{report_id}", timeout=None)  # CDJ202


def download_report_bounded(report_id):
    return httpx.get(f"{API}/reports/{report_id}")
