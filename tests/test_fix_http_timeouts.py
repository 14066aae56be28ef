"""CDJ201/CDJ202 fixes: before -> after, no-ops, idempotence and re-parsing (in ``check_transformed``)."""

from __future__ import annotations

import pytest

from flake8_celery_django.registry import RULES
from tests.fixing import check_noop, check_transformed, fix


WITHOUT_UNUSED_NOQA = frozenset(RULES) - {"CDJ900"}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            """
            import requests
            requests.get("https://example.com")
            """,
            """
            import requests
            requests.get("https://example.com", timeout=30)
            """,
        ),
        (
            """
            import requests as r
            def f(url):
                return r.post(url, data={"a": 1}).json()
            """,
            """
            import requests as r
            def f(url):
                return r.post(url, data={"a": 1}, timeout=30).json()
            """,
        ),
        (
            """
            import requests
            requests.post(
                "https://example.com",
                json={},
            )
            """,
            """
            import requests
            requests.post(
                "https://example.com",
                json={},
                timeout=30,
            )
            """,
        ),
        (
            """
            import requests
            requests.post(
                "https://example.com",
                json={}
            )
            """,
            """
            import requests
            requests.post(
                "https://example.com",
                json={},
                timeout=30
            )
            """,
        ),
        (
            """
            import requests
            requests.post("https://example.com",
                          json={})  # trailing comment stays
            """,
            """
            import requests
            requests.post("https://example.com",
                          json={},
                          timeout=30)  # trailing comment stays
            """,
        ),
        (
            """
            import requests
            requests.get(
                "https://example.com"
            )
            """,
            """
            import requests
            requests.get(
                "https://example.com",
                timeout=30
            )
            """,
        ),
        (
            """
            from urllib.request import urlopen
            urlopen("https://example.com")
            """,
            """
            from urllib.request import urlopen
            urlopen("https://example.com", timeout=30)
            """,
        ),
        (
            """
            import requests
            class Client:
                def __init__(self):
                    self.session = requests.Session()
                def fetch(self, url):
                    return self.session.get(url)
            """,
            """
            import requests
            class Client:
                def __init__(self):
                    self.session = requests.Session()
                def fetch(self, url):
                    return self.session.get(url, timeout=30)
            """,
        ),
        (
            """
            import requests
            requests.get(requests.get("https://example.com/next").text)
            """,
            """
            import requests
            requests.get(requests.get("https://example.com/next", timeout=30).text, timeout=30)
            """,
        ),
        (
            """
            import requests
            requests.get("https://example.com/é", params={"q": "ü"})
            """,
            """
            import requests
            requests.get("https://example.com/é", params={"q": "ü"}, timeout=30)
            """,
        ),
    ],
)
def test_cdj201_adds_the_default_timeout(before: str, after: str) -> None:
    check_transformed(before, after)


def test_cdj201_uses_the_configured_timeout() -> None:
    check_transformed(
        """
        import requests
        requests.get(url)
        requests.get(url)
        """,
        """
        import requests
        requests.get(url, timeout=2.5)
        requests.get(url, timeout=2.5)
        """,
        default_timeout=2.5,
    )


def test_cdj201_keeps_windows_line_endings() -> None:
    before = "import requests\r\nrequests.get(url)\r\nx = 1\r\n"
    assert fix(before) == "import requests\r\nrequests.get(url, timeout=30)\r\nx = 1\r\n"


@pytest.mark.parametrize(
    "source",
    [
        """
        import requests
        requests.get(url, timeout=5)
        requests.post(url, **kwargs)
        requests.get(url, timeout=settings.TIMEOUT)
        """,
        """
        import requests
        requests.get(url)  # noqa: CDJ201
        requests.get(url)  # noqa
        requests.get(url)  # noqa: CDJ2
        """,
        """
        # flake8: noqa
        import requests
        requests.get(url)
        """,
        """
        import httpx
        httpx.get(url)
        """,
    ],
)
def test_cdj201_no_op(source: str) -> None:
    check_noop(source)


