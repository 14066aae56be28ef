"""The one table of the plugin's ``cdj-*`` options.

From :data:`OPTIONS` come the flake8 options (command line and ``[flake8]`` in ``setup.cfg``,
``tox.ini`` or ``.flake8``), the keys of ``[tool.flake8-celery-django]`` in ``pyproject.toml`` and
the flags of the ``check`` and ``fix`` commands, so an option is valid in every place or in none.
Where several places set an option the command line wins, then flake8's configuration, then
``pyproject.toml``, then the default of :class:`~flake8_celery_django.settings.Settings`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from flake8_celery_django.settings import (
    Settings,
    SettingsError,
    check_selection,
    enabled_from_flake8,
    parse_bool,
    parse_names,
    parse_folder,
    parse_timeout,
)


def _flag(name: str, value: object) -> bool:
    return parse_bool(name, value)


def _negated_flag(name: str, value: object) -> bool:
    return not parse_bool(name, value)


def _existing_folder(name: str, value: object) -> str | None:
    return parse_folder(name, value, must_exist=True)


def _folder(name: str, value: object) -> str | None:
    return parse_folder(name, value, must_exist=False)


class Option(NamedTuple):
    """One ``cdj-*`` option: its name everywhere, the Settings field it sets and how its text is read."""

    name: str
    field: str
    help: str
    parse: Callable[[str, object], object]
    metavar: str | None = None  # None: a flag, which takes no value on the command line
    # A folder: relative to the configuration file that names it (or to the current folder).
    is_folder: bool = False

    @property
    def is_flag(self) -> bool:
        return self.metavar is None

    @property
    def flag(self) -> str:
        return "--" + self.name

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option(
        "cdj-atomic-requests",
        "atomic_requests",
        "The project runs with ATOMIC_REQUESTS = True: a task sent from a view is sent inside a "
        "transaction (CDJ501). Default: what the project's settings module says; false in a config file "
        "overrides it.",
        _flag,
    ),
    Option(
        "cdj-default-timeout",
        "default_timeout",
        "Timeout, in seconds, that `flake8-celery-django fix` adds to HTTP calls (CDJ201, CDJ202); default 30.",
        parse_timeout,
        "SECONDS",
    ),
    Option(
        "cdj-on-commit-tasks",
        "on_commit_tasks",
        "Comma-separated tasks whose class already sends them from transaction.on_commit (a "
        "TransactionAwareTask-style base): `mail_send_task` or `app.tasks.mail_send_task`; "
        "CDJ501-CDJ503 and CDJ506 do not report them.",
        parse_names,
        "NAMES",
    ),
    Option(
        "cdj-prefer-delay-on-commit",
        "prefer_delay_on_commit",
        "`flake8-celery-django fix` rewrites task.delay(...) to task.delay_on_commit(...) (Celery >= 5.4) "
        "instead of wrapping it in transaction.on_commit.",
        _flag,
    ),
    Option(
        "cdj-project-root",
        "project_root",
        "The project's root folder for the project index (default: the nearest folder above the checked "
        "file holding pyproject.toml, setup.cfg, setup.py, tox.ini, .flake8, manage.py or .git).",
        _existing_folder,
        "PATH",
        is_folder=True,
    ),
    Option(
        "cdj-cache-dir",
        "cache_dir",
        "Where the project index and the results of `check` are cached (default: .cdj_cache in the "
        "project root).",
        _folder,
        "PATH",
        is_folder=True,
    ),
    Option(
        "cdj-no-project-index",
        "project_index",
        "Do not read the rest of the project: every file is judged on its own.",
        _negated_flag,
    ),
)

BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}
PREFIX = "cdj-"


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
    """Declare every option to flake8; an option nobody set stays ``None`` (pyproject may set it)."""
    for option in OPTIONS:
        extra: dict[str, Any] = {"action": ConfigFlag} if option.is_flag else {"metavar": option.metavar}
        if option.is_folder:
            extra["normalize_paths"] = True
        manager.add_option(
            option.flag, default=None, parse_from_config=True, help=f"{option.help} (flake8-celery-django)", **extra
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The same options as flags of a command (``check``, ``fix``); unset ones stay ``None``."""
    group = parser.add_argument_group("flake8-celery-django options (also in setup.cfg and pyproject.toml)")
    for option in OPTIONS:
        if option.is_flag:
            group.add_argument(option.flag, dest=option.dest, action="store_true", default=None, help=option.help)
        else:
            group.add_argument(option.flag, dest=option.dest, metavar=option.metavar, default=None, help=option.help)


