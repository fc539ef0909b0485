"""Worker processes on this machine: how they start, and a pool that maps chunks of work over them.

No child is a fork of a Beam worker with its threads and gigabytes. Parser
processes (extract/isolation.py) start from a fork server with the readers
preloaded; the processes of a ChunkPool (scoring, training records) are spawned,
importing only what their work needs, not the readers.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib.machinery
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Deque, Generic, Iterable, Iterator, List, Optional, Tuple, TypeVar

from transforms.signatures import hash64

Item = TypeVar("Item")
Chunk = TypeVar("Chunk")
Result = TypeVar("Result")

_log = logging.getLogger(__name__)


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def unavailable_reason(instead: str) -> str:
    """Why this process cannot start worker processes ("" when it can); `instead` says what happens."""
    if multiprocessing.current_process().daemon:
        return ("this worker is a daemonic process, which may not start processes (Dask's workers are, "
                f"unless distributed.worker.daemon is set to False); {instead}")
    return ""


@contextlib.contextmanager
def main_not_reimported():
    """Starts children without re-running the parent's main script in them.

    multiprocessing re-imports `__main__` in a spawned or fork-server child
    unless it was run as a module named __main__; a script without a
    `__name__ == "__main__"` guard would run again (or fail) in every child.
    Children need nothing from the main script, so the main module is
    announced under that name while the child is prepared.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = None


def process_context():
    """A fork-server context with the readers preloaded (spawn where fork servers do not exist)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["transforms.extract.preload"])
    return context


def stop_fork_server(*_done: Any) -> bool:
    """Stops this process's fork server once no parser needs it: it holds every reader loaded
    (about 150 MB) for as long as the process lives. A later ParserPool starts it again.
    True if one was running here."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    if getattr(server, "_forkserver_pid", None) is None or not hasattr(server, "_stop"):
        return False  # none started here, or a Python without the (private) stop
    server._stop()
    return True


def batch_of(key: str, total: int, per_batch: int) -> int:
    """The batch of `key`: a stable hash of it over about total / per_batch batches."""
    return hash64(key) % max(1, -(-total // per_batch))


def chunked(items: Iterable[Item], size_of: Callable[[Item], int], target: int) -> List[List[Item]]:
    """Items in order, cut into chunks whose sizes (`size_of` summed) first reach `target`; the last may be smaller."""
    chunks: List[List[Item]] = []
    current: List[Item] = []
    size = 0
    for item in items:
        current.append(item)
        size += size_of(item)
        if size >= target:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


def worker_pool(workers: int, state: Any, fn: Callable[[Any, Any], Any], name: str,
                young_collections: bool = True) -> Optional["ChunkPool"]:
    """A ChunkPool of `workers` processes (at most one per core), or None where there is no use for
    one (fewer than two) or this process may not start processes (the work is then done in it)."""
    workers = min(workers, available_cores())
    if workers < 2:
        return None
    reason = unavailable_reason(f"{name} runs in the worker itself")
    if reason:
        _log.warning("%s processes are off: %s", name, reason)
        return None
    return ChunkPool(workers, state, fn, name, young_collections)


# A process collects all its cyclic garbage once its work since the last such collection took
# this many times as long as that collection did: at most about 1/(1 + GC_WORK_RATIO) of its time.
GC_WORK_RATIO = 20.0
NEVER = 2 ** 31 - 1


class PacedCollector:
    """Full cyclic garbage collections between chunks, paced by what they cost, instead of CPython's own.

    A scoring process keeps a gigabyte of decoded views and facts alive across
    many chunks, and CPython's automatic full collections traverse all of it
    again each time a quarter of it has been replaced: 54% of a scoring
    process's time on the 125,299-file scale corpus (py-spy --native,
    gc_collect_main). Here the oldest generation is collected between chunks,
    once the work since the last full collection outweighs it GC_WORK_RATIO
    times. With `young_collections`, CPython still collects the young ones: work
    that leaves cyclic garbage as it goes (building training records: a process
    grew to 1.3 GB without them) needs those; scoring leaves little (its processes
    held the view cache's size without them), and they took 19.5% of its time.
    """

    def __init__(self, ratio: float = GC_WORK_RATIO):
        self._ratio = ratio
        self._worked = 0.0
        self._last_cost = 0.0
        self.collections = 0

    def start(self, young_collections: bool = True) -> None:
        """Leaves the oldest generation (or, without `young_collections`, every one) to `worked` from now on."""
        if young_collections:
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, NEVER)
        else:
            gc.disable()

    def worked(self, seconds: float) -> None:
        self._worked += seconds
        if self._worked >= self._ratio * self._last_cost:
            started = time.perf_counter()
            gc.collect()
            self._last_cost = time.perf_counter() - started
            self._worked = 0.0
            self.collections += 1


_STATE: Any = None
_COLLECTOR = PacedCollector()  # started by _start, in pool processes only


def _start(state: Any, young_collections: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the run through its launcher
    global _STATE
    _STATE = state
    _COLLECTOR.start(young_collections)
    atexit.register(_exit_at_once)


def _exit_at_once() -> None:
    # A pool's process has sent every result and flushed its queues by the time the interpreter
    # finalizes; freeing a scoring process's gigabyte of objects one by one then kept its pool's
    # shutdown, and the run, waiting for seconds. Exit handlers registered after the pool started
    # run before this one; those registered at import (logging's) do not, hence the flushes.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _apply(fn: Callable[[Any, Any], Any], chunk: Any) -> Any:
    started = time.perf_counter()
    result = fn(_STATE, chunk)
    _COLLECTOR.worked(time.perf_counter() - started)
    return result


class ChunkPool(Generic[Chunk, Result]):
    """`workers` processes, each holding a copy of `state`, that compute `fn(state, chunk)` for
    chunks in order (`fn` a module-level function).

    Chunks are taken as the processes need them (two each in flight), so
    preparing one overlaps with working on others. A chunk whose process died
    (out of memory, killed) is computed here, with this process's `state`,
    and so is every later one: losing the pool costs time, never work.
    """

    def __init__(self, workers: int, state: Any, fn: Callable[[Any, Chunk], Result], name: str,
                 young_collections: bool = True):
        self._state = state
        self._fn = fn
        self._workers = workers
        self._name = name
        self._pool: Optional[ProcessPoolExecutor] = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
            initargs=(state, young_collections))

    def map(self, chunks: Iterable[Chunk]) -> Iterator[Result]:
        in_flight: Deque[Tuple[Chunk, Optional[Future]]] = deque()
        for chunk in chunks:
            in_flight.append((chunk, self._submit(chunk)))
            if len(in_flight) > 2 * self._workers:
                yield self._result(*in_flight.popleft())
        while in_flight:
            yield self._result(*in_flight.popleft())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self, chunk: Chunk) -> Optional[Future]:
        if self._pool is None:
            return None
        try:
            with main_not_reimported():  # the first submit starts the processes
                return self._pool.submit(_apply, self._fn, chunk)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._lost(exc)
            return None

    def _result(self, chunk: Chunk, future: Optional[Future]) -> Result:
        if future is not None and self._pool is not None:
            try:
                return future.result()
            except BrokenProcessPool as exc:
                self._lost(exc)
            except Exception:  # e.g. a result that could not be pickled: computed here, where it shows
                pass
        return self._fn(self._state, chunk)

    def _lost(self, exc: BaseException) -> None:
        _log.warning("a %s process stopped (%s); the work goes on in this process", self._name, exc)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
