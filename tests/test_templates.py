"""Templated launches: the launcher, the Flex Template files, the Airflow DAG and runners.md."""

import argparse
import ast
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.runner import PipelineState

from beam_pipeline import cli, launcher
from beam_pipeline.options import (
    FilegraphOptions,
    config_from_options,
    effective_config,
    pipeline_options,
)
from transforms.output import writer

ROOT = Path(__file__).resolve().parent.parent
FLEX = ROOT / "templates" / "flex_template"
DAG = ROOT / "templates" / "airflow" / "filegraph_dag.py"
METADATA = json.loads((FLEX / "metadata.json").read_text())
PARAMETERS = {p["name"]: p for p in METADATA["parameters"]}
# Every strategy but semantic_similarity, whose embedding model takes long to load: the launcher's
# behaviour does not depend on which strategies run.
FAST_CONFIG = ("relationships:\n  strategies: [filename_pattern, content_similarity, aggregate_matching,"
               " metadata_matching, structure_matching]\n")


def _launcher_flags():
    parser = argparse.ArgumentParser()
    FilegraphOptions._add_argparse_args(parser)
    return {s[2:] for action in parser._actions for s in action.option_strings if s.startswith("--")} - {"help"}


@pytest.fixture
def corpus(tmp_path):
    """orders.csv's customer_id column references customers.csv's key, 60 ids like C-1001."""
    data = tmp_path / "data"
    data.mkdir()
    with open(data / "customers.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "segment", "region"])
        for i in range(60):
            w.writerow([f"C-{1001 + i}", ["retail", "wholesale", "online"][i % 3], ["north", "south"][i % 2]])
    with open(data / "orders.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["order_id", "customer_id", "amount"])
        for i in range(150):
            w.writerow([f"O-{5000 + i}", f"C-{1001 + (i * 7) % 60}", round(10 + i * 1.5, 2)])
    config = tmp_path / "filegraph.yaml"
    config.write_text(FAST_CONFIG)
    return data, config


def _check_outputs(output, shards):
    summary = writer.read_json(os.path.join(output, "run_summary.json"))
    counts = summary["counts"]
    assert (counts["matched"], counts["processed"], counts["failed"]) == (2, 2, 0)
    assert summary["invariant_matched_equals_processed_plus_failed"] is True
    assert counts["edges_by_type"].get("REFERENCES", 0) >= 1
    assert sorted(os.listdir(os.path.join(output, "nodes"))) == [
        f"nodes-{i:05d}-of-{shards:05d}.jsonl" for i in range(shards)]
    nodes = writer.read_jsonl(os.path.join(output, "nodes"), "nodes")
    assert sorted(n["file_name"] for n in nodes) == ["customers.csv", "orders.csv"]
    names = {n["file_id"]: n["file_name"] for n in nodes}
    edges = writer.read_jsonl(os.path.join(output, "edges"), "edges")
    assert ("orders.csv", "customers.csv", "REFERENCES") in {
        (names[e["source"]], names[e["target"]], e["relationship_type"]) for e in edges}
    return summary


# --- metadata.json -------------------------------------------------------------------------------

def test_metadata_declares_exactly_the_launcher_options():
    assert set(PARAMETERS) == _launcher_flags() == {"input", "output", "config", "min_confidence", "num_shards"}
    assert METADATA["name"] and METADATA["description"]


def test_metadata_parameters_have_label_help_and_optionality():
    for name, param in PARAMETERS.items():
        assert param["label"].strip() and param["helpText"].strip(), name
        assert param["isOptional"] is (name not in ("input", "output")), name
        assert param["regexes"], name


EXAMPLES = {
    "input": (["gs://bucket/drive/", "gs://bucket/exports/*.csv", "gs://b/a.csv,gs://b/reports/**",
               "gs://b/a.csv, gs://b/c.xlsx"],
              ["", "/home/me/drive", "s3://bucket/drive/", "gs://b/a.csv,/tmp/x.csv", "gs://b/a.csv,"]),
    "output": (["gs://bucket/filegraph/out", "gs://bucket/out/2025-01-01/"],
               ["", "out/", "/tmp/out", "gs://b/one,gs://b/two"]),
    "config": (["gs://bucket/filegraph.yaml", "gs://bucket/conf/prod.yml"],
               ["", "/etc/filegraph.yaml", "gs://bucket/filegraph.json"]),
    "min_confidence": (["0", "0.7", "0.65", "1", "1.0"], ["", "1.5", "-0.1", "abc", ".7", "0.7.1"]),
    "num_shards": (["0", "4", "128"], ["", "-1", "2.5", "four"]),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_metadata_regexes_compile_and_accept_only_sensible_values(name):
    patterns = [re.compile(r) for r in PARAMETERS[name]["regexes"]]
    accepted, rejected = EXAMPLES[name]
    for value in accepted:
        assert all(p.fullmatch(value) for p in patterns), (name, value)
    for value in rejected:
        assert not all(p.fullmatch(value) for p in patterns), (name, value)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_values_the_template_accepts_parse_as_launcher_options(name):
    for value in EXAMPLES[name][0]:
        ours = PipelineOptions([f"--{name}={value}"]).view_as(FilegraphOptions)
        parsed = getattr(ours, "inputs" if name == "input" else name)
        assert parsed is not None and parsed != "", (name, value)


# --- Dockerfile ----------------------------------------------------------------------------------

def _dockerfile():
    text = (FLEX / "Dockerfile").read_text()
    lines = [ln.strip() for ln in text.replace("\\\n", " ").splitlines() if ln.strip() and not ln.startswith("#")]
    args = dict(ln.split(None, 1)[1].split("=", 1) for ln in lines if ln.startswith("ARG ") and "=" in ln)
    expand = lambda s: re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], s).strip('"')
    copies = [[expand(w) for w in ln.split()[1:]] for ln in lines if ln.startswith("COPY ")]
    env = dict(expand(ln.split(None, 1)[1]).split("=", 1) for ln in lines if ln.startswith("ENV "))
    env = {k: v.strip('"') for k, v in env.items()}
    return lines, args, copies, env


def test_dockerfile_builds_on_the_python311_launcher_base():
    lines, _, _, _ = _dockerfile()
    assert lines[0].split()[1].startswith("gcr.io/dataflow-templates-base/python311-template-launcher-base")
    assert any(ln.startswith("RUN ") and "pip install" in ln for ln in lines)


def test_dockerfile_copies_files_that_exist():
    _, _, copies, _ = _dockerfile()
    sources = [src for *srcs, _dest in copies for src in srcs]
    assert {"setup.py", "requirements.txt", "beam_pipeline", "transforms"} <= set(sources)
    for src in sources:
        assert (ROOT / src).exists(), src


def test_dockerfile_points_the_launcher_at_files_it_copies():
    _, args, copies, env = _dockerfile()
    workdir = args["WORKDIR"]
    # Where each COPY puts its sources in the image: "COPY a b dir/" -> dir/a, dir/b; "COPY a dir" -> dir.
    in_image = [dest if len(srcs) == 1 and not dest.endswith("/") else dest + Path(src).name
                for *srcs, dest in copies for src in srcs]
    expected = {"FLEX_TEMPLATE_PYTHON_PY_FILE": "beam_pipeline/launcher.py", "FLEX_TEMPLATE_PYTHON_SETUP_FILE": "setup.py"}
    for variable, relative in expected.items():
        assert env[variable] == f"{workdir}/{relative}"
        assert (ROOT / relative).is_file()
        assert any(env[variable] == path or env[variable].startswith(path + "/") for path in in_image), variable


# --- Airflow DAG ---------------------------------------------------------------------------------

def _dag_tree():
    return ast.parse(DAG.read_text(), filename=str(DAG))


def _calls(tree, name):
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "id", getattr(n.func, "attr", None)) == name]


