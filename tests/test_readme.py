"""Every example in README.md runs as written: the shell examples through bash (with
`filegraph` being this checkout), the Python API example, and the DuckDB queries.

The two set-up commands at the top are not run here: the second is this test suite
(CI runs it through .ci/run, checked below) and the first's `filegraph demo` is
tests/test_cli.py's demo test."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.output import writer

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def _shared_data() -> Path:
    for candidate in (REPO.parent / "shared", Path("/work/shared")):
        if (candidate / "data" / "chinook").is_dir():
            return candidate
    pytest.fail("the shared data folder (../shared from the repo root) is missing")


def _commands(block):
    return [c.strip() for c in block.replace("\\\n", " ").splitlines() if c.strip()]


def test_the_set_up_commands_are_what_ci_runs():
    setup = _commands(_blocks("bash")[0])
    assert len(setup) == 2 and setup[0].endswith("filegraph demo")
    assert setup[1] in (REPO / ".ci" / "run").read_text()


@pytest.fixture(scope="module")
def workplace(tmp_path_factory):
    """A home with ~/drive, a working folder with data/ and reports/, and ../shared beside it."""
    base = tmp_path_factory.mktemp("readme")
    home, work = base / "home", base / "work"
    _, drive = write_sample_corpus(str(home / "corpus"), projects=1, seed=2)
    shutil.move(drive, home / "drive")
    (work / "data" / "2024").mkdir(parents=True)
    (work / "data" / "2024" / "customers.csv").write_text(
        "customer_id,city\n" + "".join(f"C-{1000 + i},City{i}\n" for i in range(80)))
    (work / "data" / "orders.csv").write_text("order_id,customer_id,amount\n" + "".join(
        f"{i},C-{1000 + (i * 3) % 70},{i * 1.5}\n" for i in range(200)))
    (work / "reports").mkdir()
    (work / "reports" / "orders.md").write_text("# Orders\n\nThe orders table lists customer_id and amount.\n")
    (base / "shared").symlink_to(_shared_data(), target_is_directory=True)
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO)}
    return work, env


def test_shell_examples_run(workplace):
    work, env = workplace
    examples = [c for block in _blocks("bash")[1:] for c in _commands(block)]
    assert any(c.startswith("filegraph inspect") for c in examples)
    prelude = f'filegraph() {{ "{sys.executable}" -m beam_pipeline "$@"; }}\nset -e\n'
    for command in examples:
        started = time.time()
        result = subprocess.run(["bash", "-c", prelude + command], cwd=work, env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        print(f"{time.time() - started:6.1f}s  {command}")
        if command.startswith("filegraph run"):
            assert "files matched" in result.stdout and "outputs in" in result.stdout
        if command.startswith("filegraph evaluate"):
            assert re.search(r"recall\s+1\.000", result.stdout), result.stdout
        if command.startswith("filegraph inspect"):
            assert "Album.csv" in result.stdout and "REFERENCES" in result.stdout


def test_duckdb_queries_run_on_the_exports(workplace, monkeypatch):
    work, _ = workplace
    queries = _blocks("sql")
    assert len(queries) == 2
    output = work / "out" / "chinook"
    edges = writer.read_jsonl(str(output / "edges"), "edges")
    con = duckdb.connect()
    monkeypatch.chdir(work)
    related = con.execute(queries[0]).fetchall()
    album = [e for e in edges if "/Album.csv" in (e["source_path"][-10:], e["target_path"][-10:])]
    assert album and sorted(r[0] for r in related) == sorted(
        (e["target_path"] if e["source_path"].endswith("/Album.csv") else e["source_path"]).rsplit("/", 1)[-1]
        for e in album)
    assert all(r[1] == "REFERENCES" for r in related)
    by_size = con.execute(queries[1]).fetchall()
    components = con.execute(
        f"SELECT component_id, files, edges FROM '{output}/exports/parquet/components.parquet' "
        "ORDER BY files DESC, component_id").fetchall()
    assert [(r[0], r[1], r[2]) for r in by_size] == components


def test_python_api_example_runs(tmp_path, monkeypatch):
    (tmp_path / "drive").mkdir()
    (tmp_path / "drive" / "customers.csv").write_text(
        "customer_id,city\n" + "".join(f"C-{1000 + i},City{i}\n" for i in range(80)))
    (tmp_path / "drive" / "orders.csv").write_text("order_id,customer_id,amount\n" + "".join(
        f"{i},C-{1000 + (i * 3) % 70},{i * 1.5}\n" for i in range(200)))
    monkeypatch.chdir(tmp_path)
    (example,) = _blocks("python")
    scope = {}
    exec(compile(example, "README.md", "exec"), scope)
    assert scope["summary"]["counts"]["processed"] == 2
    assert [e["relationship_type"] for e in scope["edges"]] == ["REFERENCES"]
    assert scope["training"] and all(r["context"]["primary_file"]["file_path"] in ("orders.csv", "customers.csv")
                                      for r in scope["training"])