def test_noqa_counts_on_the_reported_line_only_as_in_flake8() -> None:
    check_transformed(
        """
        import requests
        requests.get(
            url,
        )  # noqa: CDJ201 (the finding is on the line of the call's start)
        requests.get(
            url,  # noqa: CDJ201
        )
        requests.get(\"\"\"
        long\"\"\", x)  # noqa: CDJ201 (a string over two lines is one token: both lines count)
        """,
        """
        import requests
        requests.get(
            url,
            timeout=30,
        )  # noqa: CDJ201 (the finding is on the line of the call's start)
        requests.get(
            url,  # noqa: CDJ201
            timeout=30,
        )
        requests.get(\"\"\"
        long\"\"\", x)  # noqa: CDJ201 (a string over two lines is one token: both lines count)
        """,
        enabled=WITHOUT_UNUSED_NOQA,  # CDJ900 would then remove the codes that silenced nothing
    )


def test_noqa_for_another_code_does_not_stop_the_fix() -> None:
    check_transformed(
        """
        import requests
        requests.get(url)  # noqa: CDJ202
        """,
        """
        import requests
        requests.get(url, timeout=30)  # noqa: CDJ202
        """,
        enabled=WITHOUT_UNUSED_NOQA,
    )
    # with CDJ900, the code that silences nothing goes too
    check_transformed(
        """
        import requests
        requests.get(url)  # noqa: CDJ202
        """,
        """
        import requests
        requests.get(url, timeout=30)
        """,
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            """
            import requests
            import httpx
            def f(url):
                requests.get(url, timeout=None)
                httpx.post(url, timeout=None)
                client = httpx.Client(timeout=None)
                client.get(url, timeout=(None))
            """,
            """
            import requests
            import httpx
            def f(url):
                requests.get(url, timeout=30)
                httpx.post(url, timeout=30)
                client = httpx.Client(timeout=30)
                client.get(url, timeout=(30))
            """,
        ),
        (
            """
            import requests
            from urllib.request import urlopen
            urlopen(url, None, None)
            s = requests.Session()
            s.request("GET", url, None, None, None, None, None, None, None)
            """,
            """
            import requests
            from urllib.request import urlopen
            urlopen(url, None, 30)
            s = requests.Session()
            s.request("GET", url, None, None, None, None, None, None, 30)
            """,
        ),
    ],
)
def test_cdj202_replaces_none(before: str, after: str) -> None:
    check_transformed(before, after)


def test_cdj202_no_op() -> None:
    check_noop(
        """
        import httpx
        httpx.get(url, timeout=10.0)
        httpx.get(url, timeout=None)  # noqa: CDJ202
        cache_get(url, timeout=None)
        """
    )


def test_selection_limits_the_fixes() -> None:
    source = "import requests\nrequests.get(url)\nrequests.get(url, timeout=None)\n"
    only_202 = fix(source, enabled=frozenset({"CDJ202"}))
    assert only_202 == "import requests\nrequests.get(url)\nrequests.get(url, timeout=30)\n"


def test_a_call_too_long_with_its_timeout_is_laid_out_one_argument_per_line() -> None:
    check_transformed(
        """
        import requests

        def fetch(session_url, payload, headers):
            response = requests.post(session_url, json=payload, headers=headers)
            return response
        """,
        """
        import requests

        def fetch(session_url, payload, headers):
            response = requests.post(
                session_url,
                json=payload,
                headers=headers,
                timeout=30,
            )
            return response
        """,
    )


def test_a_call_across_lines_too_long_with_its_timeout_is_laid_out_again() -> None:
    # the last aligned line would pass 79 with the timeout; a call that still fits keeps its layout
    check_transformed(
        """
        import requests

        def fetch(url, payload, headers):
            response = requests.post(url, json={"name": payload.name,  # who
                                                "email": payload.email}, headers=headers)
            requests.post(url, json={"name": payload.name, "email": payload.email},
                          headers=headers)
        """,
        """
        import requests

        def fetch(url, payload, headers):
            response = requests.post(
                url,
                json={"name": payload.name,  # who
                      "email": payload.email},
                headers=headers,
                timeout=30,
            )
            requests.post(url, json={"name": payload.name, "email": payload.email},
                          headers=headers, timeout=30)
        """,
    )
