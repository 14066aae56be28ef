from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flake8_celery_django.api import check_source
from tests.cases import Case, all_codes_settings, assert_case, invalid, valid
from tests.project_files import findings_in, write_project

CASES: list[Case] = [
    # Test code calls test servers: it cannot hang production.
    valid(
        "CDJ201",
        """
        import requests
        def test_health(live_server):
            requests.get(live_server.url + "/health/")
        """,
    ),
    valid(
        "CDJ202",
        """
        import requests
        class HealthTests:
            def check(self, url):
                return requests.get(url, timeout=None)
        """,
    ),
    valid(
        "CDJ201",
        """
        import requests
        class Health:
            def setUp(self):
                self.page = requests.get("http://testserver/")
        """,
    ),
    invalid(
        "CDJ201",
        """
        import requests
        class Health:
            def check(self, url):
                return requests.get(url)
        """,
        (5, 15),
    ),
    invalid(
        "CDJ201",
        """
        import requests
        requests.get("https://example.com")
        """,
        (3, 0),
    ),
    invalid(
        "CDJ201",
        """
        import requests as r
        from requests import post as send
        def f(url):
            r.put(url, data={})
            send(url)
            return r.request("GET", url)
        """,
        (5, 4), (6, 4), (7, 11),
    ),
    invalid(
        "CDJ201",
        """
        import requests
        def sync(url):
            session = requests.Session()
            session.get(url)
            with requests.Session() as s:
                s.post(url, json={})
            requests.Session().delete(url)
            with requests.Session() as s:
                s.send(s.prepare_request(requests.Request("POST", url)), allow_redirects=False)
        """,
        (5, 4), (7, 8), (8, 4), (10, 8),
    ),
    invalid(
        "CDJ201",
        """
        import requests
        class Client:
            def __init__(self):
                self.session = requests.session()
            def fetch(self, url):
                return self.session.get(url)
            def call(self, url):
                return self.session.request("GET", url)
        """,
        (7, 15), (9, 15),
    ),
    invalid(
        "CDJ201",
        """
        from urllib.request import urlopen
        import urllib.request
        urlopen("https://example.com")
        urllib.request.urlopen("https://example.com", None)
        """,
        (4, 0), (5, 0),
    ),
    valid(
        "CDJ201",
        """
        import requests
        from django.conf import settings
        from urllib.request import urlopen
        def f(url, kwargs, args):
            requests.get(url, timeout=5)
            requests.get(url, timeout=(3.05, 27))
            requests.get(url, timeout=settings.HTTP_TIMEOUT)
            requests.get(url, timeout=settings.TIMEOUT * 2)
            requests.post(url, **kwargs)
            requests.Session().get(url, timeout=10)
            requests.Session().send(prepared, timeout=(3.05, 27))
            urlopen(url, None, 10)
            urlopen(url, timeout=10)
            urlopen(*args)
        """,
    ),
    valid(
        "CDJ201",
        """
        import httpx
        from django.core.cache import cache
        def f(url, data, queue):
            data.get("key")
            cache.get("key")
            queue.get()
            {}.get("key")
            httpx.get(url)
            httpx.Client().get(url)
        def g(requests):
            session = make_session()
            session.get("https://example.com")
            requests.get("https://example.com")
        handler = lambda httpx: httpx.get(url, timeout=None)
        """,
    ),
    valid(
        "CDJ201",
        """
        def f(session, url):
            session.get(url)
            get(url)
        """,
    ),
    invalid(
        "CDJ202",
        """
        import requests
        import httpx
        def f(url):
            requests.get(url, timeout=None)
            httpx.post(url, timeout=None)
            client = httpx.Client(timeout=None)
            client.get(url, timeout=None)
            with httpx.AsyncClient() as c:
                c.get(url, timeout=None)
            s = requests.Session()
            s.request("GET", url, None, None, None, None, None, None, None)
        """,
        (5, 4), (6, 4), (7, 13), (8, 4), (10, 8), (12, 4),
    ),
    valid(
        "CDJ202",
        """
        import requests
        import httpx
        def f(url, timeout):
            requests.get(url, timeout=timeout)
            httpx.get(url, timeout=10.0)
            httpx.Client(timeout=httpx.Timeout(10.0))
            cache_get(url, timeout=None)
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_http_timeout_cases(case: Case) -> None:
    assert_case(case)


NO_TIMEOUT = "CDJ201 requests.get() has no timeout and can hang forever; pass timeout=<seconds>"
PING = """
    import requests


    def ping(url):
        return requests.get(url)
    """


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("shop/health.py", [(6, 11, NO_TIMEOUT)]),
        ("shop/tests/test_health.py", []),
        ("shop/tests.py", []),
        ("conftest.py", []),
        ("playwright_tests/core/utilities.py", []),
        (".semgrep/security/requests/no-use-requests-lib.py", []),
        ("./shop/health.py", [(6, 11, NO_TIMEOUT)]),
        ("shop/latest_tests_run.py", [(6, 11, NO_TIMEOUT)]),
    ],
)
def test_a_test_module_calls_test_servers(filename: str, expected: list[tuple[int, int, str]]) -> None:
    findings = check_source(textwrap.dedent(PING), filename, all_codes_settings(), strict=True)
    assert [(f.line, f.col, f.message) for f in findings if f.code.startswith("CDJ2")] == expected


SCRIPT = """
    import requests


    def record_deployment(url):
        return requests.post(url)


    if __name__ == "__main__":
        record_deployment("https://api.example.com/deployments")
    """


def test_a_command_line_script_is_watched_by_whoever_runs_it() -> None:
    findings = check_source(textwrap.dedent(SCRIPT), "scripts/record_deployments.py", all_codes_settings(), strict=True)
    assert [f for f in findings if f.code.startswith("CDJ2")] == []
    not_a_guard = textwrap.dedent(SCRIPT).replace('if __name__ == "__main__":', 'if __name__ != "__main__":')
    findings = check_source(not_a_guard, "scripts/record_deployments.py", all_codes_settings(), strict=True)
    assert [(f.line, f.col, f.code) for f in findings if f.code.startswith("CDJ2")] == [(6, 11, "CDJ201")]


def test_a_script_function_another_module_calls_is_reported(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "setup.cfg": "[metadata]\nname = shop\n",
            "shop/__init__.py": "",
            "shop/deployments.py": SCRIPT,
            "shop/views.py": """
                from shop.deployments import record_deployment


                def deployed(request):
                    record_deployment(request.POST["url"])
                """,
            "shop/report.py": SCRIPT.replace("record_deployment", "record_report"),
        },
    )
    posted = "CDJ201 requests.post() has no timeout and can hang forever; pass timeout=<seconds>"
    for name, expected in (("deployments", [(5, 11, posted)]), ("report", [])):
        assert findings_in(root, f"shop/{name}.py", frozenset({"CDJ201"})) == expected, name


def test_a_management_command_and_what_only_commands_call_are_an_operators_run(tmp_path: Path) -> None:
    """A command is run by an operator (or cron) one run at a time, and no worker or request waits on
    it; the code only commands call is the same. A task a command sends, and a helper a view also
    calls, still run in production."""
    root = write_project(
        tmp_path,
        {
            "setup.cfg": "[metadata]\nname = shop\n",
            "shop/__init__.py": "",
            "shop/management/__init__.py": "",
            "shop/management/commands/__init__.py": "",
            "shop/management/commands/sync_rates.py": """
                import requests
                from django.core.management.base import BaseCommand

                from shop import rates


                class Command(BaseCommand):
                    def handle(self, *args, **options):
                        requests.get("https://api.example.com/ping")
                        rates.download("https://api.example.com/rates")
                        rates.shared("https://api.example.com/shared")
                        rates.refresh.delay("https://api.example.com/refresh")
                """,
            "shop/rates.py": """
                import requests
                from celery import shared_task


                def download(url):
                    return requests.get(url)


                def shared(url):
                    return requests.get(url)


                @shared_task
                def refresh(url):
                    return requests.get(url)
                """,
            "shop/views.py": """
                from shop import rates


                def rates_view(request):
                    return rates.shared(request.GET["url"])
                """,
        },
    )
    get = "CDJ201 requests.get() has no timeout and can hang forever; pass timeout=<seconds>"
    assert findings_in(root, "shop/management/commands/sync_rates.py", frozenset({"CDJ201"})) == []
    assert findings_in(root, "shop/rates.py", frozenset({"CDJ201"})) == [(10, 11, get), (15, 11, get)]


INVOKE_TASKS = """
    import requests
    from {module} import task


    @task
    def load_online_fixtures(context):
        requests.get("https://example.com/fixtures.zip")


    @task(help={{"url": "where from"}})
    def download(context, url):
        requests.get(url)


    def helper(url):
        requests.get(url)
    """


@pytest.mark.parametrize("module", ["invoke", "fabric", "invoke.tasks"])
def test_an_invoke_or_fabric_task_is_a_command_an_operator_types(module: str) -> None:
    source = textwrap.dedent(INVOKE_TASKS.format(module=module))
    findings = check_source(source, "tasks.py", all_codes_settings(), strict=True)
    assert [(f.line, f.col, f.code) for f in findings if f.code.startswith("CDJ2")] == [(17, 4, "CDJ201")]


def test_a_celery_task_named_like_an_invoke_task_is_reported() -> None:
    source = textwrap.dedent(INVOKE_TASKS.format(module="celery")).replace("(context", "(payload")
    findings = check_source(source, "tasks.py", all_codes_settings(), strict=True)
    assert [(f.line, f.col, f.code) for f in findings if f.code.startswith("CDJ2")] == [
        (8, 4, "CDJ201"), (13, 4, "CDJ201"), (17, 4, "CDJ201")
    ]
