"""Configuration of the ``check`` and ``fix`` commands: the command line, then flake8's configuration,
then ``pyproject.toml``.

flake8's configuration (``setup.cfg``, ``tox.ini``, ``.flake8`` under ``[flake8]``) is read by flake8
itself, so ``select``, ``ignore``, ``extend-select``, ``extend-ignore``, ``per-file-ignores``,
``exclude``, ``extend-exclude``, ``filename`` and the ``cdj-*`` options mean exactly what they mean
to flake8.  ``[tool.flake8-celery-django]`` in the nearest ``pyproject.toml`` fills in what flake8's
configuration leaves unsaid, and the command line overrides both.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from flake8_celery_django.options import BY_NAME, ConfigFiles, check_flake8_config, from_flake8
from flake8_celery_django.settings import (
    Settings,
    SettingsError,
    enabled_from_flake8,
    parse_bool,
    split_codes,
    split_list,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT_TABLE = "flake8-celery-django"
_LOG = logging.getLogger(__name__)

# Keys of flake8's own options that pyproject.toml and the command line accept too -> attribute.
CODE_LISTS = {
    "select": "select",
    "ignore": "ignore",
    "extend-select": "extend_select",
    "extend-ignore": "extend_ignore",
}
PATH_LISTS = {"exclude": "exclude", "extend-exclude": "extend_exclude"}
PYPROJECT_KEYS = frozenset({*CODE_LISTS, *PATH_LISTS, "per-file-ignores", "unsafe-fixes", *BY_NAME})


@dataclass(slots=True)
class FixConfig:
    """Everything ``fix`` needs to decide which files to look at and which findings to fix."""

    options: argparse.Namespace
    settings: Settings
    unsafe_fixes: bool = False
    _per_file: list[tuple[str, list[str]]] = field(default_factory=list)
    _cache: dict[str, Settings] = field(default_factory=dict)

    @property
    def exclude(self) -> list[str]:
        return [*(getattr(self.options, "exclude", None) or []), *(getattr(self.options, "extend_exclude", None) or [])]

    @property
    def line_length(self) -> int:
        value = getattr(self.options, "max_line_length", None)
        return value if isinstance(value, int) and value > 0 else 79

    @property
    def filename_patterns(self) -> list[str]:
        return list(getattr(self.options, "filename", None) or ["*.py"])

    def fingerprint(self) -> str:
        """The settings and per-file-ignores as stable text (for the results cache key)."""
        values = {
            key: sorted(value) if isinstance(value, frozenset) else value
            for key, value in asdict(self.settings).items()
        }
        return json.dumps([values, self._per_file], sort_keys=True, default=str)

    def settings_for(self, path: str) -> Settings:
        """The settings for one file, with flake8's ``per-file-ignores`` applied (longest pattern wins)."""
        from flake8 import utils

        best: tuple[str, list[str]] | None = None
        for pattern, codes in self._per_file:
            if utils.matches_filename(path, patterns=[pattern], log_message="%(path)s %(whether)s", logger=_LOG):
                if best is None or len(pattern) > len(best[0]):
                    best = (pattern, codes)
        if best is None:
            return self.settings
        found = self._cache.get(best[0])
        if found is None:
            options = copy.deepcopy(self.options)
            options.extend_ignore = [*(options.extend_ignore or []), *best[1]]
            found = self._cache[best[0]] = replace(self.settings, enabled=enabled_from_flake8(options))
        return found


