"""Beam's DaskRunner with the two fixes filegraph's graph needs.

Beam 2.77's DaskRunner (apache_beam.runners.dask.dask_runner):
- computes only the last transform's bag, on the assumption that it depends
  on every other; a graph with several sinks (nodes, edges, training, errors,
  run_summary.json) then writes only the last one;
- reads a side input by iterating its bag inside a worker task, a nested
  compute that runs the whole upstream again for every bundle that reads it
  (extraction ran once per side input).

This runner computes every leaf bag (transforms nothing else reads) in one
graph, and persists each side input's bag on the cluster before a consumer
reads it, so that reading it gathers results instead of recomputing them.

`--runner=DaskRunner` (or Beam's dotted path) selects it (options.py); give the
scheduler with `--dask_client_address=HOST:PORT`.
"""

from __future__ import annotations

from apache_beam.runners.dask import dask_runner as beam_dask
from apache_beam.runners.dask.overrides import dask_overrides


class DaskRunner(beam_dask.DaskRunner):
    """Executes a pipeline on a Dask distributed cluster, every sink included."""

    @staticmethod
    def to_dask_bag_visitor(bag_kwargs=None):
        base = type(beam_dask.DaskRunner.to_dask_bag_visitor(bag_kwargs))

        class PersistingVisitor(base):
            def __init__(self):
                super().__init__()
                self.consumed = set()
                self.persisted = []  # held until the run ends, or the cluster drops the results

            def visit_transform(self, transform_node) -> None:
                for input_value in transform_node.inputs:
                    self.consumed.add(getattr(input_value, "producer", None))
                for side in transform_node.side_inputs:
                    producer = side.pvalue.producer
                    self.consumed.add(producer)
                    if producer in self.bags and producer not in self.persisted_nodes():
                        self.bags[producer] = self.bags[producer].persist(optimize_graph=False)
                        self.persisted.append((producer, self.bags[producer]))
                super().visit_transform(transform_node)

            def persisted_nodes(self):
                return {node for node, _ in self.persisted}

            def leaves(self):
                return [bag for node, bag in self.bags.items() if node not in self.consumed]

        return PersistingVisitor()

    def run_pipeline(self, pipeline, options):
        import dask
        import dask.distributed as ddist
        from apache_beam.runners.dask.dask_runner import DaskOptions

        dask_options = options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = DaskOptions._extract_bag_kwargs(dask_options)
        client = ddist.Client(**dask_options)
        pipeline.replace_all(dask_overrides())
        visitor = self.to_dask_bag_visitor(bag_kwargs)
        with dask.config.set(scheduler=client):
            pipeline.visit(visitor)
            futures = client.compute(visitor.leaves(), optimize_graph=False)
        result = beam_dask.DaskRunnerResult(client, futures)
        result.persisted = visitor.persisted
        return result
