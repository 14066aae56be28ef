"""The plugin's settings, read from flake8's options (command line, setup.cfg, tox.ini, .flake8)."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flake8_celery_django.registry import registered_rules

DEFAULT_TIMEOUT = 30.0


class SettingsError(ValueError):
    """A bad option value; the message is one line that names the option and what it accepts."""


@dataclass(frozen=True, slots=True)
class Settings:
    enabled: frozenset[str] = field(
        default_factory=lambda: frozenset(code for code, rule in registered_rules().items() if rule.default_enabled)
    )
    # None: as the project's settings module says (ATOMIC_REQUESTS), off when it says nothing.
    atomic_requests: bool | None = None
    default_timeout: float = DEFAULT_TIMEOUT
    prefer_delay_on_commit: bool = False
    on_commit_tasks: frozenset[str] = frozenset()
    # The project index: on unless turned off; its root and cache folder when not the defaults.
    project_index: bool = True
    project_root: str | None = None
    cache_dir: str | None = None


def parse_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} takes true or false, not {value!r}")


def _optional_bool(name: str, value: object) -> bool | None:
    return None if value is None else parse_bool(name, value)


def parse_folder(name: str, value: object, must_exist: bool) -> str | None:
    """A folder path (None when empty); an existing non-folder, or a missing root, is an error."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if must_exist and not os.path.isdir(text):
        raise SettingsError(f"{name} takes an existing folder, not {text!r}")
    if os.path.exists(text) and not os.path.isdir(text):
        raise SettingsError(f"{name} takes a folder, and {text!r} is a file")
    return os.path.abspath(text)


def parse_timeout(name: str, value: object) -> float:
    try:
        seconds = float(str(value).strip())
    except ValueError:
        raise SettingsError(f"{name} takes a number of seconds, not {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"{name} takes a positive number of seconds, not {value!r}")
    return seconds


def _split(value: object) -> list[str]:
    """Items of a comma- or space-separated string, or of a list of them."""
    items: Iterable[object] = value if isinstance(value, (list, tuple)) else str(value).replace(",", " ").split()
    return [text for text in (str(item).strip() for item in items) if text]


def split_codes(value: object) -> list[str]:
    """Codes from a comma- or space-separated string, or a list of them."""
    return [item.upper() for item in _split(value)]


def split_names(value: object) -> frozenset[str]:
    """Names from a comma- or space-separated string, or a list of them, case kept."""
    return frozenset(_split(value))


def check_codes(option: str, codes: Sequence[str]) -> None:
    """Reject ``CDJ`` codes and prefixes that match no rule (a typo would silently select nothing)."""
    for code in codes:
        if code.startswith("CDJ") and not any(known.startswith(code) for known in registered_rules()):
            raise SettingsError(f"{option}: unknown code {code!r}; `flake8-celery-django rules` lists them")


def enabled_from_flake8(options: argparse.Namespace) -> frozenset[str]:
    """The codes flake8 will report, decided the way flake8 decides (its ``DecisionEngine``)."""
    from flake8.style_guide import Decision, DecisionEngine

    engine = DecisionEngine(options)
    return frozenset(code for code in registered_rules() if engine.decision_for(code) is Decision.Selected)


def per_file_codes(value: object) -> list[str]:
    """The codes of a ``per-file-ignores`` value (``path: CODES`` pairs), as flake8 reads them."""
    from flake8.utils import parse_files_to_codes_mapping

    try:
        mapping = parse_files_to_codes_mapping(value if isinstance(value, (list, tuple)) else str(value))
    except ValueError:
        return []  # flake8 reports a malformed mapping itself
    return [code.strip().upper() for _, codes in mapping for code in codes]


def from_flake8(options: argparse.Namespace) -> Settings:
    for option in ("select", "ignore", "extend_select", "extend_ignore"):
        value = getattr(options, option, None)
        if value:
            check_codes("--" + option.replace("_", "-"), split_codes(value))
    per_file_ignores = getattr(options, "per_file_ignores", None)
    if per_file_ignores:
        check_codes("--per-file-ignores", per_file_codes(per_file_ignores))
    return Settings(
        enabled=enabled_from_flake8(options),
        atomic_requests=_optional_bool("--cdj-atomic-requests", getattr(options, "cdj_atomic_requests", None)),
        default_timeout=parse_timeout(
            "--cdj-default-timeout", getattr(options, "cdj_default_timeout", DEFAULT_TIMEOUT)
        ),
        prefer_delay_on_commit=parse_bool(
            "--cdj-prefer-delay-on-commit", getattr(options, "cdj_prefer_delay_on_commit", False)
        ),
        on_commit_tasks=split_names(getattr(options, "cdj_on_commit_tasks", "") or ""),
        project_index=not parse_bool("--cdj-no-project-index", getattr(options, "cdj_no_project_index", False)),
        project_root=parse_folder("--cdj-project-root", getattr(options, "cdj_project_root", None), must_exist=True),
        cache_dir=parse_folder("--cdj-cache-dir", getattr(options, "cdj_cache_dir", None), must_exist=False),
    )


class ConfigFlag(argparse.Action):
    """A flag on the command line (it takes no value) that a config file sets to true or false.

    Not ``store_true``: flake8 would read a bad value in a config file with ``getboolean`` and stop
    with a traceback; with this action the text reaches :func:`parse_bool`, which names the option.
    """

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, True)


