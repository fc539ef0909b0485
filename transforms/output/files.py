"""Paths and atomic writes, local or on any Beam filesystem (gs://): the base of writer.py and spill.py."""

from __future__ import annotations

import contextlib
import os
import posixpath
import uuid

from apache_beam.io.filesystems import FileSystems

TEMPORARY = ".tmp-"  # infix of files being written: <dir>/.<name>.tmp-<unique>


def join_path(base: str, *parts: str) -> str:
    return FileSystems.join(base, *parts) if "://" in base else posixpath.join(base, *parts)


@contextlib.contextmanager
def atomic(path: str):
    """A handle on a temporary file beside `path`, renamed to `path` when the block succeeds."""
    directory, name = posixpath.split(path) if "://" in path else os.path.split(path)
    temporary = join_path(directory, f".{name}{TEMPORARY}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    handle = FileSystems.create(temporary)
    try:
        yield handle
        handle.close()
    except BaseException:
        handle.close()
        FileSystems.delete([temporary])
        raise
    if "://" not in path:
        os.replace(temporary, path)  # atomic on one filesystem, and replaces an earlier run's file
    else:
        FileSystems.rename([temporary], [path])
