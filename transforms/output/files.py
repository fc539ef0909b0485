"""Paths and atomic writes, local or on any Beam filesystem (gs://): the base of writer.py and spill.py.

Local paths need no Beam: worker processes that write spill files (partitioned.py) never import it.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import uuid

TEMPORARY = ".tmp-"  # infix of files being written: <dir>/.<name>.tmp-<unique>


def join_path(base: str, *parts: str) -> str:
    if "://" not in base:
        return posixpath.join(base, *parts)
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.join(base, *parts)


@contextlib.contextmanager
def atomic(path: str):
    """A handle on a temporary file beside `path`, renamed to `path` when the block succeeds."""
    if "://" not in path:
        directory, name = os.path.split(path)
        os.makedirs(directory or ".", exist_ok=True)
        temporary = os.path.join(directory, f".{name}{TEMPORARY}{os.getpid()}-{uuid.uuid4().hex[:8]}")
        with _removed_on_failure(temporary, _remove_local), open(temporary, "wb") as handle:
            yield handle
        os.replace(temporary, path)  # atomic on one filesystem, and replaces an earlier run's file
        return
    from apache_beam.io.filesystems import FileSystems

    directory, name = posixpath.split(path)
    temporary = join_path(directory, f".{name}{TEMPORARY}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    with _removed_on_failure(temporary, lambda p: FileSystems.delete([p])):
        handle = FileSystems.create(temporary)
        try:
            yield handle
        finally:
            handle.close()
    FileSystems.rename([temporary], [path])


@contextlib.contextmanager
def _removed_on_failure(temporary: str, remove):
    try:
        yield
    except BaseException:
        remove(temporary)
        raise


def _remove_local(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
