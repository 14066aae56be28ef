"""Configuration of the ``fix`` command: flake8's own options, then ``pyproject.toml``, then the command line.

flake8's configuration (``setup.cfg``, ``tox.ini``, ``.flake8`` under ``[flake8]``) is read by flake8
itself, so ``select``, ``ignore``, ``extend-select``, ``extend-ignore``, ``per-file-ignores``,
``exclude``, ``extend-exclude``, ``filename`` and the ``cdj-*`` options mean exactly what they mean
to flake8.  ``[tool.flake8-celery-django]`` in the nearest ``pyproject.toml`` overrides them, and
the command line overrides both.
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flake8_celery_django.settings import (
    Settings,
    SettingsError,
    from_flake8,
    parse_bool,
    parse_timeout,
    split_codes,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT_TABLE = "flake8-celery-django"
_LOG = logging.getLogger(__name__)

# pyproject key -> flake8 option attribute (code lists)
_CODE_LISTS = {
    "select": "select",
    "ignore": "ignore",
    "extend-select": "extend_select",
    "extend-ignore": "extend_ignore",
}
_PATH_LISTS = {"exclude": "exclude", "extend-exclude": "extend_exclude"}
_FLAGS = {
    "cdj-atomic-requests": "cdj_atomic_requests",
    "cdj-prefer-delay-on-commit": "cdj_prefer_delay_on_commit",
    "cdj-no-project-index": "cdj_no_project_index",
}
# pyproject key -> flake8 option attribute (one folder, relative to the pyproject.toml)
_FOLDERS = {"cdj-project-root": "cdj_project_root", "cdj-cache-dir": "cdj_cache_dir"}
PYPROJECT_KEYS = frozenset(
    {*_CODE_LISTS, *_PATH_LISTS, *_FLAGS, *_FOLDERS, "cdj-default-timeout", "per-file-ignores", "unsafe-fixes"}
)


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
            found = self._cache[best[0]] = replace(self.settings, enabled=from_flake8(options).enabled)
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
    if isinstance(value, str):
        return [item.strip() for item in value.replace(",", " ").split() if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value]
    raise SettingsError(f"{where}: {key} takes a list of strings, not {value!r}")


def apply_pyproject(options: argparse.Namespace, table: Mapping[str, Any], where: str) -> bool:
    """Copy the table's values onto flake8's options; returns ``unsafe-fixes``."""
    unknown = sorted(set(table) - PYPROJECT_KEYS)
    if unknown:
        raise SettingsError(
            f"{where}: unknown key {unknown[0]!r} in [tool.{PYPROJECT_TABLE}]; known keys: "
            + ", ".join(sorted(PYPROJECT_KEYS))
        )
    for key, attribute in _CODE_LISTS.items():
        if key in table:
            setattr(options, attribute, split_codes(_string_list(where, key, table[key])))
    for key, attribute in _PATH_LISTS.items():
        if key in table:
            from flake8 import utils

            paths = _string_list(where, key, table[key])
            setattr(options, attribute, utils.normalize_paths(paths, str(Path(where).parent)))
    if "per-file-ignores" in table:
        mapping = table["per-file-ignores"]
        if not isinstance(mapping, dict):
            raise SettingsError(f"{where}: per-file-ignores takes a table of pattern = codes")
        options.per_file_ignores = "\n".join(
            f"{pattern}:{','.join(_string_list(where, 'per-file-ignores', codes))}"
            for pattern, codes in mapping.items()
        )
    for key, attribute in _FLAGS.items():
        if key in table:
            setattr(options, attribute, parse_bool(f"{where}: {key}", table[key]))
    for key, attribute in _FOLDERS.items():
        if key in table:
            value = table[key]
            if not isinstance(value, str):
                raise SettingsError(f"{where}: {key} takes a path, not {value!r}")
            setattr(options, attribute, str(Path(where).parent / value) if value else "")
    if "cdj-default-timeout" in table:
        options.cdj_default_timeout = parse_timeout(f"{where}: cdj-default-timeout", table["cdj-default-timeout"])
    return parse_bool(f"{where}: unsafe-fixes", table.get("unsafe-fixes", False))


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
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    unsafe_fixes: bool | None = None,
    default_timeout: str | None = None,
    prefer_delay_on_commit: bool | None = None,
    project_root: str | None = None,
    cache_dir: str | None = None,
    no_project_index: bool | None = None,
    start: Path | None = None,
) -> FixConfig:
    """The configuration for one ``fix`` run; raises :class:`SettingsError` on a bad value."""
    options = flake8_options(config, isolated)
    pyproject_unsafe = False
    if not isolated:
        found = find_pyproject(start or Path.cwd())
        if found is not None:
            pyproject_unsafe = apply_pyproject(options, found[1], str(found[0]))
    if select is not None:
        options.select = list(select)
        options.extend_select = []
    if ignore is not None:
        options.extend_ignore = [*(options.extend_ignore or []), *ignore]
    if default_timeout is not None:
        options.cdj_default_timeout = default_timeout
    if prefer_delay_on_commit:
        options.cdj_prefer_delay_on_commit = True
    if project_root is not None:
        options.cdj_project_root = project_root
    if cache_dir is not None:
        options.cdj_cache_dir = cache_dir
    if no_project_index:
        options.cdj_no_project_index = True
    from flake8 import utils

    per_file = utils.parse_files_to_codes_mapping(getattr(options, "per_file_ignores", "") or "")
    per_file = [(utils.normalize_path(pattern), codes) for pattern, codes in per_file]
    return FixConfig(
        options=options,
        settings=from_flake8(options),
        unsafe_fixes=pyproject_unsafe if unsafe_fixes is None else unsafe_fixes,
        _per_file=per_file,
    )
