"""Beam's time-flushed data-plane stream drops writes made during a flush; filegraph's does not.

The FnApiRunner sends stage inputs to its SDK worker processes through this
stream (beam_pipeline/data_plane.py). Here a flush every millisecond stalls for
two, as one does when the worker falls behind and the send queue is full.
"""

import threading
import time

from apache_beam.runners.worker import data_plane as beam_data_plane

from beam_pipeline import data_plane
from beam_pipeline.options import pipeline_options

FLUSHES = 5


def _chunk(i: int) -> bytes:
    return i.to_bytes(4, "big") * 64


def _write_while_flushes_stall(stream_class):
    """(bytes written, bytes sent) by a writer that goes on until FLUSHES flushes have happened."""
    sent, lock = [], threading.Lock()

    def stalled_send(data: bytes) -> None:
        time.sleep(0.002)
        with lock:
            sent.append(data)

    stream = stream_class(lambda data: sent.append(data), flush_callback=stalled_send, time_flush_threshold_ms=1)
    written = 0
    while len(sent) < FLUSHES:
        stream.write(_chunk(written))
        written += 1
    stream.close()
    return b"".join(_chunk(i) for i in range(written)), b"".join(sent)


def test_beams_own_stream_loses_writes_made_during_a_flush():
    # When this fails, Beam has fixed the race and data_plane.install() can go.
    written, sent = _write_while_flushes_stall(data_plane.racy_stream_class())
    assert len(sent) < len(written)


def test_locked_stream_sends_every_write_once_and_in_order():
    written, sent = _write_while_flushes_stall(data_plane.LockedTimeBasedOutputStream)
    assert sent == written


def test_pipeline_options_install_the_locked_stream_for_beams_data_channels():
    pipeline_options(["--direct_running_mode=multi_processing"])
    stream = beam_data_plane.ClosableOutputStream.create(lambda data: None, lambda data: None, 1000)
    try:
        assert isinstance(stream, data_plane.LockedTimeBasedOutputStream)
    finally:
        stream.close()


class _DataStub:
    """A BeamFnData stub whose stream from the runner is empty."""

    def Data(self, requests):
        return iter(())


def test_sdk_side_channels_in_this_process_flush_by_size_never_by_a_timer():
    # In-process SDK workers (multi_threading, LOOPBACK) encode an element through many small writes;
    # a timed flush between two of them would cut the element or drop bytes.
    data_plane.install()
    channel = beam_data_plane.GrpcClientDataChannel(_DataStub(), 1000)
    try:
        stream = channel.output_stream("bundle", "transform")
        assert type(stream) is beam_data_plane.SizeBasedBufferingClosableOutputStream
        stream.close()
    finally:
        channel.close()