def unknown_keys(keys: Sequence[str]) -> list[str]:
    """The ``cdj-*`` keys (``-`` or ``_``) among ``keys`` that name no option."""
    return [key for key in keys if key.replace("_", "-").startswith(PREFIX) and key.replace("_", "-") not in BY_NAME]


def settings_values(said: Mapping[str, object], where: Callable[[Option], str]) -> dict[str, Any]:
    """Settings fields from the options someone set (``said``: option name -> raw value, never None)."""
    return {BY_NAME[name].field: BY_NAME[name].parse(where(BY_NAME[name]), value) for name, value in said.items()}


def said_in(namespace: argparse.Namespace) -> dict[str, object]:
    """The options set in an argparse or flake8 namespace (left ``None`` when nobody set them)."""
    found: dict[str, object] = {}
    for option in OPTIONS:
        value = getattr(namespace, option.dest, None)
        if value is not None:
            found[option.name] = value
    return found


def from_flake8(
    options: argparse.Namespace, pyproject: Mapping[str, object] | None = None, pyproject_path: str = ""
) -> Settings:
    """The settings of a run: flake8's selection and options, over the ``cdj-*`` keys of ``pyproject``."""
    check_selection(options)
    from_pyproject = {name: value for name, value in (pyproject or {}).items() if name in BY_NAME}
    for name, value in from_pyproject.items():
        if BY_NAME[name].is_folder:
            if not isinstance(value, str):
                raise SettingsError(f"{pyproject_path}: {name} takes a path, not {value!r}")
            if value.strip():
                from_pyproject[name] = os.path.join(os.path.dirname(pyproject_path), value.strip())
    values = settings_values(from_pyproject, lambda option: f"{pyproject_path}: {option.name}")
    values.update(settings_values(said_in(options), lambda option: option.flag))
    return replace(Settings(enabled=enabled_from_flake8(options)), **values)


class ConfigFiles(NamedTuple):
    """Which configuration files flake8 reads: ``--config``, ``--append-config`` and ``--isolated``."""

    config: str | None = None
    append_config: tuple[str, ...] = ()
    isolated: bool = False


def flake8_invocation(argv: Sequence[str]) -> ConfigFiles:
    """The configuration files of a flake8 command line (flake8 keeps them out of its options)."""
    from flake8.options.parse_args import options as flake8_option_definitions

    known, _ = flake8_option_definitions.stage1_arg_parser().parse_known_args(list(argv))
    return ConfigFiles(known.config, tuple(known.append_config or ()), bool(known.isolated))


def check_flake8_config(files: ConfigFiles) -> None:
    """A ``cdj-*`` key in flake8's configuration that names no option is an error, as in pyproject.toml."""
    import configparser

    from flake8.options.config import load_config

    try:
        config, _ = load_config(files.config, list(files.append_config), isolated=files.isolated)
    except (configparser.Error, OSError, UnicodeDecodeError, ValueError):
        return  # flake8 reports an unreadable configuration itself
    if config.has_section("flake8"):
        unknown = unknown_keys(list(config["flake8"]))
        if unknown:
            raise SettingsError(
                f"unknown option {unknown[0]!r} in flake8's configuration; known: " + ", ".join(BY_NAME)
            )