def register_flake8_options(manager: Any) -> None:
    manager.add_option(
        "--cdj-atomic-requests",
        action=ConfigFlag,
        default=None,
        parse_from_config=True,
        help="The project runs with ATOMIC_REQUESTS = True: a task sent from a view is sent "
        "inside a transaction (CDJ501). Default: what the project's settings module says; "
        "false in a config file overrides it. (flake8-celery-django)",
    )
    manager.add_option(
        "--cdj-default-timeout",
        default=str(DEFAULT_TIMEOUT),
        parse_from_config=True,
        metavar="SECONDS",
        help="Timeout, in seconds, that `flake8-celery-django fix` adds to HTTP calls "
        "(CDJ201, CDJ202). Default: %(default)s. (flake8-celery-django)",
    )
    manager.add_option(
        "--cdj-prefer-delay-on-commit",
        action=ConfigFlag,
        default="false",
        parse_from_config=True,
        help="`flake8-celery-django fix` rewrites task.delay(...) to task.delay_on_commit(...) "
        "(Celery >= 5.4) instead of wrapping it in transaction.on_commit. (flake8-celery-django)",
    )
    manager.add_option(
        "--cdj-on-commit-tasks",
        default="",
        parse_from_config=True,
        metavar="NAMES",
        help="Comma-separated tasks whose class already sends them from transaction.on_commit "
        "(a TransactionAwareTask-style base): `mail_send_task` or `app.tasks.mail_send_task`; "
        "CDJ501-CDJ503 do not report them. (flake8-celery-django)",
    )
    manager.add_option(
        "--cdj-project-root",
        default="",
        parse_from_config=True,
        normalize_paths=True,
        metavar="PATH",
        help="The project's root folder for the project index (default: the nearest folder above "
        "the checked file holding pyproject.toml, setup.cfg, setup.py, tox.ini, .flake8, manage.py "
        "or .git). (flake8-celery-django)",
    )
    manager.add_option(
        "--cdj-cache-dir",
        default="",
        parse_from_config=True,
        normalize_paths=True,
        metavar="PATH",
        help="Where the project index keeps its cache (default: .cdj_cache in the project root). "
        "(flake8-celery-django)",
    )
    manager.add_option(
        "--cdj-no-project-index",
        action=ConfigFlag,
        default="false",
        parse_from_config=True,
        help="Do not read the rest of the project: every file is judged on its own. (flake8-celery-django)",
    )
    off_by_default = [code for code, rule in registered_rules().items() if not rule.default_enabled]
    if off_by_default:
        manager.extend_default_ignore(off_by_default)
