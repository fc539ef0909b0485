"""Checks the Beam flags a command passes on, so that a misspelt option is an error
instead of a warning in the log while the run quietly uses the default."""

from __future__ import annotations

import difflib
import importlib
from typing import Iterable, List, Optional, Sequence

from apache_beam.options import pipeline_options as beam_options


def _runner(args: Sequence[str]) -> Optional[str]:
    for i, arg in enumerate(args):
        if arg.startswith("--runner="):
            return arg.split("=", 1)[1]
        if arg == "--runner" and i + 1 < len(args):
            return args[i + 1]
    return None


def _option_classes() -> List[type]:
    seen, todo = [], list(beam_options.PipelineOptions.__subclasses__())
    while todo:
        cls = todo.pop(0)
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return seen


def _parser():
    parser = beam_options._BeamArgumentParser(allow_abbrev=False, conflict_handler="resolve", add_help=False)
    for cls in _option_classes():
        cls._add_argparse_args(parser)  # how Beam itself collects its options
    return parser


def unrecognised(args: Sequence[str]) -> List[str]:
    """Arguments no Beam options class (nor filegraph's) takes: unknown flags and stray values."""
    from beam_pipeline.options import runner_path

    runner = runner_path(_runner(args) or "")
    if "." in runner:  # a runner named by module path registers its own options (DaskOptions...)
        try:
            importlib.import_module(runner.rsplit(".", 1)[0])
        except ImportError:
            pass
    _, unknown = _parser().parse_known_args(list(args))
    return [u.split("=", 1)[0] if u.startswith("-") else u for u in unknown]


def known_flag_names(extra: Iterable[str] = ()) -> List[str]:
    names = [s for action in _parser()._actions for s in action.option_strings]
    return sorted(set(names) | set(extra))


def unknown_flag_message(flag: str, extra: Iterable[str] = ()) -> str:
    close = difflib.get_close_matches(flag, known_flag_names(extra), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown option {flag}{hint}"
