"""Pipeline options: what a launcher (CLI, Flex Template, Airflow) passes in."""

from __future__ import annotations

from typing import List, Optional, Sequence

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from transforms.config import Config, load_config, with_overrides

# Beam's in-process runner: never downloads anything (Prism would).
DEFAULT_RUNNER = "FnApiRunner"


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


def pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Beam options with filegraph's default runner when none is named."""
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = DEFAULT_RUNNER
    return options


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
