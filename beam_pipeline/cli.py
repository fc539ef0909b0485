"""The `filegraph` command: run, sample-corpus, demo, evaluate, inspect, export, calibrate.

Usage errors print one line naming the problem and exit with status 2;
they never print a traceback. Ctrl-C (SIGINT) prints one line and exits at
once with status 130: Beam's worker threads are not waited for, and the
output folder holds no run_summary.json (the run removed the previous one
first), so it never looks finished; parser processes exit with their parent.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from typing import Any, Dict, List, Optional, Sequence

from beam_pipeline.options import effective_config, input_list
from beam_pipeline.pipeline import UsageError, run_pipeline, run_streaming
from beam_pipeline.summary_table import evaluation_lines, summary_table
from transforms.config import Config, ConfigError, with_overrides
from transforms.detect.evaluation import evaluate
from transforms.output import writer

# Our own flags of `run`, for "did you mean" hints next to Beam's.
RUN_FLAGS = ("--input", "--output", "--config", "--min_confidence", "--num_shards", "--feedback")


def version() -> str:
    try:
        from importlib.metadata import version as installed_version

        return installed_version("filegraph")
    except Exception:  # running from a source tree that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="filegraph", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"filegraph {version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="Run the pipeline on files; any other flag is a Beam pipeline option.")
    run.add_argument("--input", dest="inputs", action="append", required=True,
                     help="A file, glob or directory (local or gs://). Repeat for several.")
    run.add_argument("--output", required=True, help="Output directory (local or gs://).")
    run.add_argument("--config", help="YAML configuration file.")
    run.add_argument("--min_confidence", "--min-confidence", type=float, dest="min_confidence")
    run.add_argument("--num_shards", "--num-shards", type=int, dest="num_shards")
    run.add_argument("--feedback", help="Review decisions to apply (the review queue CSV, filled in).")
    run.add_argument("--index", dest="index_url", help="Metadata index: a path, sqlite:///path or "
                     "postgresql://user@host/db (password from PGPASSWORD). Default: OUTPUT/index.sqlite.")
    run.add_argument("--streaming", action="store_true",
                     help="Keep watching the inputs and append nodes and edges as files arrive (until Ctrl-C).")
    run.add_argument("--poll_seconds", "--poll-seconds", type=float, default=10.0,
                     help="With --streaming: how often the inputs are listed.")

    corpus = sub.add_parser("sample-corpus", help="Write the labelled sample corpus.")
    corpus.add_argument("directory")
    corpus.add_argument("--projects", type=int, default=8)
    corpus.add_argument("--seed", type=int, default=0)

    demo = sub.add_parser("demo", help="Write the sample corpus, run on it and print a summary.")
    demo.add_argument("--output", default="demo-output")
    demo.add_argument("--projects", type=int, default=8)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--config", help="YAML configuration file.")

    ev = sub.add_parser("evaluate", help="Score a run's graph against labelled pairs.")
    ev.add_argument("--truth", required=True, help="truth.json with edges between relative paths.")
    ev.add_argument("--output", required=True, help="The run's output directory.")
    ev.add_argument("--root", help="Folder the truth paths are relative to (default: the first of the truth's "
                                   "own 'root', the run's input folders and the truth's folder that holds them).")
    ev.add_argument("--json", action="store_true", help="Print the full report as JSON.")

    ins = sub.add_parser("inspect", help="Print one file's metadata and relationships with evidence.")
    ins.add_argument("file", metavar="FILE_OR_ID", help="File id, path, path relative to the input, or file name.")
    ins.add_argument("--output", required=True, help="The run's output directory.")

    exp = sub.add_parser("export", help="Write exports and report.html again from a finished run's shards.")
    exp.add_argument("--output", required=True, help="The run's output directory.")
    exp.add_argument("--config", help="YAML configuration file (exports and review sections).")

    cal = sub.add_parser("calibrate", help="Fit the confidence model on sample corpora (developer command).")
    cal.add_argument("--fit-seeds", default="1,2,3")
    cal.add_argument("--holdout-seeds", default="0,4")
    cal.add_argument("--projects", type=int, default=8)
    cal.add_argument("--source", action="append", dest="sources", metavar="NAME=TRUTH:ROOT",
                     help="A labelled corpus to fit on (repeat); default: ../shared/data/opendata-dev and chinook.")
    cal.add_argument("--write", action="store_true", help="Replace transforms/detect/confidence_model.json.")
    return parser


def _seeds(text: str) -> List[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise UsageError(f"seeds must be comma-separated integers, got '{text}'") from exc


def _abs(path: str) -> str:
    return path if "://" in path else os.path.abspath(os.path.expanduser(path))


def _run_config(args) -> Config:
    config = effective_config(args.config, args.min_confidence, args.num_shards, args.index_url)
    if args.feedback:
        config = with_overrides(config, **{"review.feedback_file": _abs(args.feedback)})
    return config


def cmd_run(args, beam_args: List[str]) -> int:
    output = _abs(args.output)
    config = _run_config(args)
    if args.streaming:
        if args.poll_seconds <= 0:
            raise UsageError("--poll_seconds must be positive")
        print(f"watching {', '.join(args.inputs)} every {args.poll_seconds:g} s; outputs appended under "
              f"{output}; Ctrl-C stops", flush=True)
        try:
            run_streaming(input_list(args.inputs), output, config, args.poll_seconds, beam_args)
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
        return 0
    summary = run_pipeline(input_list(args.inputs), output, config, beam_args)
    print(summary_table(summary, output))
    return 0


def cmd_sample_corpus(args) -> int:
    from beam_pipeline.sample_corpus import write_sample_corpus

    truth, drive = write_sample_corpus(_abs(args.directory), projects=args.projects, seed=args.seed)
    print(f"wrote {len(truth['files'])} files to {drive} and {len(truth['edges'])} labelled pairs to "
          f"{os.path.join(_abs(args.directory), 'truth.json')}")
    return 0


def cmd_demo(args, beam_args: List[str]) -> int:
    from beam_pipeline.sample_corpus import write_sample_corpus

    root = _abs(args.output)
    truth, drive = write_sample_corpus(os.path.join(root, "corpus"), projects=args.projects, seed=args.seed)
    result = os.path.join(root, "output")
    config = effective_config(args.config, None, None)
    summary = run_pipeline([drive], result, config, beam_args)
    report = evaluate(truth, writer.read_jsonl(os.path.join(result, "edges"), "edges"), drive)
    print(summary_table(summary, result, report))
    print(f"\ncorpus in {drive}, its truth.json one folder up; open {os.path.join(result, 'report.html')}")
    return 0


def truth_root(truth: Dict[str, Any], truth_path: str, output: str, explicit: Optional[str]) -> str:
    """The folder the truth's relative paths live in: the first candidate under which some
    truth path is a file of the run. None matching is a usage error, never a report of zeros."""
    from transforms.output.graph_data import run_roots

    summary = writer.read_json(writer.join_path(output, "run_summary.json"))
    here = os.path.dirname(truth_path)
    candidates = [_abs(explicit)] if explicit else (
        ([os.path.join(here, truth["root"])] if truth.get("root") else []) + run_roots(summary) + [here])
    node_paths = {n["file_path"] for n in writer.iter_jsonl(writer.join_path(output, "nodes"), "nodes")}
    node_paths |= {e["file_path"] for e in writer.iter_jsonl(writer.join_path(output, "errors"), "errors")}
    named = sorted({p for e in truth.get("edges", []) for p in (e["a"], e["b"])})
    for root in candidates:
        base = root.rstrip("/") + "/"
        if any(base + p in node_paths for p in named):
            return base
    looked = ", ".join(dict.fromkeys(c.rstrip("/") for c in candidates))
    raise UsageError(f"none of the {len(named)} files named in {truth_path} is a file of the run in {output} "
                     f"(looked under {looked}); pass --root with the folder the truth paths are relative to")


def cmd_evaluate(args) -> int:
    truth_path, output = _abs(args.truth), _abs(args.output)
    truth = writer.read_json(truth_path)
    root = truth_root(truth, truth_path, output, args.root)
    report = evaluate(truth, writer.read_jsonl(writer.join_path(output, "edges"), "edges"), root)
    print(json.dumps(report, indent=2) if args.json else "\n".join(evaluation_lines(report)))
    return 0


def cmd_inspect(args) -> int:
    from beam_pipeline.inspect_file import NotFound, inspect_lines

    try:
        print("\n".join(inspect_lines(args.file, _abs(args.output))))
    except NotFound as exc:
        raise UsageError(str(exc)) from exc
    return 0


def cmd_export(args) -> int:
    from transforms.output.exports import write_exports

    output = _abs(args.output)
    written = write_exports(output, effective_config(args.config))
    for name, path in written.items():
        print(f"{name:<28}{path}")
    return 0


def _check_beam_flags(rest: List[str]) -> None:
    from beam_pipeline.flags import unknown_flag_message, unrecognised

    for arg in unrecognised(rest)[:1]:
        raise UsageError(unknown_flag_message(arg, RUN_FLAGS) if arg.startswith("-")
                         else f"unexpected argument: {arg}")


def _check_output(args) -> None:
    output = getattr(args, "output", None)
    if output and args.command in ("run", "demo") and writer.is_file(_abs(output)):
        raise UsageError(f"--output must name a folder, but {output} is a file")


def _interrupted(signum, frame) -> None:
    sys.stdout.flush()
    print("filegraph: interrupted", file=sys.stderr)
    sys.stderr.flush()
    os._exit(130)  # no unwinding through Beam's threads: that is where tracebacks and hangs come from


def main(argv: Optional[Sequence[str]] = None) -> int:
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    # Worker processes of the local runner log a start-up notice each; not the user's concern.
    logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(logging.ERROR)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _interrupted) if on_main_thread else None
    try:
        return _main(argv)
    finally:
        if on_main_thread:
            signal.signal(signal.SIGINT, previous)


def _main(argv: Optional[Sequence[str]]) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    try:
        _check_output(args)
        if args.command in ("run", "demo"):
            _check_beam_flags(rest)
            return cmd_run(args, rest) if args.command == "run" else cmd_demo(args, rest)
        if rest:
            raise UsageError(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "sample-corpus":
            return cmd_sample_corpus(args)
        if args.command == "calibrate":
            from beam_pipeline import calibrate

            return calibrate.main(_seeds(args.fit_seeds), _seeds(args.holdout_seeds), args.projects, args.write,
                                  args.sources)
        commands = {"evaluate": cmd_evaluate, "inspect": cmd_inspect, "export": cmd_export}
        return commands[args.command](args)
    except (UsageError, ConfigError) as exc:
        print(f"filegraph: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IOError) as exc:
        print(f"filegraph: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
