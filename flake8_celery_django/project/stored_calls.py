"""The call sites of the cache, in groups a question can read one at a time.

Most runs ask about a few callees (CDJ201 asks who calls a function with an HTTP call in it), and a
project has tens of thousands of call sites: reading them all cost more than the rest of a warm
run. So the calls file holds :data:`GROUPS` JSON texts, one a line, each the call sites of the
callees whose name falls in that group (:func:`group_of`), after a header line that names the
format and the fingerprint and gives each group's length in bytes. A question reads the header and
its one group; every group is checked as it is read, like the rest of the cache.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable
from typing import Any

from flake8_celery_django.project.facts import CallSiteFact
from flake8_celery_django.project.serialize import site_from_json, site_to_json

GROUPS = 64
# The header is a few hundred bytes; a longer first line is not one this module wrote.
MAX_HEADER = 64 * 1024
# Nor is a group larger than the largest cache file the index reads.
MAX_GROUP = 512 * 1024 * 1024


def group_of(callee: str) -> int:
    """The group of ``callee``'s call sites: the same in every process (unlike ``hash``)."""
    return zlib.crc32(callee.encode("utf-8", "surrogateescape")) % GROUPS


def calls_text(calls: Iterable[tuple[str, CallSiteFact]], version: str, fingerprint: str) -> str:
    """The calls file: the header line, then one line a group (ASCII only, so lengths are bytes)."""
    groups: list[dict[str, list[list[object]]]] = [{} for _ in range(GROUPS)]
    for callee, site in calls:
        groups[group_of(callee)].setdefault(callee, []).append(site_to_json(site))
    lines = [json.dumps(group, separators=(",", ":"), ensure_ascii=True) + "\n" for group in groups]
    header = {"format": version, "fingerprint": fingerprint, "lengths": [len(line) for line in lines]}
    return json.dumps(header, separators=(",", ":"), ensure_ascii=True) + "\n" + "".join(lines)


class StoredCalls:
    """The call sites in one calls file, read a group at a time and kept once read."""

    def __init__(self, path: str, version: str, fingerprint: str) -> None:
        self.path = path
        self.version = version
        self.fingerprint = fingerprint
        self._groups: dict[int, dict[str, Any]] = {}

    def sites(self, callee: str) -> list[CallSiteFact] | None:
        """Every call of ``callee``; None when the file is missing, of other files, or not valid."""
        number = group_of(callee)
        group = self._groups.get(number)
        if group is None:
            found = self._read(number)
            if found is None:
                return None
            group = self._groups[number] = found
        rows = group.get(callee, [])
        try:
            if type(rows) is not list:
                raise ValueError("not a list of call sites")
            return [site_from_json(row) for row in rows]
        except (ValueError, TypeError, RecursionError):
            return None

    def _read(self, number: int) -> dict[str, Any] | None:
        try:
            with open(self.path, "rb") as stream:
                header = json.loads(stream.readline(MAX_HEADER))
                if (
                    type(header) is not dict
                    or header.get("format") != self.version
                    or header.get("fingerprint") != self.fingerprint
                ):
                    return None
                lengths = header.get("lengths")
                if (
                    type(lengths) is not list
                    or len(lengths) != GROUPS
                    or not all(type(length) is int and 0 <= length <= MAX_GROUP for length in lengths)
                ):
                    return None
                stream.seek(sum(lengths[:number]), os.SEEK_CUR)
                text = stream.read(lengths[number])
                if len(text) != lengths[number]:
                    return None
                group = json.loads(text)
        except (OSError, ValueError, OverflowError, RecursionError, MemoryError):
            return None
        return group if type(group) is dict else None
