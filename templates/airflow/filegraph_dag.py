"""Example Airflow DAG: run filegraph daily, on Dataflow (Flex Template) or on the Airflow worker.

Copy this file into the DAGs folder. Every setting is an Airflow Variable, read when the tasks
run (never when the DAG file is parsed); nothing secret lives here: Google Cloud access comes
from the Airflow connection `gcp_conn_id` (default `google_cloud_default`).

| Variable | required | meaning |
| --- | --- | --- |
| filegraph_project | yes | Google Cloud project of the Dataflow job |
| filegraph_region | yes | Dataflow region, e.g. us-central1 |
| filegraph_template | yes | template spec written by `gcloud dataflow flex-template build`, gs://.../filegraph.json |
| filegraph_input | yes | files, globs or folders, comma-separated (gs:// for Dataflow) |
| filegraph_output | yes | output root; each run writes to <output>/<ds> |
| filegraph_temp_location | yes | gs:// folder for Dataflow temp files |
| filegraph_config | no | YAML configuration (template parameter `config`) |
| filegraph_min_confidence | no | template parameter `min_confidence` |
| filegraph_num_shards | no | template parameter `num_shards` |
| filegraph_mode | no | `dataflow` (default) or `local`: `local` runs `filegraph run` with BashOperator |

The parameters passed to the template are exactly those of templates/flex_template/metadata.json:
input, output, config, min_confidence, num_shards.

Needs apache-airflow-providers-google (whose Dataflow hook imports
apache-airflow-providers-apache-beam); the `local` branch needs filegraph installed on the worker.
Checked with Airflow 2.10.5, providers google 19.0.0 and apache-beam 6.0: the DAG loads, the
branch follows filegraph_mode and flex_template_body renders the launch request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG, Variable, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models import Variable
    from airflow.operators.bash import BashOperator
from airflow.providers.google.cloud.operators.dataflow import DataflowStartFlexTemplateOperator

OPTIONAL_PARAMETERS = ("config", "min_confidence", "num_shards")

# The local alternative: the same pipeline through the CLI on Beam's in-process runner. The values
# reach the shell as environment variables, so no Variable is ever parsed as shell syntax.
LOCAL_COMMAND = (
    'filegraph run --input "$FILEGRAPH_INPUT" --output "$FILEGRAPH_OUTPUT"'
    ' ${FILEGRAPH_CONFIG:+--config "$FILEGRAPH_CONFIG"}'
    ' ${FILEGRAPH_MIN_CONFIDENCE:+--min_confidence "$FILEGRAPH_MIN_CONFIDENCE"}'
    ' ${FILEGRAPH_NUM_SHARDS:+--num_shards "$FILEGRAPH_NUM_SHARDS"}'
    " --runner=FnApiRunner"
)

with DAG(
    dag_id="filegraph_daily",
    description="filegraph: typed relationship graph and training records from a file corpus",
    schedule="@daily",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["filegraph", "dataflow"],
) as dag:

    @task.branch(task_id="choose_runner")
    def choose_runner() -> str:
        mode = Variable.get("filegraph_mode", "dataflow")
        return "filegraph_local" if mode == "local" else "flex_template_body"

    @task(task_id="flex_template_body")
    def flex_template_body(ds=None, ds_nodash=None) -> dict:
        """The Dataflow launch request; optional parameters are left out when their Variable is unset."""
        parameters = {
            "input": Variable.get("filegraph_input"),
            "output": f"{Variable.get('filegraph_output').rstrip('/')}/{ds}",
        }
        for name in OPTIONAL_PARAMETERS:
            value = Variable.get(f"filegraph_{name}", "")
            if value:
                parameters[name] = value
        return {
            "launchParameter": {
                "jobName": f"filegraph-{ds_nodash}",
                "containerSpecGcsPath": Variable.get("filegraph_template"),
                "parameters": parameters,
                "environment": {"tempLocation": Variable.get("filegraph_temp_location")},
            }
        }

    body = flex_template_body()

    launch = DataflowStartFlexTemplateOperator(
        task_id="filegraph_dataflow",
        project_id="{{ var.value.filegraph_project }}",
        location="{{ var.value.filegraph_region }}",
        body=body,
        wait_until_finished=True,
    )

    local = BashOperator(
        task_id="filegraph_local",
        bash_command=LOCAL_COMMAND,
        env={
            "FILEGRAPH_INPUT": "{{ var.value.filegraph_input }}",
            "FILEGRAPH_OUTPUT": "{{ var.value.filegraph_output.rstrip('/') }}/{{ ds }}",
            "FILEGRAPH_CONFIG": "{{ var.value.get('filegraph_config', '') }}",
            "FILEGRAPH_MIN_CONFIDENCE": "{{ var.value.get('filegraph_min_confidence', '') }}",
            "FILEGRAPH_NUM_SHARDS": "{{ var.value.get('filegraph_num_shards', '') }}",
        },
        append_env=True,
    )

    choose_runner() >> [body, local]
    body >> launch