def _assigned(tree, name):
    return next(ast.literal_eval(n.value) for n in ast.walk(tree)
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == name)


def test_dag_parses_and_schedules_the_flex_template_daily():
    tree = _dag_tree()
    dag = _calls(tree, "DAG")
    assert len(dag) == 1
    assert {k.arg: ast.literal_eval(k.value) for k in dag[0].keywords if k.arg == "schedule"} == {"schedule": "@daily"}
    (flex,) = _calls(tree, "DataflowStartFlexTemplateOperator")
    assert {"project_id", "location", "body"} <= {k.arg for k in flex.keywords}


def test_dag_passes_every_template_parameter_and_only_those():
    tree = _dag_tree()
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert set(PARAMETERS) <= strings
    (body,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "flex_template_body"]
    keys = {k.value for n in ast.walk(body) if isinstance(n, ast.Dict) for k in n.keys if isinstance(k, ast.Constant)}
    assert {"input", "output"} | set(_assigned(tree, "OPTIONAL_PARAMETERS")) == set(PARAMETERS)
    assert {"launchParameter", "containerSpecGcsPath", "parameters", "input", "output"} <= keys


def test_dag_has_a_local_bash_alternative_running_filegraph_run():
    tree = _dag_tree()
    (bash,) = _calls(tree, "BashOperator")
    command = _assigned(tree, "LOCAL_COMMAND")
    assert command.startswith("filegraph run ") and "--runner=FnApiRunner" in command
    for flag in ("--input", "--output", "--config", "--min_confidence", "--num_shards"):
        assert flag in command
    assert {"bash_command", "env"} <= {k.arg for k in bash.keywords}


