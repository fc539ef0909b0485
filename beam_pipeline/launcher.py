"""Entry point for templated launches: a Dataflow Flex Template, Airflow or any scheduler.

    python -m beam_pipeline.launcher --input=gs://bucket/drive/** --output=gs://bucket/out \\
        --runner=DataflowRunner --project=... --region=... --temp_location=gs://bucket/tmp

Every flag is a pipeline option: filegraph's own are FilegraphOptions (--input, which may be
one comma-separated string, --output, --config, --min_confidence, --num_shards); the rest go
to Beam. Without --runner the pipeline runs on Beam's in-process FnApiRunner. On a local
runner the launcher waits for the run and writes the exports; on a service (Dataflow, or a
portable job server such as Flink's) it submits the job and returns, and
`filegraph export --output ...` writes the exports once the job is done. A usage problem prints one line and exits
with status 2.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    PipelineOptions,
    PortableOptions,
    SetupOptions,
    StandardOptions,
)
from apache_beam.runners.runner import PipelineResult

from beam_pipeline.options import (
    FilegraphOptions,
    config_from_options,
    input_list,
    pipeline_options,
)
from beam_pipeline.pipeline import build_pipeline
from transforms.config import ConfigError
from transforms.extract.matching import missing_inputs, missing_message
from transforms.output import exports, writer

PROG = "filegraph-launcher"
# Portable runners that can hand a job to an external job service (Flink's, Spark's, ...).
PORTABLE_RUNNERS = ("PortableRunner", "FlinkRunner", "SparkRunner")


def run(argv: Optional[Sequence[str]] = None) -> PipelineResult:
    """Parses argv, builds the filegraph pipeline and runs it; returns the pipeline result."""
    argv = list(sys.argv[1:] if argv is None else argv)
    options = pipeline_options(argv)
    ours = options.view_as(FilegraphOptions)
    inputs = input_list(ours.inputs)
    if not inputs:
        _usage_error("--input is required (a file, glob or directory; comma-separated for several)")
    if not ours.output:
        _usage_error("--output is required (a local or gs:// directory)")
    try:
        config = config_from_options(options)
    except ConfigError as exc:
        _usage_error(str(exc))
    missing = missing_inputs(inputs)
    if missing:
        _usage_error(missing_message(missing[0]))

    submits_only = submits_to_service(options)
    _worker_options(options, submits_only)
    writer.clear_outputs(ours.output)
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, inputs, ours.output, config)
    result = pipeline.run()
    if not submits_only:
        result.wait_until_finish()
        exports.write_exports(ours.output, config)  # a submitted job: `filegraph export --output ...` later
    return result


def submits_to_service(options: PipelineOptions) -> bool:
    """True when the job runs on a service that outlives this process, so the launcher need not wait.

    That is Dataflow, or a portable runner talking to an external job endpoint whose SDK
    workers are not this process (not --environment_type=LOOPBACK). Everything else, such
    as FnApiRunner, --job_endpoint=embed, or a job server the runner starts itself, runs
    only while this process lives, so the launcher waits for it.
    """
    runner = (options.view_as(StandardOptions).runner or "").rsplit(".", 1)[-1]
    if runner == "DataflowRunner":
        return True
    portable = options.view_as(PortableOptions)
    external = portable.job_endpoint not in (None, "", "embed")
    loopback = (portable.environment_type or "").upper() == "LOOPBACK"
    return runner in PORTABLE_RUNNERS and external and not loopback


def _worker_options(options: PipelineOptions, remote: bool) -> None:
    """Workers get filegraph as a package (setup.py), never through a pickled main session."""
    setup = options.view_as(SetupOptions)
    setup.save_main_session = False
    setup_file = os.environ.get("FLEX_TEMPLATE_PYTHON_SETUP_FILE")
    if remote and not setup.setup_file and setup_file:
        setup.setup_file = setup_file


def _usage_error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)  # job id and console URL when submitting
    logging.getLogger("apache_beam.typehints").setLevel(logging.WARNING)
    run()
