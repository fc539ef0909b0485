"""Freed memory goes back to the system while a local run works (glibc's malloc; elsewhere a no-op).

The in-process runner keeps each stage's output until the stages that read it have run, then
frees it. glibc keeps what was freed in its arenas (up to eight per core, one per thread that
allocated) rather than returning it, so without this the process's resident size follows the
largest stage that ever ran in each arena, not what is alive. Fewer arenas and a periodic
malloc_trim(0) give the pages back. Dask's nanny does the same for its workers
(MALLOC_TRIM_THRESHOLD_); benchmarks/README.md has the figures.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from typing import Optional

M_ARENA_MAX = -8  # mallopt parameter, malloc.h
ARENAS = 2
TRIM_SECONDS = 1.0


def glibc() -> Optional[ctypes.CDLL]:
    """The C library, when it has glibc's malloc_trim and mallopt (not musl, not macOS)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


class ReturnedMemory:
    """While open: at most ARENAS malloc arenas, and a thread that trims them every `seconds`.

    The arena limit stays for the rest of the process: glibc fixes it when it first needs one
    arena more. Arenas made before that stay; the runner's threads start after.
    """

    def __init__(self, seconds: float = TRIM_SECONDS, libc=None):
        self._seconds = seconds
        self._libc = libc if libc is not None else glibc()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.trims = 0

    def __enter__(self) -> "ReturnedMemory":
        if self._libc is not None:
            self._libc.mallopt(M_ARENA_MAX, ARENAS)
            self._thread = threading.Thread(target=self._trim_until_closed, name="filegraph-malloc-trim",
                                            daemon=True)
            self._thread.start()
        return self

    def _trim_until_closed(self) -> None:
        while not self._stop.wait(self._seconds):
            self._libc.malloc_trim(0)
            self.trims += 1

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
