"""Smoke test of the extraction benchmark's measuring code (benchmarks/extraction.py).

Runs in process on four tiny files with MarkItDown disabled, so it needs
neither the `bench` extra nor subprocesses. It checks the report's shape and
that the figures are consistent; it never asserts on speed.
"""

import json

from benchmarks.extraction import benchmark_corpus, build_report, format_table
from transforms.output import writer

FILES = {
    "data/sales.csv": b"region,revenue\nNorth,1200\nSouth,800\n",
    "notes/summary.md": b"# Summary\nRevenue comes from data/sales.csv.\n",
    "notes/todo.txt": b"PLAN\n\nCall the North team about the Q3 figures.\n",
    "data/broken.xlsx": b"this is not a zip package",
}


def test_extraction_benchmark_reports_consistent_figures(tmp_path):
    for name, data in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)

    corpus = benchmark_corpus(tmp_path, sorted(FILES), tools=("filegraph",), repeat=1, in_process=True)
    report = build_report({"tiny": corpus}, {"repeat": 1, "tools": ["filegraph"]})

    assert {"benchmark", "machine", "versions", "settings", "corpora", "notes"} <= report.keys()
    assert report["machine"]["cpu_count"] >= 1 and report["machine"]["python"]
    assert corpus["files"] == 4 and corpus["bytes"] == sum(len(d) for d in FILES.values())
    assert corpus["formats"] == {"csv": 1, "md": 1, "txt": 1, "xlsx": 1}
    assert corpus["ratio_files_per_s"] is None  # MarkItDown did not run

    summary = corpus["tools"]["filegraph"]
    expected = {"files", "ok", "failed", "errors", "files_per_s", "mb_per_s", "peak_rss_mb", "per_format", "runs"}
    assert expected <= summary.keys()
    assert summary["files_per_s"] > 0 and summary["mb_per_s"] > 0
    assert summary["peak_rss_mb"] >= 0
    assert summary["ok"] + sum(summary["errors"].values()) == summary["files"] == 4
    assert summary["ok"] == 3 and summary["failed"] == 1
    assert set(summary["errors"]) <= {"corrupt_archive", "parse_error", "unsupported_format"}
    assert summary["failed_files"].keys() == {"data/broken.xlsx"}
    assert sum(fmt["files"] for fmt in summary["per_format"].values()) == 4
    assert all(fmt["files_per_s"] > 0 for fmt in summary["per_format"].values())
    assert summary["output"]["tables"] >= 1  # the CSV was profiled

    json.dumps(report)  # the report is plain JSON
    assert "filegraph" in format_table(report)


def test_exports_benchmark_reports_consistent_figures(tmp_path):
    from benchmarks import exports

    report = exports.main(["--sizes", "60", "--report", str(tmp_path / "exports.json")])
    (row,) = report["results"]
    assert row["files"] == 60 and row["edges"] == 60 * 3
    assert row["peak_rss_mb"] > 0 and row["write_exports_seconds"] >= 0 and row["report_mb"] > 0


def test_exports_benchmark_measures_a_finished_run_in_place(tmp_path):
    from benchmarks import exports

    exports.synthetic_run(str(tmp_path / "run"), 30, 2)
    report = exports.main(["--run", str(tmp_path / "run"), "--report", str(tmp_path / "exports.json")])
    (row,) = report["results"]
    edges = writer.read_jsonl(str(tmp_path / "run" / "edges"), "edges")
    assert row["run"] == str(tmp_path / "run") and row["files"] == 30 and row["edges"] == len(edges) > 30
    assert row["peak_rss_mb"] >= row["loaded_rss_mb"] > 0
    assert (tmp_path / "run" / "exports" / "graph.graphml").is_file()


def test_incremental_benchmark_adds_and_deletes_the_files_it_reports(tmp_path):
    from benchmarks.incremental import change_drive

    drive, donor = tmp_path / "drive", tmp_path / "donor"
    for i in range(5):
        (drive / "data").mkdir(parents=True, exist_ok=True)
        (drive / "data" / f"t{i}.xlsx").write_bytes(b"x")
        donor.mkdir(exist_ok=True)
        (donor / f"new{i}.csv").write_text("a\n1\n")
    changes = change_drive(str(drive), str(donor), add=3, delete=2)
    assert changes == {"added": ["incoming/new0.csv", "incoming/new1.csv", "incoming/new2.csv"],
                       "deleted": ["data/t1.xlsx", "data/t2.xlsx"]}
    assert sorted(p.name for p in drive.rglob("*") if p.is_file()) == [
        "new0.csv", "new1.csv", "new2.csv", "t0.xlsx", "t3.xlsx", "t4.xlsx"]