def test_dag_settings_come_from_documented_variables_and_hold_no_secrets():
    source = DAG.read_text()
    tree = _dag_tree()
    used = {c.args[0].value for c in _calls(tree, "get")
            if getattr(c.func, "value", None) is not None and getattr(c.func.value, "id", "") == "Variable"
            and isinstance(c.args[0], ast.Constant)}
    used |= {f"filegraph_{name}" for name in _assigned(tree, "OPTIONAL_PARAMETERS")}  # Variable.get(f"filegraph_{name}")
    used |= set(re.findall(r"var\.value\.(?:get\(')?(\w+)", source))
    documented = set(re.findall(r"^\| (filegraph_\w+) \|", ast.get_docstring(tree), flags=re.M))
    assert {"filegraph_input", "filegraph_output", "filegraph_template", "filegraph_project"} <= used
    assert used <= documented
    assert not re.search(r"(password|private_key|keyfile|api_key|token)\s*=", source, flags=re.I)
    assert not re.search(r"AIza[0-9A-Za-z_-]{20,}|BEGIN [A-Z ]*PRIVATE KEY", source)


# --- runners.md ----------------------------------------------------------------------------------

def test_runners_doc_names_flags_beam_knows():
    text = (ROOT / "templates" / "runners.md").read_text()
    from apache_beam.options.pipeline_options import DirectOptions, PortableOptions

    parser = argparse.ArgumentParser()
    for cls in (DirectOptions, PortableOptions, FilegraphOptions):
        cls._add_argparse_args(parser)
    known = {s for a in parser._actions for s in a.option_strings}
    for flag in ("--direct_running_mode", "--direct_num_workers", "--job_endpoint", "--environment_type"):
        assert flag in text and flag in known
    assert "--runner=PortableRunner --job_endpoint=localhost:8099 --environment_type=LOOPBACK" in text
    assert "python -m beam_pipeline.job_service --port 8099" in text  # Beam's job service, with the data-plane fix
    assert "apache_beam.runners.portability.local_job_service_main" in text
    assert "--runner=DaskRunner --dask_client_address=tcp://127.0.0.1:8786" in text
    assert "dask worker tcp://127.0.0.1:8786" in text
    dask = pipeline_options(["--runner=DaskRunner"]).view_as(StandardOptions).runner
    assert dask == "beam_pipeline.dask_runner.DaskRunner"  # Beam's, fixed for several sinks


# --- the launcher --------------------------------------------------------------------------------

def test_cli_and_launcher_share_the_config_code(tmp_path):
    assert cli.effective_config is effective_config
    path = tmp_path / "c.yaml"
    path.write_text("relationships:\n  thresholds:\n    min_confidence: 0.8\nbatch:\n  num_shards: 3\n")
    options = PipelineOptions([f"--config={path}", "--num_shards=2"])
    config = config_from_options(options)
    assert config.relationships.thresholds.min_confidence == 0.8  # from the file
    assert config.batch.num_shards == 2  # the flag wins
    assert config == effective_config(str(path), None, 2)


@pytest.mark.parametrize("argv, submits", [
    ([], False),
    (["--runner=FnApiRunner"], False),
    (["--runner=DataflowRunner"], True),
    (["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"], False),
    (["--runner=PortableRunner", "--job_endpoint=localhost:8099", "--environment_type=LOOPBACK"], False),
    (["--runner=PortableRunner", "--job_endpoint=localhost:8099", "--environment_type=DOCKER"], True),
    (["--runner=FlinkRunner", "--flink_master=localhost:8081"], False),
    (["--runner=apache_beam.runners.dask.dask_runner.DaskRunner"], False),
])
def test_launcher_waits_unless_a_service_runs_the_job(argv, submits):
    assert launcher.submits_to_service(PipelineOptions(argv)) is submits


