"""The plugin's settings, read from flake8's options (command line, setup.cfg, tox.ini, .flake8)."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

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


def split_list(value: object) -> list[str]:
    """Items of a comma- or space-separated string (read as flake8 reads its lists), or of a list of them."""
    from flake8.utils import parse_comma_separated_list

    if isinstance(value, (list, tuple)):
        return [text for text in (str(item).strip() for item in value) if text]
    items: list[str] = parse_comma_separated_list(str(value))
    return items


def split_codes(value: object) -> list[str]:
    """Codes from a comma- or space-separated string, or a list of them."""
    return [item.upper() for item in split_list(value)]


def parse_names(name: str, value: object) -> frozenset[str]:
    """Names from a comma- or space-separated string, or a list of them, case kept."""
    if not isinstance(value, (str, list, tuple)):
        raise SettingsError(f"{name} takes a list of names, not {value!r}")
    return frozenset(split_list(value))


def check_codes(option: str, codes: Sequence[str]) -> None:
    """Reject ``CDJ`` codes and prefixes that match no rule (a typo would silently select nothing)."""
    for code in codes:
        if code.startswith("CDJ") and not any(known.startswith(code) for known in registered_rules()):
            raise SettingsError(f"{option}: unknown code {code!r}; `flake8-celery-django rules` lists them")


def enabled_from_flake8(options: argparse.Namespace) -> frozenset[str]:
    """The codes to report: those flake8 selects (its ``DecisionEngine``), less the rules that are off
    by default unless ``select`` or ``extend-select`` names them by their full code."""
    from flake8.style_guide import Decision, DecisionEngine

    engine = DecisionEngine(options)
    named = {
        *split_codes(getattr(options, "select", None) or ()),
        *split_codes(getattr(options, "extend_select", None) or ()),
    }
    return frozenset(
        code
        for code, rule in registered_rules().items()
        if engine.decision_for(code) is Decision.Selected and (rule.default_enabled or code in named)
    )


def per_file_codes(value: object) -> list[str]:
    """The codes of a ``per-file-ignores`` value (``path: CODES`` pairs), as flake8 reads them."""
    from flake8.utils import parse_files_to_codes_mapping

    try:
        mapping = parse_files_to_codes_mapping(value if isinstance(value, (list, tuple)) else str(value))
    except ValueError:
        return []  # flake8 reports a malformed mapping itself
    return [code.strip().upper() for _, codes in mapping for code in codes]


def check_selection(options: argparse.Namespace) -> None:
    """Reject unknown ``CDJ`` codes in flake8's selection options and ``per-file-ignores``."""
    for option in ("select", "ignore", "extend_select", "extend_ignore"):
        value = getattr(options, option, None)
        if value:
            check_codes("--" + option.replace("_", "-"), split_codes(value))
    per_file_ignores = getattr(options, "per_file_ignores", None)
    if per_file_ignores:
        check_codes("--per-file-ignores", per_file_codes(per_file_ignores))