def test_robustness_benchmark_measures_extraction_alone(tmp_path):
    from benchmarks.robustness import format_table, measure_extraction

    for name, data in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    figures = measure_extraction(tmp_path)
    assert figures["extraction_files_per_s"] > 0 and figures["extraction_peak_rss_tree_mb"] > 0
    assert figures["extraction_errors_by_type"].keys() <= {"corrupt_archive", "parse_error"}
    assert sum(figures["extraction_errors_by_type"].values()) == 1
    run = {"corpus": "tiny", "completed": True, "files_on_disk": 4, "processed": 3, "failed": 1, "seconds": 1.0,
           "files_per_s": 4.0, "peak_rss_tree_mb": 1.0, "peak_rss_process_mb": 1.0,
           "every_file_accounted_for": True, "errors_by_type": {}, **figures}
    assert "tiny" in format_table({"corpora": {"tiny": run}})


def test_training_benchmark_reports_consistent_figures(tmp_path):
    """benchmarks/training.py on two related CSVs: the figures add up; no speed is asserted."""
    from benchmarks.training import measure
    from tests.records import data_record
    from transforms.config import config_from_dict

    customers = data_record("/d/customers.csv", {"customers": (
        ["customer_id", "name"], [[f"C-{1000 + i}", f"n{i}"] for i in range(120)])})
    orders = data_record("/d/orders.csv", {"orders": (
        ["order_id", "customer_id", "amount"], [[i, f"C-{1000 + (i * 7) % 100}", i * 2.5] for i in range(300)])})
    config = config_from_dict({"relationships": {"strategies": ["content_similarity"]},
                               "training": {"precision_level": 0.5}})
    result = measure([customers, orders], "/d", config)
    assert result["files"] == 2 and result["edges"] == 1
    assert result["records"] == sum(result["records_by_task"].values()) == sum(result["records_by_split"].values())
    assert set(result["records_by_task"]) == {"find_related", "explain_link", "workflow", "trajectory"}
    assert result["records_per_s"] > 0 and result["stage_peak_python_mb"] >= 0 and result["process_peak_rss_mb"] > 0
    assert result["deduplication"]["dropped"] == result["duplicates_dropped"]
    json.dumps(result)


