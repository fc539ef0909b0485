"""Usage errors: one line naming the problem, non-zero exit, no traceback."""

import re
import subprocess
import sys

import pytest

from beam_pipeline.cli import main


@pytest.mark.parametrize("argv, message", [
    (["run", "--input", "/no/such/dir", "--output", "OUT"], "input not found: /no/such/dir"),
    (["run", "--input", ".", "--output", "OUT", "--min_confidence", "1.5"], "min_confidence"),
    (["run", "--input", ".", "--output", "OUT", "--config", "CFG"], "unknown config key 'config.colour'"),
    (["calibrate", "--fit-seeds", "a,b"], "seeds must be comma-separated integers"),
])
def test_usage_errors_are_one_line(tmp_path, capsys, argv, message):
    (tmp_path / "cfg.yaml").write_text("colour: blue\n")
    argv = [a.replace("OUT", str(tmp_path / "out")).replace("CFG", str(tmp_path / "cfg.yaml")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("filegraph: error:") and message in err
    assert len(err.splitlines()) == 1


def test_missing_required_flag_exits_non_zero_without_traceback():
    result = subprocess.run([sys.executable, "-m", "beam_pipeline", "run", "--output", "x"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "--input" in result.stderr and "Traceback" not in result.stderr


def test_sample_corpus_command_keeps_truth_outside_the_drive(tmp_path, capsys):
    assert main(["sample-corpus", str(tmp_path), "--projects", "2", "--seed", "3"]) == 0
    assert (tmp_path / "truth.json").exists()
    assert not (tmp_path / "drive" / "truth.json").exists()
    assert "labelled pairs" in capsys.readouterr().out


def test_demo_prints_the_summary_table(tmp_path, capsys):
    assert main(["demo", "--output", str(tmp_path), "--projects", "2", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    for line in ("files matched", "files processed", "files failed", "precision", "recall", "F1"):
        assert line in out


def test_version_is_printed():
    result = subprocess.run([sys.executable, "-m", "beam_pipeline", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("filegraph ")


@pytest.mark.parametrize("argv, message", [
    (["run", "--input", "DRIVE", "--output", "OUT", "--min_confidance=0.95"],
     "unknown option --min_confidance (did you mean --min_confidence?)"),
    (["run", "--input", "DRIVE", "--output", "OUT", "--direct_num_worker=2"],
     "unknown option --direct_num_worker (did you mean --direct_num_workers?)"),
    (["run", "--input", "DRIVE/*.xlsx", "--output", "OUT"], "input matches no file: DRIVE/*.xlsx"),
    (["run", "--input", "DRIVE", "--output", "DRIVE/a.csv"], "--output must name a folder, but DRIVE/a.csv is a file"),
    (["run", "--input", "DRIVE", "--output", "OUT", "stray"], "unexpected argument: stray"),
    (["inspect", "nothing.csv", "--output", "DRIVE"], "No such file"),
])
def test_mistakes_a_new_user_makes_are_one_line_errors(tmp_path, capsys, argv, message):
    drive = tmp_path / "drive"
    drive.mkdir()
    (drive / "a.csv").write_text("id\n1\n")
    argv = [a.replace("DRIVE", str(drive)).replace("OUT", str(tmp_path / "out")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("filegraph: error:") and message.replace("DRIVE", str(drive)) in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()  # nothing ran


def _tiny_drive(folder):
    folder.mkdir()
    (folder / "customers.csv").write_text("customer_id,city\n" + "".join(f"C-{1000 + i},City{i}\n" for i in range(80)))
    (folder / "orders.csv").write_text("order_id,customer_id,amount\n" + "".join(
        f"{i},C-{1000 + (i * 3) % 70},{i * 1.5}\n" for i in range(200)))
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")  # no pattern covers it
    (folder.parent / "truth.json").write_text('{"edges": [{"a": "orders.csv", "b": "customers.csv", "type": "REFERENCES", '
                                       '"source": "orders.csv"}]}')
    return folder


def test_run_with_output_inside_input_never_reads_its_output_and_prints_the_table(tmp_path, capsys):
    drive = _tiny_drive(tmp_path / "drive")
    argv = ["run", "--input", str(drive), "--output", str(drive / "out"), "--config", str(tmp_path / "cfg.yaml")]
    (tmp_path / "cfg.yaml").write_text("relationships: {strategies: [content_similarity]}\n")
    for _ in range(2):  # the second run sees the first run's outputs inside the input
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert re.search(r"files matched\s+2\n", out) and re.search(r"skipped by patterns\s+1\n", out)
        assert re.search(r"REFERENCES\s+1\n", out)
        assert f"outputs in {drive / 'out'}" in out and "report.html" in out and "nodes/" in out

    # evaluate without --root finds the truth's paths under the run's input folder
    assert main(["evaluate", "--truth", str(tmp_path / "truth.json"), "--output", str(drive / "out")]) == 0
    assert re.search(r"recall\s+1\.000", capsys.readouterr().out)
    # a truth whose paths are not files of the run is an error, not a report of zeros
    (tmp_path / "other.json").write_text('{"edges": [{"a": "x.csv", "b": "y.csv", "type": "REFERENCES", "source": "x.csv"}]}')
    assert main(["evaluate", "--truth", str(tmp_path / "other.json"), "--output", str(drive / "out")]) == 2
    assert "none of the 2 files named in" in capsys.readouterr().err

    assert main(["inspect", "orders.csv", "--output", str(drive / "out")]) == 0
    shown = capsys.readouterr().out
    assert "-> REFERENCES  customers.csv" in shown and "evidence: content_similarity" in shown
    file_id = shown.split("id", 1)[1].split()[0]
    assert main(["inspect", file_id, "--output", str(drive / "out")]) == 0
    assert "orders.csv" in capsys.readouterr().out


def test_summary_table_prints_keys_it_does_not_know():
    from beam_pipeline.summary_table import summary_table

    table = summary_table({"counts": {"matched": 3, "processed": 3, "failed": 0, "new_count": 7,
                                      "edges_by_type": {"SUPPORTS": 2}, "edges": 2},
                           "runtime_seconds": 1.5, "stage_seconds": {"extract": 0.5, "score": 0.25},
                           "config": {"batch": {"num_shards": 0}}})
    assert re.search(r"new count\s+7", table) and re.search(r"SUPPORTS\s+2", table)
    assert "stage seconds" in table and re.search(r"extract\s+0\.5", table) and "num_shards" not in table
