"""Usage errors: one line naming the problem, non-zero exit, no traceback."""

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
