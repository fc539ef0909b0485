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


def _output_bytes_kept_after_a_stage(monkeypatch, finish) -> int:
    """Bytes held by data-plane output streams while a later stage runs, after a stage that
    sent 5 MB to a grouping (under Beam's 10 MB size flush, so its stream holds them all)."""
    import apache_beam as beam
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner
    from apache_beam.runners.worker import bundle_processor

    monkeypatch.setattr(bundle_processor.DataOutputOperation, "finish", finish)
    _KEPT.clear()
    with beam.Pipeline(runner=FnApiRunner()) as p:
        (p | beam.Create([0])
         | "Big" >> beam.FlatMap(lambda _: ((i % 7, bytes(1000)) for i in range(5000)))
         | beam.GroupByKey()
         | beam.combiners.Count.Globally()
         | beam.Map(_measure_output_streams))
    return _KEPT[0]


_KEPT = []  # this process's runner calls the step below by reference, so it fills this list


def _measure_output_streams(_) -> None:
    import gc

    _KEPT.append(sum(s.size() for s in gc.get_objects() if isinstance(s, beam_data_plane.ClosableOutputStream)))


def test_a_finished_stage_lets_go_of_its_output_buffer(monkeypatch):
    data_plane.install()
    assert _output_bytes_kept_after_a_stage(monkeypatch, data_plane.finish_and_release_output) < 100_000
    # Beam's own finish keeps the stream, and its 5 MB, in the cached bundle processor.
    assert _output_bytes_kept_after_a_stage(monkeypatch, data_plane._FINISH_OUTPUT) > 5_000_000
