"""The metadata index: what each file was when it was last extracted, and what it gave.

One table row per file of a run's scope (the output location), holding its URI,
size, mtime, content hash, the fingerprint of the extraction that produced it,
the extracted record or error record (zlib-compressed JSON of `to_dict()`) and
its blocking keys. A second table caches pair scores by the digest of
everything scoring read (transforms/index/cache.py); a third remembers each
scope's last complete run (transforms/index/runs.py).

The same SQL runs on SQLite (a file, the default) and PostgreSQL (psycopg 3);
`open_index(url)` picks the dialect. Every write is one transaction, so a run
killed at any point leaves each row either absent or complete.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

SCHEMA_VERSION = "1"
RECORD = "record"
ERROR = "error"
_BATCH = 500  # URIs per IN (...) list: under SQLite's variable limit, short PostgreSQL statements

_TABLES = (
    """CREATE TABLE IF NOT EXISTS filegraph_meta (
         name TEXT PRIMARY KEY,
         value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS filegraph_files (
         scope TEXT NOT NULL,
         uri TEXT NOT NULL,
         size BIGINT NOT NULL,
         modified_at TEXT,
         content_hash TEXT,
         fingerprint TEXT NOT NULL,
         outcome TEXT NOT NULL,
         payload {blob} NOT NULL,
         blocking_keys TEXT NOT NULL,
         PRIMARY KEY (scope, uri))""",
    """CREATE TABLE IF NOT EXISTS filegraph_runs (
         scope TEXT PRIMARY KEY,
         fingerprint TEXT NOT NULL,
         outputs TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS filegraph_pair_scores (
         scope TEXT NOT NULL,
         digest TEXT NOT NULL,
         edge TEXT,
         run_id TEXT NOT NULL,
         PRIMARY KEY (scope, digest))""",
)


class MetadataIndexError(Exception):
    """The index cannot be opened or does not have the expected layout."""


@dataclass(frozen=True)
class IndexEntry:
    """What the index knows about a file, without its payload."""

    uri: str
    size: int
    modified_at: Optional[str]
    content_hash: Optional[str]  # None for error records: the bytes may never have been read
    fingerprint: str  # extraction_fingerprint() of the run that wrote it
    outcome: str  # RECORD | ERROR


@dataclass(frozen=True)
class StoredFile:
    """One row to write: the entry, the record or error as a dict, and blocking keys."""

    entry: IndexEntry
    payload: Dict[str, Any]
    blocking_keys: Tuple[str, ...] = ()


def encode_payload(payload: Dict[str, Any]) -> bytes:
    # Insertion order kept (no sort_keys): a record read back equals the one written.
    return zlib.compress(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 1)


def decode_payload(blob: bytes) -> Dict[str, Any]:
    return json.loads(zlib.decompress(bytes(blob)).decode("utf-8"))


class MetadataIndex:
    """SQL shared by both back ends; subclasses say how to connect and spell parameters."""

    placeholder = "?"
    blob_type = "BLOB"

    def __init__(self, connection):
        self._conn = connection

    # -- schema

    def ensure_schema(self) -> None:
        """Creates the tables if absent; refuses an index written by another layout."""
        with self._transaction() as cur:
            for statement in _TABLES:
                cur.execute(statement.format(blob=self.blob_type))
            cur.execute(self._sql("SELECT value FROM filegraph_meta WHERE name = ?"), ("schema_version",))
            row = cur.fetchone()
            if row is None:
                cur.execute(self._sql("INSERT INTO filegraph_meta (name, value) VALUES (?, ?)"),
                            ("schema_version", SCHEMA_VERSION))
            elif row[0] != SCHEMA_VERSION:
                raise MetadataIndexError(f"index layout {row[0]} is not this filegraph's ({SCHEMA_VERSION}): "
                                  "point index.url elsewhere or delete the index")

    # -- files

    def entries(self, scope: str) -> Iterator[Tuple[IndexEntry, bytes]]:
        """Every file of `scope` with its payload as stored (encode_payload), in one scan."""
        cur = self._reading_cursor()
        cur.execute(self._sql(
            "SELECT uri, size, modified_at, content_hash, fingerprint, outcome, payload FROM filegraph_files "
            "WHERE scope = ? ORDER BY uri"), (scope,))
        for row in cur:
            yield IndexEntry(row[0], int(row[1]), row[2], row[3], row[4], row[5]), bytes(row[6])
        cur.close()
        self._conn.commit()

    def put(self, scope: str, files: Iterable[StoredFile]) -> int:
        """Writes (inserts or replaces) rows in one transaction; returns how many."""
        rows = [(scope, f.entry.uri, f.entry.size, f.entry.modified_at, f.entry.content_hash, f.entry.fingerprint,
                 f.entry.outcome, encode_payload(f.payload), json.dumps(list(f.blocking_keys)))
                for f in files]
        if not rows:
            return 0
        with self._transaction() as cur:
            cur.executemany(self._sql(
                "INSERT INTO filegraph_files (scope, uri, size, modified_at, content_hash, fingerprint, outcome, "
                "payload, blocking_keys) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (scope, uri) DO UPDATE SET size = excluded.size, modified_at = excluded.modified_at, "
                "content_hash = excluded.content_hash, fingerprint = excluded.fingerprint, "
                "outcome = excluded.outcome, payload = excluded.payload, blocking_keys = excluded.blocking_keys"),
                rows)
        return len(rows)

    def touch(self, scope: str, stamps: Iterable[Tuple[str, Optional[str]]]) -> None:
        """Records new mtimes of files whose content hash showed them unchanged."""
        rows = [(modified_at, scope, uri) for uri, modified_at in stamps]
        if rows:
            with self._transaction() as cur:
                cur.executemany(self._sql("UPDATE filegraph_files SET modified_at = ? WHERE scope = ? AND uri = ?"),
                                rows)

    def delete(self, scope: str, uris: Sequence[str]) -> int:
        with self._transaction() as cur:
            for chunk in _chunks(list(uris), _BATCH):
                cur.execute(self._sql(
                    f"DELETE FROM filegraph_files WHERE scope = ? AND uri IN ({self._marks(len(chunk))})"),
                    (scope, *chunk))
        return len(uris)

    def blocking_keys(self, scope: str, uri: str) -> Optional[List[str]]:
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT blocking_keys FROM filegraph_files WHERE scope = ? AND uri = ?"),
                        (scope, uri))
            row = cur.fetchone()
        return None if row is None else json.loads(row[0])

    # -- the last complete run

    def last_run(self, scope: str) -> Optional[Tuple[str, Dict[str, Any]]]:
        """(fingerprint, outputs) of the scope's last complete run, if one is remembered."""
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT fingerprint, outputs FROM filegraph_runs WHERE scope = ?"), (scope,))
            row = cur.fetchone()
        return None if row is None else (row[0], json.loads(row[1]))

    def put_run(self, scope: str, fingerprint: str, outputs: Dict[str, Any]) -> None:
        with self._transaction() as cur:
            cur.execute(self._sql(
                "INSERT INTO filegraph_runs (scope, fingerprint, outputs) VALUES (?, ?, ?) "
                "ON CONFLICT (scope) DO UPDATE SET fingerprint = excluded.fingerprint, outputs = excluded.outputs"),
                (scope, fingerprint, json.dumps(outputs, sort_keys=True)))

    def forget_run(self, scope: str) -> None:
        with self._transaction() as cur:
            cur.execute(self._sql("DELETE FROM filegraph_runs WHERE scope = ?"), (scope,))

    # -- pair scores

    def has_scores(self, scope: str) -> bool:
        """Whether any pair score is stored for `scope` (none before a scope's first run)."""
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT 1 FROM filegraph_pair_scores WHERE scope = ? LIMIT 1"), (scope,))
            return cur.fetchone() is not None

    def cached_score(self, scope: str, digest: str) -> Tuple[bool, Optional[str]]:
        """(cached?, edge JSON or None when the pair scored no edge)."""
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT edge FROM filegraph_pair_scores WHERE scope = ? AND digest = ?"),
                        (scope, digest))
            row = cur.fetchone()
        return (False, None) if row is None else (True, row[0])

    def put_scores(self, scope: str, run_id: str, scores: Iterable[Tuple[str, Optional[str]]]) -> None:
        """Stores (digest, edge JSON or None) and marks them used by `run_id`."""
        rows = [(scope, digest, edge, run_id) for digest, edge in scores]
        if rows:
            with self._transaction() as cur:
                cur.executemany(self._sql(
                    "INSERT INTO filegraph_pair_scores (scope, digest, edge, run_id) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (scope, digest) DO UPDATE SET edge = excluded.edge, run_id = excluded.run_id"),
                    rows)

    def prune_scores(self, scope: str, run_id: str) -> int:
        """Drops cached scores the run `run_id` did not use: pairs that no longer exist."""
        with self._transaction() as cur:
            cur.execute(self._sql("DELETE FROM filegraph_pair_scores WHERE scope = ? AND run_id <> ?"),
                        (scope, run_id))
            return max(cur.rowcount, 0)

    def close(self) -> None:
        self._conn.close()

    # -- dialect

    def _sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def _marks(self, n: int) -> str:
        return ", ".join(["?"] * n)

    def _transaction(self):
        return _Transaction(self._conn)

    def _reading_cursor(self):
        return self._conn.cursor()


class _Transaction:
    """`with` block: a cursor whose statements commit together or not at all."""

    def __init__(self, conn):
        self._conn = conn

    def __enter__(self):
        self._cur = self._conn.cursor()
        return self._cur

    def __exit__(self, exc_type, exc, tb):
        self._cur.close()
        if exc_type is None:
            self._conn.commit()
        else:
            self._conn.rollback()
        return False


class SqliteIndex(MetadataIndex):
    def __init__(self, path: str):
        import sqlite3

        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        # WAL: readers never block the writer; synchronous=NORMAL keeps every
        # committed transaction across a killed process. Workers of a
        # multi-process run share the file and wait for its lock.
        # A runner may call a DoFn's setup, process and teardown from different
        # threads, one at a time: the connection is never used concurrently.
        conn = sqlite3.connect(path, timeout=120, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        super().__init__(conn)


class PostgresIndex(MetadataIndex):
    placeholder = "%s"
    blob_type = "BYTEA"

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError as exc:
            raise MetadataIndexError("a postgresql:// index needs psycopg: pip install 'filegraph[postgres]'") from exc
        # libpq reads the password from PGPASSWORD or ~/.pgpass: never from the config.
        super().__init__(psycopg.connect(url, autocommit=False))
        self._cursors = 0

    def _reading_cursor(self):
        # A named (server-side) cursor streams a large scope instead of loading it.
        self._cursors += 1
        return self._conn.cursor(name=f"filegraph_entries_{self._cursors}")


def _chunks(items: List[str], size: int) -> Iterator[List[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def index_location(url: str, output: str) -> Optional[str]:
    """Where the index of a run writing to `output` lives, or None when it cannot be kept.

    An empty url keeps it beside the outputs; SQLite needs a local file, so a
    remote output (gs://) without a configured url runs without an index.
    """
    if url:
        return url
    if "://" in output:
        return None
    return os.path.join(output, "index.sqlite")


def sqlite_path(location: str) -> Optional[str]:
    """The file of an index at a path or sqlite:///path; None for a PostgreSQL URL."""
    if location.startswith(("postgresql://", "postgres://")):
        return None
    return location[len("sqlite://"):] if location.startswith("sqlite://") else location


def open_index(location: str) -> MetadataIndex:
    """The index at a path, sqlite:///path or postgresql://... URL."""
    path = sqlite_path(location)
    return PostgresIndex(location) if path is None else SqliteIndex(path)


class BackgroundWrites:
    """An index connection whose writes run on a thread of their own, one at a time and in order.

    The caller goes on while SQLite or PostgreSQL commits (both drivers release
    the GIL while the database works): scoring's main process keeps its worker
    processes fed instead of waiting on the score cache. One write runs at a time:
    `submit` first waits for the one before it, so memory stays bounded; a write
    that failed raises at the caller's next `submit` or `wait`.
    """

    def __init__(self, location: str):
        from concurrent.futures import ThreadPoolExecutor

        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="filegraph-index-writes")
        self._index: MetadataIndex = self._thread.submit(open_index, location).result()
        self._running = None

    def submit(self, write) -> None:
        """Runs `write(index)` once every earlier write is done."""
        self.wait()
        self._running = self._thread.submit(write, self._index)

    def wait(self) -> None:
        """Returns once every submitted write is committed (raising the error of one that failed)."""
        running, self._running = self._running, None
        if running is not None:
            running.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._thread.submit(self._index.close).result()
            self._thread.shutdown()
