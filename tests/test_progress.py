"""Stage times and progress counters: the side channel, the plain progress lines, runner defaults."""

import io
import multiprocessing
import time

import pytest
from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

from beam_pipeline.options import pipeline_options, runs_locally
from beam_pipeline.progress import ProgressDisplay
from transforms.config import Config, with_overrides
from transforms.telemetry import Telemetry, read_channel, stage_report


def _report_from_another_process(directory):
    telemetry = Telemetry(directory)
    telemetry.add("files_matched", 5)
    telemetry.add_time("extract", 0.25)
    telemetry.flush()


def test_side_channel_sums_the_figures_of_every_process(tmp_path):
    telemetry = Telemetry(str(tmp_path))
    telemetry.add("files_matched", 2)
    telemetry.flush()
    worker = multiprocessing.get_context("spawn").Process(target=_report_from_another_process, args=(str(tmp_path),))
    worker.start()
    worker.join(60)
    figures = read_channel(str(tmp_path))
    assert figures["files_matched"] == 7 and figures["extract_usec"] == 250000
    report = stage_report(figures, "side_channel")
    assert report["seconds"]["extract"] == 0.25 and report["counters"]["files_matched"] == 7


def test_timed_passes_outputs_on_as_they_come_and_counts_only_their_making(tmp_path):
    telemetry = Telemetry(str(tmp_path))
    made = []

    def slow_outputs():
        for n in range(3):
            time.sleep(0.02)
            made.append(n)
            yield n

    outputs = telemetry.timed("score", slow_outputs)
    assert next(outputs) == 0 and made == [0]  # passed on before the next is made
    for output in outputs:
        time.sleep(0.2)  # work downstream of the step: not the step's time
        assert made[-1] == output
    telemetry.flush()
    seconds = read_channel(str(tmp_path))["score_usec"] / 1e6
    assert 0.06 <= seconds < 0.15


def test_timed_counts_the_time_of_a_step_that_fails(tmp_path):
    telemetry = Telemetry(str(tmp_path))

    def failing():
        time.sleep(0.05)
        raise ValueError("broken")
        yield

    with pytest.raises(ValueError):
        list(telemetry.timed("score", failing))
    telemetry.flush()
    assert read_channel(str(tmp_path))["score_usec"] >= 50000


def test_plain_progress_prints_a_line_per_stage_and_the_totals(tmp_path):
    stream = io.StringIO()
    telemetry = Telemetry(str(tmp_path))
    with ProgressDisplay(str(tmp_path), stream=stream, live=False, interval=0.05):
        telemetry.add("files_matched", 3)
        telemetry.add("files_extracted", 3)
        telemetry.add_time("extract", 1.5)
        telemetry.flush()
    text = stream.getvalue()
    assert "extract started" in text
    assert "matched 3  reused 0  extracted 3  failed 0" in text
    assert "extract      1.50 s in filegraph code" in text


def test_default_runner_is_in_process_and_max_workers_sizes_a_requested_worker_pool():
    config = with_overrides(Config(), **{"batch.max_workers": 1})
    default = pipeline_options([], config)
    assert default.view_as(StandardOptions).runner == "FnApiRunner"
    assert default.view_as(DirectOptions).direct_running_mode == "in_memory"
    pool = pipeline_options(["--direct_running_mode=multi_processing"], config)
    assert pool.view_as(DirectOptions).direct_num_workers == 1  # batch.max_workers
    given = pipeline_options(["--direct_num_workers=3", "--direct_running_mode=multi_threading"], config)
    assert given.view_as(DirectOptions).direct_num_workers == 3


def test_only_runners_whose_workers_share_this_machine_count_as_local():
    assert runs_locally(pipeline_options([]))
    assert runs_locally(pipeline_options(["--runner=PortableRunner", "--job_endpoint=localhost:8099",
                                          "--environment_type=LOOPBACK"]))
    assert not runs_locally(pipeline_options(["--runner=PortableRunner", "--job_endpoint=flink:8099",
                                              "--environment_type=DOCKER"]))
    assert runs_locally(pipeline_options(["--runner=DaskRunner", "--dask_client_address=127.0.0.1:8786"]))
    assert not runs_locally(pipeline_options(["--runner=DaskRunner", "--dask_client_address=dask.internal:8786"]))
    assert not runs_locally(pipeline_options(["--runner=DataflowRunner"]))


def test_a_remote_dask_scheduler_is_not_local_once_beams_dask_options_are_imported():
    # Imported, DaskOptions parses --dask_client_address into `address`: it must still be read.
    import apache_beam.runners.dask.dask_runner  # noqa: F401

    assert not runs_locally(pipeline_options(["--runner=DaskRunner", "--dask_client_address=dask.internal:8786"]))
    assert runs_locally(pipeline_options(["--runner=DaskRunner", "--dask_client_address=127.0.0.1:8786"]))
