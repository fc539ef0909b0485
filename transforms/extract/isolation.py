"""Parser isolation: each file is extracted in a worker process that can be killed.

Apache Tika's ForkParser is the model: the whole per-file stage (reading
the bytes, safety checks, the reader, redaction, signatures) runs in a pool
of child processes, and the parent only sends a path and receives a
FileRecord or an error. A child that

- crashes (a segfault, an abort, a native panic), or exits unexpectedly -> `crash`
- runs past `extraction.timeout_seconds` on one file              -> `timeout`
- grows past its memory share (RSS watched by the parent; RLIMIT_AS
  as a backstop; a MemoryError inside it)                        -> `memory_limit`

turns into an error record naming the file, and is replaced. A child is also
replaced after `extraction.worker_max_files` files, which bounds slow leaks
in parser libraries.

Each child holds the file it is parsing and the next one (`_DEPTH`), so it
never waits for the parent, which spends its time between results in the
stages fused after extraction. Only the first of a child's files is on the
clock; when a child fails, that file gets the error and the next goes back
to the queue untouched.

Children start from a fork server (never a fork of the parent, which runs
Beam's gRPC threads) that has imported every reader once, so replacing one
costs milliseconds. Children ignore SIGINT (Ctrl-C is the parent's to
handle) and die with their fork server, which exits with the parent, or
earlier: a run stops it once extraction is done (processes.stop_fork_server).
Their stderr goes to a file whose tail names the cause of a native crash.

    pool = ParserPool(config)
    pool.submit(token, path, size, modified_at)
    for token, outcome in pool.collect(wait=True): ...   # FileRecord or ErrorRecord
    for token, outcome in pool.drain(): ...
    pool.close()
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for
from typing import Deque, Hashable, List, Mapping, Optional, Tuple, Union

from transforms import processes
from transforms.config import Config
from transforms.extract.encoding import display_path
from transforms.model import ErrorRecord, ExtractionError, FileRecord
from transforms.signatures import file_id_for

Outcome = Union[FileRecord, ErrorRecord]
_POLL_SECONDS = 0.05  # how often a busy child's clock and memory are checked
_DEPTH = 2  # files sent to a child ahead of its results: the one it parses and the next
_STDERR_TAIL = 16_000  # a Rust backtrace runs to several KB after the line that says why
_FATAL_TYPES = frozenset({"crash", "memory_limit"})  # the child's state is suspect: replace it
_MEMORY_MESSAGES = ("memory allocation of", "MemoryError", "Cannot allocate memory", "bad_alloc", "out of memory")
_CRASH_MESSAGES = ("panicked at", "Fatal Python error", "Segmentation fault", "Assertion", "terminate called")
_log = logging.getLogger(__name__)


def extract_one(path: str, size: Optional[int], modified_at: Optional[str], config: Config,
                thread_timeout: bool = True) -> Outcome:
    """One file's FileRecord or ErrorRecord, in this process; never raises for a bad file."""
    from transforms.extract import describe, extract_path

    try:
        return extract_path(path, config, size=size, modified_at=modified_at, thread_timeout=thread_timeout)
    except ExtractionError as exc:
        return file_error(path, exc.error_type, exc.message, exc.stage)
    except MemoryError as exc:
        return file_error(path, "memory_limit", describe(exc))
    except Exception as exc:  # a bug in redaction or signals must not fail the run; record it
        return file_error(path, "internal_error", describe(exc))
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # a native panic escaping a reader (PanicException)
        return file_error(path, "crash", describe(exc))


def file_error(path: str, error_type: str, message: str, stage: str = "extract") -> ErrorRecord:
    """The error record of a file, named as its node would be (see encoding.display_path)."""
    shown = display_path(path)
    return ErrorRecord(shown, stage, error_type, message, file_id_for(shown))


def unavailable_reason() -> str:
    """Why this process cannot own parser processes ("" when it can)."""
    return processes.unavailable_reason("files are extracted in the worker itself")


# ---------------------------------------------------------------- the child


def _child_main(conn, config: Config, readers: Mapping[str, str], memory_limit: int, stderr_path: str,
                environment: Mapping[str, str]) -> None:
    """A parser process: reads jobs (path, size, modified_at) and answers with outcomes until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The fork server's environment is the one it started with; filesystems (gs:// emulators,
    # credentials) must see the parent's as it is now.
    os.environ.clear()
    os.environ.update(environment)
    _die_with_parent()
    stderr = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(stderr, 2)
    _limit_address_space(memory_limit)
    from transforms.extract import register_reader

    for extension, target in readers.items():
        register_reader(extension, target)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if job is None:
            return
        os.ftruncate(2, 0)
        os.lseek(2, 0, os.SEEK_SET)
        outcome = extract_one(*job, config, thread_timeout=False)
        try:
            conn.send(outcome)
        except (EOFError, OSError, BrokenPipeError):
            return
        if isinstance(outcome, ErrorRecord) and outcome.error_type in _FATAL_TYPES:
            return  # a panic or MemoryError may leave the interpreter damaged


def _die_with_parent() -> None:
    """SIGKILL this process when the process that forked it (the fork server) exits (Linux)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _limit_address_space(memory_limit: int) -> None:
    """A hard ceiling on address space, well above the RSS limit the parent watches: a backstop
    against an allocation too fast for the parent to see, loose enough for the address space that
    libraries reserve without using (thread stacks, allocator arenas, BLAS buffers)."""
    try:
        import resource

        current = _virtual_size(os.getpid())
        if not current:
            return
        ceiling = current + 4 * memory_limit
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or ceiling < hard:
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    except (ImportError, ValueError, OSError):
        pass


