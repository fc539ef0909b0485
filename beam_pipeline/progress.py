"""Live progress of a local run: files matched, reused, extracted, failed, pairs, edges, elapsed, rate.

It reads the side channel that the pipeline's steps write to
(transforms/telemetry.py) twice a second. On a terminal it is a live line
drawn with rich; otherwise (a log file, CI) it prints one plain line each time
a stage starts reporting and the counters once a minute, then one line per
stage at the end. Remote runners
get no display: their workers cannot reach the launcher's disk.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Dict, List, Optional, TextIO

from transforms.telemetry import COUNTERS, STAGES, read_channel

PLAIN_EVERY_SECONDS = 60.0
_LABELS = {"files_matched": "matched", "files_reused": "reused", "files_extracted": "extracted",
           "files_in_error": "failed",
           "pairs": "pairs", "pairs_scored": "scored", "pair_scores_reused": "from cache", "edges": "edges"}


def status_line(figures: Dict[str, float], elapsed: float) -> str:
    counts = "  ".join(f"{_LABELS[c]} {int(figures.get(c, 0))}" for c in COUNTERS)
    done = sum(figures.get(c, 0) for c in ("files_reused", "files_extracted", "files_in_error"))
    rate = done / elapsed if elapsed > 0 else 0.0
    return f"[{elapsed:7.1f}s] {counts}  ({rate:.1f} files/s)"


def stage_lines(figures: Dict[str, float]) -> List[str]:
    lines = []
    for stage in STAGES:
        seconds = figures.get(f"{stage}_usec", 0) / 1e6
        if seconds:
            lines.append(f"  {stage:<8}{seconds:9.2f} s in filegraph code")
    return lines


class ProgressDisplay:
    """A polling thread over one side-channel directory; use as a context manager."""

    def __init__(self, channel_dir: str, stream: Optional[TextIO] = None, live: Optional[bool] = None,
                 interval: float = 0.5):
        self._dir = channel_dir
        self._stream = stream or sys.stderr
        self._live = self._stream.isatty() if live is None else live
        self._interval = interval
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._started = 0.0
        self._seen: set = set()

    def __enter__(self) -> "ProgressDisplay":
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="filegraph-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _elapsed(self) -> float:
        return time.monotonic() - self._started

    def _run(self) -> None:
        if self._live:
            self._run_live()
        else:
            self._run_plain()

    def _run_live(self) -> None:
        from rich.console import Console
        from rich.live import Live

        console = Console(file=self._stream)
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            while not self._stop.wait(self._interval):
                live.update(status_line(read_channel(self._dir), self._elapsed()))
            live.update(status_line(read_channel(self._dir), self._elapsed()))

    def _run_plain(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self._interval):
            figures = read_channel(self._dir)
            self._print_new_stages(figures)
            if time.monotonic() - last >= PLAIN_EVERY_SECONDS:  # long stages still show they move
                last = time.monotonic()
                print(status_line(figures, self._elapsed()), file=self._stream, flush=True)
        figures = read_channel(self._dir)
        self._print_new_stages(figures)
        print(status_line(figures, self._elapsed()), file=self._stream)
        for line in stage_lines(figures):
            print(line, file=self._stream)
        self._stream.flush()

    def _print_new_stages(self, figures: Dict[str, float]) -> None:
        for stage in STAGES:
            if figures.get(f"{stage}_usec") and stage not in self._seen:
                self._seen.add(stage)
                print(f"{stage} started; " + status_line(figures, self._elapsed()), file=self._stream)
                self._stream.flush()