def test_deduplication_figures_check_the_dropped_records_against_their_exact_likeness():
    from benchmarks.training import measure_deduplication

    def words(prefix, count):  # letters only: digits are folded before signing
        return " ".join(f"{prefix}{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(count))

    def record(record_id, text):
        return {"id": record_id, "task": "find_related", "messages": [{"role": "user", "content": text}]}

    records = [record("a", words("w", 200)), record("b", words("w", 200)),
               record("c", words("w", 200) + " " + words("x", 6)), record("d", words("v", 200))]
    figures = measure_deduplication(records, 0.9)
    # b equals a (exact Jaccard 1); c differs in its last shingles (196/202 > 0.9); d is unlike them
    assert figures["dropped"] == figures["dropped_sampled"] == 2
    assert figures["sampled_exact_jaccard_at_threshold"] == figures["sampled_exact_jaccard_within_0_05"] == 1.0
    assert figures["largest_bucket"] == 3 and figures["bucket_pairs"] >= 3


def _foreign_key_and_memo():
    from tests.records import data_record, text_record

    customers = data_record("/d/customers.csv", {"customers": (
        ["customer_id", "name"], [[f"C-{i:04d}", f"Name {i}"] for i in range(40)])})
    orders = data_record("/d/orders.csv", {"orders": (
        ["order_id", "customer_id", "amount"], [[i, f"C-{i % 40:04d}", 10 * i] for i in range(120)])})
    memo = text_record("/d/customers_notes.md", "customers.csv lists customer_id and name for every customer.")
    return customers, orders, memo


def test_scoring_benchmark_times_every_part_and_digests_the_edges():
    """benchmarks/scoring.py on a foreign key and a memo: parts add up, the patches are undone."""
    from benchmarks.scoring import measure
    from transforms.detect import relationships, strategies

    customers, orders, memo = _foreign_key_and_memo()
    before = dict(strategies.STRATEGY_FUNCTIONS), relationships.candidate_pairs, relationships.typed_edge

    first, second = measure([customers, orders, memo]), measure([customers, orders, memo])
    assert first["candidate_pairs"] >= 2 and first["edges"] >= 1 and first["files"] == 3
    assert {"blocking", "pair views", "typing", "strategy content_similarity"} <= first["part_seconds"].keys()
    assert sum(v for k, v in first["part_seconds"].items() if k.startswith("strategy")) <= first["seconds"] + 0.01
    assert first["peak_rss_mb"] >= first["rss_before_mb"] > 0
    assert first["edges_sha256"] == second["edges_sha256"]  # same records, same edges
    assert (dict(strategies.STRATEGY_FUNCTIONS), relationships.candidate_pairs, relationships.typed_edge) == before


def test_scoring_benchmark_times_the_scoring_step_with_and_without_worker_processes():
    from benchmarks.scoring import measure_scoring_step
    from transforms.processes import available_cores

    customers, orders, memo = _foreign_key_and_memo()
    figures = measure_scoring_step([customers, orders, memo])
    assert figures["pairs"] >= 2 and figures["batches"] == 1 and figures["same_outcomes"] is True
    assert figures["worker_processes_0"]["worker_cpu_seconds"] == 0
    if available_cores() > 1:  # the pairs were scored in spawned processes
        assert figures["worker_processes_2"]["worker_cpu_seconds"] > 0


def test_the_scale_benchmark_samples_the_main_process_and_its_children(tmp_path):
    """A parent holding 40 MB that starts a child holding 120 MB: the tree's peak counts both,
    the main process's peak only the parent, and the timeline shows when."""
    import sys

    from benchmarks.scale import run_measured

    child = "import time; b = bytearray(120 << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
    parent = ("import subprocess, sys, time; a = bytearray(40 << 20); a[::4096] = b'x' * len(a[::4096]); "
              f"time.sleep(0.5); subprocess.run([sys.executable, '-c', {child!r}]); t = time.time()\n"
              "while time.time() - t < 5.5: pass")  # then busy on one core
    measured = run_measured([sys.executable, "-c", parent], str(tmp_path / "log"))
    assert measured["returncode"] == 0
    assert measured["peak_rss_mb"] >= measured["peak_rss_main_mb"] + 120
    assert 40 <= measured["peak_rss_main_mb"] < 120
    timeline = measured["rss_timeline_mb"]
    assert len(timeline) >= 2 and [t for t, _, _ in timeline] == sorted(t for t, _, _ in timeline)
    assert all(tree >= main for _, main, tree in timeline)
    cpu = measured["cpu_timeline"]
    assert cpu and [t for t, _, _ in cpu] == sorted(t for t, _, _ in cpu)
    assert all(0 <= main <= machine + 0.1 for _, machine, main in cpu)  # the machine's busy cores include the run's
    assert max(main for _, _, main in cpu) >= 0.5  # the parent's busy loop


def test_the_blocking_benchmark_measures_a_finished_runs_records_against_the_truth_beside_its_input(tmp_path):
    """`--run`: the records a run extracted, read back from its index, and pairs split by placement."""
    from beam_pipeline.pipeline import run_pipeline
    from benchmarks import blocking as blocking_benchmark
    from benchmarks.scale import corpus
    from transforms.config import Config

    drive = corpus(40, 1, cache=str(tmp_path))
    output = str(tmp_path / "out")
    run_pipeline([drive["root"]], output, Config())
    records, truth, root = blocking_benchmark.run_records(output)
    nodes = writer.read_jsonl(str(tmp_path / "out" / "nodes"), "nodes")
    assert sorted(r.file_id for r in records) == sorted(n["file_id"] for n in nodes)
    assert truth == drive["truth"] and root == drive["root"]
    result = blocking_benchmark.measure(records, truth, root, Config())
    placed = result["pairs_completeness_by_placement"]
    assert sum(p["labelled"] for p in placed.values()) == result["labelled_pairs"] > 0
    # Only missed pairs can be ones no key tells apart: the ceiling is never under what was found.
    assert result["pairs_completeness"] <= result["pairs_completeness_ceiling"] <= 1.0
    assert set(placed) <= {"same folder", "sibling or parent folder", "apart"}
    assert blocking_benchmark.placement("/d/a/x", "/d/a/x") == "same folder"
    assert blocking_benchmark.placement("/d/a/x", "/d/a/y") == blocking_benchmark.placement("/d/a", "/d/a/y")
    assert blocking_benchmark.placement("/d/a/x", "/d/b/x") == "apart"


def test_the_blocking_benchmark_counts_missed_pairs_that_no_key_tells_apart():
    """A missed pair whose every shared key more files than a file keeps partners hold too is one no
    blocking on those keys could propose; one sharing a rarer key, or a resolved mention, could."""
    from benchmarks.blocking import indistinguishable

    crowd = [f"t{i}" for i in range(5)]
    keyed = ([("val:1", f) for f in ["a", "b", "c", "d"] + crowd] + [("col:x", f) for f in ["a", "b"] + crowd]
             + [("col:y", f) for f in ["c", "d", "e"]] + [("val:1", "e")])
    missed = [("a", "b"), ("c", "d"), ("e", "f")]
    assert indistinguishable(missed, keyed, budget=3) == [("a", "b"), ("e", "f")]  # 5 others hold val:1 and col:x
    assert indistinguishable(missed, keyed, budget=5) == [("e", "f")]  # within the budget: could be kept
    assert indistinguishable(missed, keyed, budget=3, resolved=[("b", "a")]) == [("e", "f")]
    assert indistinguishable([("b", "a")], keyed, budget=3, resolved=[("a", "b")]) == []
