"""The `filegraph` command: run, sample-corpus, demo, evaluate.

Usage errors print one line naming the problem and exit with status 2;
they never print a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any, Dict, List, Optional, Sequence


from beam_pipeline.options import effective_config, input_list
from beam_pipeline.pipeline import UsageError, run_pipeline
from transforms.config import ConfigError
from transforms.detect.evaluation import evaluate
from transforms.output import writer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="filegraph", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="Run the pipeline on files; any other flag is a Beam pipeline option.")
    run.add_argument("--input", dest="inputs", action="append", required=True,
                     help="A file, glob or directory (local or gs://). Repeat for several.")
    run.add_argument("--output", required=True, help="Output directory (local or gs://).")
    run.add_argument("--config", help="YAML configuration file.")
    run.add_argument("--min_confidence", "--min-confidence", type=float, dest="min_confidence")
    run.add_argument("--num_shards", "--num-shards", type=int, dest="num_shards")

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
    ev.add_argument("--root", help="Corpus root the truth paths are relative to "
                                   "(default: truth's folder, joined with the truth's own 'root' if it has one).")
    ev.add_argument("--json", action="store_true", help="Print the full report as JSON.")
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
    return path if "://" in path else os.path.abspath(path)


def cmd_run(args, beam_args: List[str]) -> int:
    config = effective_config(args.config, args.min_confidence, args.num_shards)
    summary = run_pipeline(input_list(args.inputs), _abs(args.output), config, beam_args)
    print(_summary_table(summary))
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
    print(_summary_table(summary, report))
    print(f"\nOutputs in {result}; corpus in {drive}, its truth.json one folder up")
    return 0


def cmd_evaluate(args) -> int:
    truth = writer.read_json(args.truth)
    root = args.root or os.path.join(os.path.dirname(_abs(args.truth)), truth.get("root", ""))
    edges = writer.read_jsonl(writer.join_path(_abs(args.output), "edges"), "edges")
    report = evaluate(truth, edges, _abs(root))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_evaluation_lines(report))
    return 0


def _summary_table(summary: Dict[str, Any], report: Optional[Dict[str, Any]] = None) -> str:
    counts = summary["counts"]
    lines = [
        f"{'files matched':<24}{counts['matched']:>8}",
        f"{'files processed':<24}{counts['processed']:>8}",
        f"{'files failed':<24}{counts['failed']:>8}",
        f"{'candidate pairs':<24}{counts['candidate_pairs']:>8}",
        f"{'edges':<24}{counts['edges']:>8}",
    ]
    lines += [f"  {kind:<22}{n:>8}" for kind, n in counts.get("edges_by_type", {}).items()]
    lines.append(f"{'training records':<24}{counts['training_records']:>8}")
    lines.append(f"{'runtime (s)':<24}{summary['runtime_seconds']:>8.1f}")
    if report:
        lines.append(_evaluation_lines(report))
    return "\n".join(lines)


def _evaluation_lines(report: Dict[str, Any]) -> str:
    lines = [
        f"{'precision':<24}{report['precision']:>8.3f}",
        f"{'recall':<24}{report['recall']:>8.3f}",
        f"{'F1':<24}{report['f1']:>8.3f}",
        f"{'type accuracy':<24}{report['type_accuracy']:>8.3f}",
    ]
    if report.get("direction_accuracy") is not None:
        lines.append(f"{'direction accuracy':<24}{report['direction_accuracy']:>8.3f}")
    for kind, row in report["per_type"].items():
        recall = "-" if row["recall"] is None else f"{row['recall']:.3f}"
        precision = "-" if row["precision"] is None else f"{row['precision']:.3f}"
        lines.append(f"  recall {kind:<15}{recall:>8}  precision {precision:>6}  "
                     f"({row['truth']} labelled, {row['found']} found)")
    for level, row in report.get("at_confidence", {}).items():
        lines.append(f"at confidence >= {level:<6}  precision {row['precision']:.3f}  recall {row['recall']:.3f}  "
                     f"F1 {row['f1']:.3f}  ({row['edges']} edges)")
    for kind, table in report.get("reliability", {}).items():
        cells = "  ".join(f"{b['bin']}: {b['mean_confidence']:.2f}->{b['precision']:.2f} ({b['edges']})"
                          for b in table["bins"])
        lines.append(f"  reliability {kind:<11} ECE {table['ece']:.3f}  {cells}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command in ("run", "demo"):
            bad = [a for a in rest if not a.startswith("--")]
            if bad:
                raise UsageError(f"unexpected argument: {bad[0]}")
            return cmd_run(args, rest) if args.command == "run" else cmd_demo(args, rest)
        if rest:
            raise UsageError(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "sample-corpus":
            return cmd_sample_corpus(args)
        if args.command == "calibrate":
            from beam_pipeline import calibrate

            return calibrate.main(_seeds(args.fit_seeds), _seeds(args.holdout_seeds), args.projects, args.write,
                                  args.sources)
        return cmd_evaluate(args)
    except (UsageError, ConfigError) as exc:
        print(f"filegraph: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IOError) as exc:
        print(f"filegraph: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