def test_launcher_runs_end_to_end_on_fnapirunner(corpus, tmp_path):
    data, config = corpus
    output = str(tmp_path / "out")
    result = launcher.run([
        f"--input={data / 'customers.csv'},{data / 'orders.csv'}",  # one comma-separated string
        f"--output={output}", f"--config={config}", "--min_confidence=0.5", "--num_shards=2",
        "--runner=FnApiRunner",
    ])
    assert result.state == PipelineState.DONE
    summary = _check_outputs(output, shards=2)
    assert summary["config"]["relationships"]["thresholds"]["min_confidence"] == 0.5
    assert summary["config"]["batch"]["num_shards"] == 2
    assert len(summary["inputs"]) == 2


def test_launcher_runs_through_the_portable_runner_with_an_embedded_job_service(corpus, tmp_path):
    data, config = corpus
    output = str(tmp_path / "out")
    result = launcher.run([f"--input={data}", f"--output={output}", f"--config={config}",
                           "--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"])
    assert result.state == PipelineState.DONE
    _check_outputs(output, shards=1)


def test_missing_output_is_a_one_line_usage_error(corpus, capsys):
    data, _ = corpus
    with pytest.raises(SystemExit) as exit_info:
        launcher.run([f"--input={data}"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "filegraph-launcher: error: --output is required (a local or gs:// directory)\n"


@pytest.mark.parametrize("argv, message", [
    (["--output=OUT"], "--input is required"),
    (["--input=DATA/nothing-here", "--output=OUT"], "input not found: "),
    (["--input=DATA", "--output=OUT", "--min_confidence=3"], "threshold 'min_confidence' must be between 0 and 1"),
])
def test_other_usage_errors_exit_2_with_one_line(corpus, tmp_path, capsys, argv, message):
    data, _ = corpus
    argv = [a.replace("DATA", str(data)).replace("OUT", str(tmp_path / "out")) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        launcher.run(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("filegraph-launcher: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_the_flex_template_entry_file_exits_2_without_a_traceback(corpus):
    """The template launcher runs `python beam_pipeline/launcher.py --name=value ...`."""
    data, _ = corpus
    proc = subprocess.run([sys.executable, str(ROOT / "beam_pipeline" / "launcher.py"), f"--input={data}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "filegraph-launcher: error: --output is required (a local or gs:// directory)")


# --- SDK worker image ----------------------------------------------------------------------------

def test_sdk_worker_image_matches_the_pinned_beam_and_installs_the_local_extras():
    text = (ROOT / "templates" / "sdk_worker" / "Dockerfile").read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    beam_pin = next(ln for ln in (ROOT / "requirements.txt").read_text().splitlines() if ln.startswith("apache-beam=="))
    assert lines[0] == f"FROM apache/beam_python3.11_sdk:{beam_pin.split('==')[1]}"
    sources = [w for ln in lines if ln.startswith("COPY ") for w in ln.split()[1:-1]]
    assert {"setup.py", "requirements.txt", "beam_pipeline", "transforms"} <= set(sources)
    assert all((ROOT / src).exists() for src in sources)
    flex = (FLEX / "Dockerfile").read_text()
    assert '"${WORKDIR}[gcp]"' in text and '"${WORKDIR}[gcp]"' in flex  # gs:// works in both images


def _package_data_files():
    """Every data file setup.py's package_data declares (read at run time: on workers too)."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    (declared,) = [ast.literal_eval(k.value) for n in ast.walk(tree) if isinstance(n, ast.Call)
                   for k in n.keywords if k.arg == "package_data"]
    return {path.relative_to(ROOT).as_posix() for package, patterns in declared.items() for pattern in patterns
            for path in (ROOT / package.replace(".", "/")).glob(pattern) if path.is_file()}


@pytest.mark.parametrize("dockerfile", ["flex_template/Dockerfile", "sdk_worker/Dockerfile"])
def test_images_copy_every_data_file_the_package_reads(dockerfile):
    text = (ROOT / "templates" / dockerfile).read_text()
    sources = [w for ln in text.splitlines() if ln.startswith("COPY ") for w in ln.split()[1:-1]]
    data = _package_data_files()
    assert "templates/reasoning.yaml" in data and len(data) > 10
    missing = [f for f in sorted(data) if not any(f == src or f.startswith(src + "/") for src in sources)]
    assert missing == []
