"""ReturnedMemory: freed memory goes back to the system while a local run works (glibc only)."""

import threading
import time

import psutil
import pytest

from beam_pipeline import memory

pytestmark = pytest.mark.skipif(memory.glibc() is None, reason="glibc's malloc_trim is needed")

MB = 1 << 20


class _RecordingLibc:
    def __init__(self):
        self.calls = []
        self.trimmed = threading.Event()

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value))

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        self.trimmed.set()


def _resident() -> int:
    return psutil.Process().memory_info().rss


def _freed_with_holes(total_mb: int) -> list:
    """Allocates `total_mb` in glibc blocks (over pymalloc's 512 bytes), frees all but every 50th:
    the survivors pin the heap's top, so glibc's own trimming cannot return the rest."""
    blocks = [bytes(1500) for _ in range(total_mb * MB // 1500)]
    return blocks[::50]


def test_limits_arenas_and_trims_until_closed():
    libc = _RecordingLibc()
    with memory.ReturnedMemory(seconds=0.01, libc=libc) as returned:
        assert libc.trimmed.wait(5)
    trims = returned.trims
    time.sleep(0.05)
    assert libc.calls[0] == ("mallopt", memory.M_ARENA_MAX, memory.ARENAS)
    assert ("malloc_trim", 0) in libc.calls and trims >= 1
    assert returned.trims == trims  # the thread stopped with the block


def test_freed_pages_return_to_the_system_only_while_open():
    survivors = _freed_with_holes(300)
    kept = _resident()
    time.sleep(0.3)
    assert _resident() > kept - 100 * MB  # glibc alone keeps what was freed
    with memory.ReturnedMemory(seconds=0.05):
        deadline = time.time() + 5
        while _resident() > kept - 200 * MB and time.time() < deadline:
            time.sleep(0.05)
        assert _resident() <= kept - 200 * MB
    assert len(survivors) > 0


def test_without_glibc_it_does_nothing(monkeypatch):
    monkeypatch.setattr(memory, "glibc", lambda: None)
    with memory.ReturnedMemory(seconds=0.01) as returned:
        time.sleep(0.05)
    assert returned.trims == 0
