"""A fix for Beam's data plane: writes and timed flushes of one output stream exclude each other.

Beam 2.77's FnApiRunner sends a stage's input to each SDK worker over gRPC
through a `TimeBasedBufferingClosableOutputStream` (the runner's data server is
built with `DATA_BUFFER_TIME_LIMIT_MS = 1000`). A background thread flushes
that stream every second: `flush_callback(self.get())`, then `self._clear()`.
`write()` takes no lock, so a chunk the runner writes between the flush's
`get()` and `_clear()` is cleared without being sent, and its elements are lost
with no error. It happens when writing one bundle's input spans a flush: large
inputs (the pair join's output, a few hundred MB on 600 files) on a loaded
machine, or a flush that blocks because the worker has fallen behind and the
send queue is full. The multi-process runner then scored 15,307 of 19,735
candidate pairs; the in-process runner moves data in memory and never loses any.
The portable runner's job service runs the same runner code
(`python -m beam_pipeline.job_service` starts Beam's with this fix).

`install()` makes Beam build a subclass whose `write` holds the flush lock, so a
flush sends everything written before it and clears nothing else. Writers in
this process are covered (the FnApiRunner's side of every worker's data channel,
an embedded job service); SDK worker processes flush by size on the writing
thread by default, which does not race.
"""

from __future__ import annotations

from apache_beam.runners.worker import data_plane as beam_data_plane

_RACY_STREAM = beam_data_plane.TimeBasedBufferingClosableOutputStream


class LockedTimeBasedOutputStream(_RACY_STREAM):
    """Beam's time-flushed output stream, whose writes wait for a flush in progress."""

    def write(self, b, nested=False):
        with self._flush_lock:
            super().write(b, nested)


def install() -> None:
    """Makes Beam's data channels in this process build the locked stream (idempotent)."""
    beam_data_plane.TimeBasedBufferingClosableOutputStream = LockedTimeBasedOutputStream


def racy_stream_class():
    """Beam's own stream class, for tests that show what the fix prevents."""
    return _RACY_STREAM
