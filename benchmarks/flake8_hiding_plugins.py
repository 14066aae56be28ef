"""Run flake8 with some installed plugins hidden from it, for comparing runs with and without them.

    HIDE_PLUGINS=flake8-celery-django,flake8-bugbear python benchmarks/flake8_hiding_plugins.py ARGS
    ONLY_PLUGINS=flake8-celery-django python benchmarks/flake8_hiding_plugins.py ARGS

Same interpreter, same installed packages, same files: the only difference between two runs is
which entry points flake8's plugin finder reports (a hidden plugin is never imported). Every run
of a comparison goes through this script, so its own cost is the same on both sides. ``HIDE_PLUGINS``
names distributions whose checkers flake8 does not see; ``ONLY_PLUGINS`` keeps only the checkers of
the distributions named (``pycodestyle`` and ``pyflakes`` are distributions here too; flake8's
report formatters are always kept). The filter is installed when this module is imported, so it
also holds in worker processes that start by importing it (``spawn``/``forkserver``).

With ``PEAK_MEMORY_FILE=PATH`` the process writes its peak resident memory (``VmHWM`` of
``/proc/self/status``, in kB) to ``PATH`` when it exits. (``ru_maxrss`` is no use here: Linux
carries the parent's peak across ``fork``/``exec`` into it.)
"""

from __future__ import annotations

import atexit
import os
import re
from collections.abc import Iterator
from typing import Any

from flake8.main.cli import main
from flake8.plugins import finder


def _names(variable: str) -> frozenset[str]:
    return frozenset(
        re.sub(r"[-_.]+", "-", name).lower().strip() for name in os.environ.get(variable, "").split(",") if name.strip()
    )


HIDDEN = _names("HIDE_PLUGINS")
ONLY = _names("ONLY_PLUGINS")
_find_importlib_plugins = finder._find_importlib_plugins


def _visible_plugins() -> Iterator[Any]:
    for plugin in _find_importlib_plugins():
        name = re.sub(r"[-_.]+", "-", plugin.package).lower()
        if plugin.entry_point.group == "flake8.extension":
            if name in HIDDEN or (ONLY and name not in ONLY):
                continue
        yield plugin


finder._find_importlib_plugins = _visible_plugins


def _write_peak_memory(path: str) -> None:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                with open(path, "w", encoding="ascii") as out:
                    out.write(line.split()[1])


if __name__ == "__main__" and os.environ.get("PEAK_MEMORY_FILE"):
    atexit.register(_write_peak_memory, os.environ["PEAK_MEMORY_FILE"])

if __name__ == "__main__":
    raise SystemExit(main())