# ---------------------------------------------------------------- the parent


@dataclass
class _Job:
    token: Hashable
    path: str
    size: Optional[int]
    modified_at: Optional[str]
    started: float = 0.0


class _Child:
    def __init__(self, process, conn, stderr_path: str):
        self.process = process
        self.conn = conn
        self.stderr_path = stderr_path
        self.jobs: Deque[_Job] = collections.deque()  # sent, not yet answered; the first is being parsed
        self.sent = 0

    @property
    def job(self) -> Optional[_Job]:
        """The file being parsed (None when idle)."""
        return self.jobs[0] if self.jobs else None


class ParserPool:
    """Worker processes that extract files; see the module docstring."""

    def __init__(self, config: Config, readers: Optional[Mapping[str, str]] = None):
        self._config = config
        limits = config.extraction
        self._workers = limits.workers
        self._timeout = limits.timeout_seconds if limits.timeout_seconds > 0 else None
        self._memory_limit = limits.worker_memory_bytes
        self._max_files = limits.worker_max_files
        self._readers = dict(readers or {})
        self._context = processes.process_context()
        self._directory = tempfile.mkdtemp(prefix="filegraph-parsers-")
        self._children: List[_Child] = []
        self._queue: Deque[_Job] = collections.deque()
        self._done: List[Tuple[Hashable, Outcome]] = []
        self._started = 0
        self.replaced = collections.Counter()  # why children were replaced: crash, timeout, memory_limit

    # -- public

    @property
    def pending(self) -> int:
        """Files submitted whose outcome has not been collected."""
        return len(self._queue) + sum(len(c.jobs) for c in self._children) + len(self._done)

    @property
    def workers(self) -> int:
        return self._workers

    def submit(self, token: Hashable, path: str, size: Optional[int] = None, modified_at: Optional[str] = None) -> None:
        self._queue.append(_Job(token, path, size, modified_at))
        self._dispatch()

    def collect(self, wait: bool = False) -> List[Tuple[Hashable, Outcome]]:
        """Outcomes ready now; with `wait`, blocks until there is at least one (if any file is pending)."""
        self._poll(0)
        while wait and not self._done and self.pending:
            self._poll(_POLL_SECONDS)
        done, self._done = self._done, []
        return done

    def drain(self) -> List[Tuple[Hashable, Outcome]]:
        """Every outcome still to come, waiting for all submitted files."""
        done = []
        while self.pending:
            done.extend(self.collect(wait=True))
        return done

    def close(self) -> None:
        """Stops every child (politely, then by force) and removes the pool's files."""
        for child in self._children:
            try:
                child.conn.send(None)
            except (OSError, EOFError, BrokenPipeError):
                pass
        deadline = time.monotonic() + 1.0
        for child in self._children:
            child.process.join(max(deadline - time.monotonic(), 0))
            if child.process.is_alive():
                child.process.kill()
                child.process.join(1.0)
            child.conn.close()
        self._children = []
        shutil.rmtree(self._directory, ignore_errors=True)

    def release(self) -> None:
        """Stops the idle parser processes: a bundle's parsing memory is given back; new ones
        start on demand from the fork server, whose readers stay loaded."""
        for child in [c for c in self._children if c.job is None]:
            self._retire(child)

    def __enter__(self) -> "ParserPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def child_pids(self) -> List[int]:
        return [c.process.pid for c in self._children if c.process.pid]

    @property
    def processes_started(self) -> int:
        return self._started

    # -- scheduling

    def _dispatch(self) -> None:
        """Sends queued files: first one to every child (starting children up to `workers`), then a
        second to each, so a child always has its next file; none past a child's `worker_max_files`."""
        while self._queue:
            open_children = [c for c in self._children if len(c.jobs) < _DEPTH and c.sent < self._max_files]
            child = min(open_children, key=lambda c: len(c.jobs), default=None)
            if (child is None or child.jobs) and len(self._children) < self._workers:
                child = self._start_child()
            if child is None:
                return
            job = self._queue.popleft()
            if not child.jobs:
                job.started = time.monotonic()
            child.jobs.append(job)
            child.sent += 1
            try:
                child.conn.send((job.path, job.size, job.modified_at))
            except (OSError, EOFError, BrokenPipeError):
                if len(child.jobs) == 1:
                    self._fail(child, "crash", "the parser process was gone before the file was sent")
                else:  # it died on the file before: _poll finds out why, and this one waits its turn
                    self._queue.appendleft(child.jobs.pop())
                    return

    def _start_child(self) -> _Child:
        self._started += 1
        stderr_path = os.path.join(self._directory, f"parser-{self._started}.stderr")
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_child_main,
            args=(child_end, self._config, self._readers, self._memory_limit, stderr_path, dict(os.environ)),
            name=f"filegraph-parser-{self._started}",
            daemon=True,
        )
        with processes.main_not_reimported():
            process.start()
        child_end.close()
        child = _Child(process, parent_end, stderr_path)
        self._children.append(child)
        return child

    def _retire(self, child: _Child) -> None:
        """Removes a child from the pool (after its job is accounted for); a new one starts on demand."""
        self._children.remove(child)
        if child.process.is_alive():
            try:
                child.conn.send(None)
            except (OSError, EOFError, BrokenPipeError):
                pass
            child.process.join(0.2)
            if child.process.is_alive():
                child.process.kill()
        child.process.join(1.0)
        child.conn.close()

    # -- watching

    def _poll(self, timeout: float) -> None:
        busy = [c for c in self._children if c.job]
        if not busy:
            self._dispatch()
            return
        handles = [c.conn for c in busy] + [c.process.sentinel for c in busy]
        ready = set(wait_for(handles, timeout))
        now = time.monotonic()
        for child in busy:
            if child.conn in ready:
                self._receive(child)
            elif child.process.sentinel in ready:
                self._receive(child) if child.conn.poll() else self._died(child)
            elif self._timeout is not None and now - child.job.started > self._timeout:
                self._kill(child, "timeout", f"no result within {self._timeout:g} s; the parser process was killed")
            elif _resident_size(child.process.pid) > self._memory_limit:
                self._kill(child, "memory_limit",
                           f"the parser process grew past {self._memory_limit // (1024 * 1024)} MB and was killed")
        self._dispatch()

    def _receive(self, child: _Child) -> None:
        try:
            outcome = child.conn.recv()
        except (EOFError, OSError):
            self._died(child)
            return
        except Exception as exc:  # an outcome that does not unpickle: the child's fault, not the run's
            self._fail(child, "crash", f"unreadable result from the parser process: {exc}")
            return
        job = child.jobs.popleft()
        if child.jobs:
            child.jobs[0].started = time.monotonic()
        self._done.append((job.token, outcome))
        fatal = isinstance(outcome, ErrorRecord) and outcome.error_type in _FATAL_TYPES
        if fatal:  # the child exits after a fatal outcome: the file it was sent next goes back
            self.replaced[outcome.error_type] += 1
            self._requeue(child)
        if fatal or (child.sent >= self._max_files and not child.jobs):
            self._retire(child)

    def _died(self, child: _Child) -> None:
        child.process.join(1.0)
        code = child.process.exitcode
        lines = [line.strip() for line in self._stderr_tail(child).splitlines() if line.strip()]
        memory = next((line for line in lines if any(m in line for m in _MEMORY_MESSAGES)), None)
        reason = memory or next((line for line in lines if any(m in line for m in _CRASH_MESSAGES)), None)
        reason = reason or (lines[-1] if lines else "")
        detail = f": {reason}" if reason else ""
        self._fail(child, "memory_limit" if memory else "crash",
                   f"the parser process {_exit_cause(code)}{detail}"[:500])

    def _kill(self, child: _Child, kind: str, message: str) -> None:
        child.process.kill()
        child.process.join(1.0)
        self._fail(child, kind, message)

    def _fail(self, child: _Child, kind: str, message: str) -> None:
        job = child.jobs.popleft() if child.jobs else None
        if job is not None:
            self._done.append((job.token, file_error(job.path, kind, message)))
        self._requeue(child)
        self.replaced[kind] += 1
        _log.info("replacing parser process %s (%s): %s", child.process.pid, kind, message)
        self._retire(child)

    def _requeue(self, child: _Child) -> None:
        """Files sent to a child that it never started go back to the front of the queue."""
        while child.jobs:
            self._queue.appendleft(child.jobs.pop())

    def _stderr_tail(self, child: _Child) -> str:
        try:
            with open(child.stderr_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(handle.tell() - _STDERR_TAIL, 0))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""


def _exit_cause(code: Optional[int]) -> str:
    if code is None:
        return "stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"died of {name}"
    return f"exited with status {code}"


def _resident_size(pid: Optional[int]) -> int:
    """Resident memory of a process in bytes (0 when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss
    except Exception:  # psutil absent or the process gone
        return 0


def _virtual_size(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[0]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
