"""Stage timings and progress counters, from inside the pipeline's steps.

Every figure goes two ways:
- Beam Metrics counters in the `filegraph` namespace (`<stage>_usec` for time
  spent in a stage's own code, plus the progress counters), which every runner
  that reports metrics aggregates (FnApiRunner, multi-process, portable,
  Dataflow, Flink);
- when a run is local, a side channel: each worker process adds its figures
  to a small JSON file in one directory, rewritten at most twice a second and
  at the end of each bundle, so the launcher can show live progress (the
  in-process runner reports metrics only at the end) and still has the figures
  on runners that report none (Beam's DaskRunner).

Stage time is time inside filegraph's code for that stage, summed over
workers; Beam's own shuffles and encoding are what the wall time adds.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from typing import Any, Callable, Dict, Iterable, Iterator, Optional

from apache_beam.metrics import Metrics

NAMESPACE = "filegraph"
STAGES = ("index", "extract", "embed", "block", "join", "score", "train", "write")
# Progress counters, in the order a run reaches them.
COUNTERS = ("files_matched", "files_reused", "files_extracted", "files_in_error", "pairs", "pairs_scored",
            "pair_scores_reused", "edges")
_FLUSH_SECONDS = 0.5


class _Channel:
    """This process's figures for one side-channel directory."""

    def __init__(self, directory: str):
        self.path = os.path.join(directory, f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json")
        self.figures: Dict[str, float] = {}
        self.flushed = 0.0
        self.lock = threading.Lock()

    def add(self, name: str, value: float) -> None:
        with self.lock:
            self.figures[name] = self.figures.get(name, 0) + value
        if time.monotonic() - self.flushed > _FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            text = json.dumps(self.figures)
            self.flushed = time.monotonic()
        tmp = f"{self.path}.{threading.get_ident()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, self.path)
        except OSError:
            pass  # the directory is gone: the launcher has finished reading


_channels: Dict[str, _Channel] = {}
_counters: Dict[str, Any] = {}  # Beam counter objects by name, made once per process
_channels_lock = threading.Lock()


def _channel(directory: Optional[str]) -> Optional[_Channel]:
    if not directory:
        return None
    with _channels_lock:
        if directory not in _channels:
            _channels[directory] = _Channel(directory)
        return _channels[directory]


class Telemetry:
    """What a step needs to report its time and counts; picklable, passed into the graph."""

    def __init__(self, channel_dir: Optional[str] = None):
        self.channel_dir = channel_dir

    def add(self, name: str, value: float) -> None:
        counter = _counters.get(name)
        if counter is None:
            counter = _counters[name] = Metrics.counter(NAMESPACE, name)
        counter.inc(int(value))
        channel = _channel(self.channel_dir)
        if channel is not None:
            channel.add(name, value)

    def add_time(self, stage: str, seconds: float) -> None:
        self.add(f"{stage}_usec", seconds * 1e6)

    def flush(self) -> None:
        channel = _channel(self.channel_dir)
        if channel is not None:
            channel.flush()

    def timed(self, stage: str, fn: Callable[..., Iterable[Any]], *args, **kwargs) -> Iterator[Any]:
        """fn's outputs, each passed on as it comes; only the time spent making them counts to `stage`.

        Work fused downstream runs between outputs, uncounted. Passing each on at
        once, not after the last, lets that work overlap with a step's worker
        processes, which otherwise wait for the next element.
        """
        spent, started = 0.0, time.perf_counter()
        try:
            for output in fn(*args, **kwargs):
                spent += time.perf_counter() - started
                started = None
                yield output
                started = time.perf_counter()
        finally:
            self.add_time(stage, spent + (time.perf_counter() - started if started is not None else 0.0))


def read_channel(directory: str) -> Dict[str, float]:
    """The figures of every worker process that reported to `directory`, summed."""
    total: Dict[str, float] = {}
    try:
        names = [n for n in os.listdir(directory) if n.endswith(".json")]
    except OSError:
        return total
    for name in names:
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as handle:
                figures = json.load(handle)
        except (OSError, ValueError):
            continue  # being replaced right now; the next read sees it
        for key, value in figures.items():
            total[key] = total.get(key, 0) + value
    return total


def figures_from_metrics(result) -> Optional[Dict[str, float]]:
    """The filegraph counters a finished PipelineResult reports, or None if its runner reports none."""
    try:
        from apache_beam.metrics.metric import MetricsFilter

        counters = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    except (NotImplementedError, AttributeError, KeyError):
        return None
    figures: Dict[str, float] = {}
    for counter in counters:
        value = counter.committed if counter.committed is not None else counter.attempted
        if value is not None:
            figures[counter.key.metric.name] = figures.get(counter.key.metric.name, 0) + value
    return figures or None


def stage_report(figures: Dict[str, float], source: str) -> Dict[str, Any]:
    """run_summary.json's `stages` section: seconds per stage and the progress counters."""
    return {
        "source": source,
        "seconds": {s: round(figures.get(f"{s}_usec", 0) / 1e6, 3) for s in STAGES},
        "counters": {c: int(figures.get(c, 0)) for c in COUNTERS},
    }
