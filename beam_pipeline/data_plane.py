"""A fix for Beam's data plane: writes and timed flushes of one output stream exclude each other.

Beam 2.77's FnApiRunner sends a stage's input to each SDK worker over gRPC
through a `TimeBasedBufferingClosableOutputStream` (the runner's data server is
built with `DATA_BUFFER_TIME_LIMIT_MS = 1000`). A background thread flushes
that stream every second: `flush_callback(self.get())`, then `self._clear()`.
`write()` takes no lock, so a chunk the runner writes between the flush's
`get()` and `_clear()` is cleared without being sent, and its elements are lost
with no error. It happens when writing one bundle's input spans a flush: large
inputs (a few hundred MB on 600 files) on a loaded
machine, or a flush that blocks because the worker has fallen behind and the
send queue is full. The multi-process runner then scored 15,307 of 19,735
candidate pairs; the in-process runner moves data in memory and never loses any.
The portable runner's job service runs the same runner code
(`python -m beam_pipeline.job_service` starts Beam's with this fix).

`install()` makes Beam build a subclass whose `write` holds the flush lock, so a
flush sends everything written before it and clears nothing else: the runner
writes whole encoded bundles, one `write` each. The SDK side of a data channel
encodes element by element through many small writes (`write_byte`,
`write_var_int64`...), where a timed flush could also cut an element in two
(`--direct_running_mode=multi_threading` runs such workers in this process with
a 1 s flush; under a 1 ms flush they lost data and failed with MemoryError).
SDK-side channels made in this process therefore flush by size, after whole
elements, on the writing thread, as SDK worker processes do by default.
Covered: the FnApiRunner in this process (in-process, multi-threaded and
multi-process workers), LOOPBACK workers, an embedded job service.

A second fix, for memory: a stage's output goes through one output stream per
bundle, whose buffer (C memory, grown by doubling up to about twice the 10 MB
flush size) Beam's `DataOutputOperation` keeps after the bundle ends. The SDK
worker caches each stage's bundle processor for reuse, so every stage that ever
ran kept its last buffer to the end of the run: on the in-process runner the
main process grew stage by stage in memory that neither Python nor tracemalloc
sees (heaptrack: 184 MB of 611 MB at 1,255 files, all from
`OutputStream.extend`). `install()` makes the operation drop its stream once the
stream is closed; the next bundle sets a new one, as it always did.
"""

from __future__ import annotations

from apache_beam.runners.worker import bundle_processor
from apache_beam.runners.worker import data_plane as beam_data_plane

_RACY_STREAM = beam_data_plane.TimeBasedBufferingClosableOutputStream
_SDK_CHANNEL = beam_data_plane.GrpcClientDataChannel
_FINISH_OUTPUT = bundle_processor.DataOutputOperation.finish


class LockedTimeBasedOutputStream(_RACY_STREAM):
    """Beam's time-flushed output stream, whose writes wait for a flush in progress."""

    def write(self, b, nested=False):
        with self._flush_lock:
            super().write(b, nested)


class SizeFlushedSdkChannel(_SDK_CHANNEL):
    """The SDK side of a data channel, flushed by size after whole elements, never by a timer."""

    def __init__(self, data_stub, data_buffer_time_limit_ms=0):
        super().__init__(data_stub, 0)


def finish_and_release_output(operation) -> None:
    """DataOutputOperation.finish, then the closed stream and its buffer let go."""
    _FINISH_OUTPUT(operation)
    operation.output_stream = None


def install() -> None:
    """Makes Beam's data channels in this process build the safe streams, and its output
    operations release their streams after each bundle (idempotent)."""
    beam_data_plane.TimeBasedBufferingClosableOutputStream = LockedTimeBasedOutputStream
    beam_data_plane.GrpcClientDataChannel = SizeFlushedSdkChannel
    bundle_processor.DataOutputOperation.finish = finish_and_release_output


def racy_stream_class():
    """Beam's own stream class, for tests that show what the fix prevents."""
    return _RACY_STREAM
