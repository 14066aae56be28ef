"""Reading a file for ``fix`` and writing the fixed text back without ever losing anything.

A symbolic link is followed: its target is rewritten and the link stays a link.  A file nobody may
write is reported, not replaced.  The new text goes to a temporary file beside the target, which
takes the target's mode (and owner, where allowed) before it replaces it in one rename; when the
owner cannot be kept the target is rewritten in place instead.  A file that changed on disk since
it was read is left alone: the fix was computed from text that is no longer there.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass


class WriteRefused(Exception):
    """The file was left as it is on disk; the message says why."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A file's bytes as read, and the real file behind the name (a link's target)."""

    name: str
    target: str
    data: bytes


def read(name: str) -> Snapshot:
    """Read ``name`` (through any symbolic links); ``OSError`` when it cannot be read."""
    target = os.path.realpath(name)
    with open(target, "rb") as stream:
        return Snapshot(name, target, stream.read())


def _writable(target: str, status: os.stat_result) -> bool:
    if not status.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return False  # read-only for everyone, root included: someone meant it
    return os.access(target, os.W_OK)


def write(snapshot: Snapshot, data: bytes) -> None:
    """Replace the file's content with ``data``; :class:`WriteRefused` leaves it untouched."""
    target = snapshot.target
    try:
        status = os.stat(target)
    except OSError as error:
        raise WriteRefused(f"it is gone: {error.strerror}") from None
    if not _writable(target, status):
        raise WriteRefused("it is read-only")
    try:
        with open(target, "rb") as stream:
            current = stream.read()
    except OSError as error:
        raise WriteRefused(f"cannot read it again: {error.strerror}") from None
    if current != snapshot.data:
        raise WriteRefused("it changed on disk while it was being fixed")
    try:
        if not _replace(target, data, status):
            _overwrite(target, data)
    except OSError as error:
        raise WriteRefused(f"cannot write it: {error.strerror}") from None


def _replace(target: str, data: bytes, status: os.stat_result) -> bool:
    """A temporary file with the target's mode and owner, renamed over it; False when the owner cannot be kept."""
    directory = os.path.dirname(target)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, stat.S_IMODE(status.st_mode))
        if hasattr(os, "chown") and (status.st_uid, status.st_gid) != _owner(temporary):
            try:
                os.chown(temporary, status.st_uid, status.st_gid)
            except PermissionError:
                os.unlink(temporary)
                return False
        os.replace(temporary, target)
        return True
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _owner(path: str) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_uid, status.st_gid


def _overwrite(target: str, data: bytes) -> None:
    """Rewrite the target in place: its inode, owner and mode stay as they are."""
    with open(target, "r+b") as stream:
        stream.write(data)
        stream.truncate()
        stream.flush()
        os.fsync(stream.fileno())
