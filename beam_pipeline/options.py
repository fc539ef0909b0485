"""Pipeline options: what a launcher (CLI, Flex Template, Airflow) passes in."""

from __future__ import annotations

from typing import List, Optional, Sequence
from urllib.parse import urlparse

from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    PortableOptions,
    StandardOptions,
)

from beam_pipeline import data_plane
from transforms.config import Config, load_config, with_overrides
from transforms.processes import available_cores

# Beam's in-process runner: never downloads anything (Prism would).
DEFAULT_RUNNER = "FnApiRunner"
# Runners whose workers share the launcher's machine (and disk).
LOCAL_RUNNERS = ("FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner")
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "")
DASK_RUNNER_NAMES = ("DaskRunner", "apache_beam.runners.dask.dask_runner.DaskRunner")
DASK_RUNNER = "beam_pipeline.dask_runner.DaskRunner"  # Beam's, fixed (dask_runner.py)


def runner_path(name: str) -> str:
    """The runner filegraph runs for `--runner=name`: ours for Beam's DaskRunner, else the name itself."""
    return DASK_RUNNER if name in DASK_RUNNER_NAMES else name


class FilegraphOptions(PipelineOptions):
    """filegraph's own options; every other flag is a Beam pipeline option."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--input", dest="inputs", action="append", default=None,
                            help="A file, glob or directory (local or gs://). Repeat for several.")
        parser.add_argument("--output", help="Output directory (local or gs://).")
        parser.add_argument("--config", default=None, help="filegraph YAML configuration.")
        parser.add_argument("--min_confidence", type=float, default=None,
                            help="Override relationships.thresholds.min_confidence.")
        parser.add_argument("--num_shards", type=int, default=None,
                            help="Fixed shard count per output (default: by record count).")


def pipeline_options(beam_args: Sequence[str], config: Optional[Config] = None) -> PipelineOptions:
    """Beam options with filegraph's default runner when none is named.

    The default is Beam's FnApiRunner in-process. When `--direct_running_mode`
    asks for worker threads or processes without `--direct_num_workers`,
    `batch.max_workers` (at most one per core) sets their number. Every runner
    that moves data over Beam's gRPC data plane from this process gets the
    data-plane fix (data_plane.py), without which the multi-process runner
    loses pairs on large inputs.
    """
    data_plane.install()
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = DEFAULT_RUNNER
    standard.runner = runner_path(standard.runner)
    if standard.runner in LOCAL_RUNNERS:
        direct = options.view_as(DirectOptions)
        given = {a.split("=", 1)[0] for a in beam_args}
        parallel = direct.direct_running_mode in ("multi_threading", "multi_processing")
        if parallel and "--direct_num_workers" not in given:
            max_workers = config.batch.max_workers if config else 1
            direct.direct_num_workers = max(1, min(max_workers, available_cores()))
    return options


def runs_locally(options: PipelineOptions) -> bool:
    """Whether the workers share this machine: local runners, LOOPBACK portable jobs, a loopback Dask scheduler."""
    runner = options.view_as(StandardOptions).runner or DEFAULT_RUNNER
    name = runner if isinstance(runner, str) else type(runner).__name__
    name = name.rsplit(".", 1)[-1]
    if name in LOCAL_RUNNERS:
        return True
    if name == "PortableRunner":
        return options.view_as(PortableOptions).environment_type == "LOOPBACK"
    if name == "DaskRunner":
        # Beam's DaskOptions, once imported, parses the flag into `address`; before, it is an unknown option.
        parsed = options.get_all_options(retain_unknown_options=True)
        address = parsed.get("dask_client_address") or parsed.get("address") or ""
        host = urlparse(address if "://" in address else f"tcp://{address}").hostname or ""
        return host in _LOOPBACK_HOSTS
    return False


def input_list(values: Optional[List[str]]) -> List[str]:
    """--input may repeat and may hold comma-separated values (templates pass one string)."""
    out: List[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def effective_config(path: Optional[str], min_confidence: Optional[float] = None,
                     num_shards: Optional[int] = None, index_url: Optional[str] = None) -> Config:
    """The YAML config (or the defaults) with the command line's overrides applied."""
    return with_overrides(
        load_config(path),
        **{"relationships.thresholds.min_confidence": min_confidence, "batch.num_shards": num_shards,
           "index.url": index_url},
    )


def config_from_options(options: PipelineOptions) -> Config:
    """The effective config for parsed pipeline options (--config, --min_confidence, --num_shards)."""
    ours = options.view_as(FilegraphOptions)
    return effective_config(ours.config, ours.min_confidence, ours.num_shards)