def find_pyproject(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has our table, with the table."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                raise SettingsError(f"{candidate}: cannot read it: {error}") from None
            table = data.get("tool", {}).get(PYPROJECT_TABLE)
            if table is not None:
                if not isinstance(table, dict):
                    raise SettingsError(f"{candidate}: [tool.{PYPROJECT_TABLE}] must be a table")
                return candidate, table
    return None


def _string_list(where: str, key: str, value: object) -> list[str]:
    if isinstance(value, str) or isinstance(value, list) and all(isinstance(item, str) for item in value):
        return split_list(value)
    raise SettingsError(f"{where}: {key} takes a list of strings, not {value!r}")


def check_pyproject_keys(table: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(table) - PYPROJECT_KEYS)
    if unknown:
        raise SettingsError(
            f"{where}: unknown key {unknown[0]!r} in [tool.{PYPROJECT_TABLE}]; known keys: "
            + ", ".join(sorted(PYPROJECT_KEYS))
        )


def pyproject_table(start: Path, isolated: bool) -> tuple[str, dict[str, Any]]:
    """The path and the checked ``[tool.flake8-celery-django]`` table of the nearest pyproject.toml."""
    found = None if isolated else find_pyproject(start)
    if found is None:
        return "", {}
    where = str(found[0])
    check_pyproject_keys(found[1], where)
    return where, found[1]


def apply_pyproject(options: argparse.Namespace, table: Mapping[str, Any], where: str) -> None:
    """Copy the table's selection, exclusions and per-file-ignores onto flake8's options where
    flake8's configuration says nothing (the ``cdj-*`` keys are read by :func:`from_flake8`)."""
    from flake8 import defaults, utils

    for key, attribute in CODE_LISTS.items():
        if key in table and getattr(options, attribute, None) is None:
            setattr(options, attribute, split_codes(_string_list(where, key, table[key])))
    for key, attribute in PATH_LISTS.items():
        if key not in table:
            continue
        current = getattr(options, attribute, None)
        unsaid = not current or (key == "exclude" and current == utils.normalize_paths(list(defaults.EXCLUDE)))
        if unsaid:
            paths = _string_list(where, key, table[key])
            setattr(options, attribute, utils.normalize_paths(paths, str(Path(where).parent)))
    if "per-file-ignores" in table and not getattr(options, "per_file_ignores", None):
        mapping = table["per-file-ignores"]
        if not isinstance(mapping, dict):
            raise SettingsError(f"{where}: per-file-ignores takes a table of pattern = codes")
        options.per_file_ignores = "\n".join(
            f"{pattern}:{','.join(_string_list(where, 'per-file-ignores', codes))}"
            for pattern, codes in mapping.items()
        )


def apply_command_line(options: argparse.Namespace, given: Mapping[str, object]) -> None:
    """Put the command line's selection, exclusions and ``cdj-*`` values over everything else."""
    from flake8 import utils

    if given.get("select") is not None:
        options.select = split_codes(given["select"])
        options.extend_select = []
    extending = (("ignore", "extend_ignore"), ("extend-select", "extend_select"), ("extend-ignore", "extend_ignore"))
    for key, attribute in extending:
        if given.get(key) is not None:
            setattr(options, attribute, [*(getattr(options, attribute, None) or []), *split_codes(given[key])])
    for key, attribute in PATH_LISTS.items():
        value = given.get(key)
        if value is not None:
            setattr(options, attribute, utils.normalize_paths(split_list(value)))
    for name, option in BY_NAME.items():
        if given.get(name) is not None:
            setattr(options, option.dest, given[name])


def flake8_options(config: str | None, isolated: bool) -> argparse.Namespace:
    """flake8's options as flake8 itself reads them from its configuration files."""
    import configparser

    from flake8.exceptions import ExecutionError
    from flake8.options.parse_args import parse_args

    argv: list[str] = []
    if config is not None:
        argv += ["--config", config]
    if isolated:
        argv.append("--isolated")
    try:
        _plugins, options = parse_args(argv)
    except SettingsError:
        raise
    except (ExecutionError, configparser.Error, OSError, UnicodeDecodeError, ValueError) as error:
        # a missing, unreadable or malformed configuration file: one line and exit code 2
        raise SettingsError("configuration: " + " ".join(str(error).split())) from None
    assert isinstance(options, argparse.Namespace)
    return options


def load(
    *,
    config: str | None = None,
    isolated: bool = False,
    command_line: Mapping[str, object] | None = None,
    start: Path | None = None,
) -> FixConfig:
    """The configuration of one ``check`` or ``fix`` run; raises :class:`SettingsError` on a bad value.

    ``command_line`` maps option names (``select``, ``extend-exclude``, ``cdj-default-timeout``,
    ``unsafe-fixes``, ...) to what the command line gave; ``None`` means not given.
    """
    given = dict(command_line or {})
    options = flake8_options(config, isolated)
    check_flake8_config(ConfigFiles(config, (), isolated))
    where, table = pyproject_table(start or Path.cwd(), isolated)
    apply_pyproject(options, table, where)
    apply_command_line(options, given)
    from flake8 import utils

    per_file = utils.parse_files_to_codes_mapping(getattr(options, "per_file_ignores", "") or "")
    per_file = [(utils.normalize_path(pattern), codes) for pattern, codes in per_file]
    unsafe = given.get("unsafe-fixes")
    if unsafe is None:
        unsafe = parse_bool(f"{where}: unsafe-fixes", table.get("unsafe-fixes", False))
    return FixConfig(
        options=options,
        settings=from_flake8(options, table, where),
        unsafe_fixes=bool(unsafe),
        _per_file=per_file,
    )
