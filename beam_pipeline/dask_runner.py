"""Beam's DaskRunner with the two fixes filegraph's graph needs.

Beam 2.77's DaskRunner (apache_beam.runners.dask.dask_runner):
- computes only the last transform's bag, on the assumption that it depends
  on every other; a graph with several sinks (nodes, edges, training, errors,
  run_summary.json) then writes only the last one;
- reads a side input by iterating its bag inside a worker task, a nested
  compute that runs the whole upstream again for every bundle that reads it
  (extraction ran once per side input).

This runner computes every leaf bag (transforms nothing else reads) in one
graph, and persists on the cluster, before its first consumer reads it, each
bag that is read as a side input or by more than one transform. A persisted
bag's upstream runs once; without it, every persist of a later bag would run
extraction again (the sample corpus was extracted three times).

`--runner=DaskRunner` (or Beam's dotted path) selects it (options.py); give the
scheduler with `--dask_client_address=HOST:PORT`.
"""

from __future__ import annotations

from apache_beam.runners.dask import dask_runner as beam_dask
from apache_beam.runners.dask.overrides import dask_overrides


class DaskRunner(beam_dask.DaskRunner):
    """Executes a pipeline on a Dask distributed cluster, every sink included."""

    @staticmethod
    def to_dask_bag_visitor(bag_kwargs=None, shared=frozenset()):
        """`shared`: the transforms whose output is read by several transforms (see shared_producers)."""
        base = type(beam_dask.DaskRunner.to_dask_bag_visitor(bag_kwargs))

        class PersistingVisitor(base):
            def __init__(self):
                super().__init__()
                self.consumed = set()
                self.persisted = []  # held until the run ends, or the cluster drops the results

            def visit_transform(self, transform_node) -> None:
                producers = [getattr(i, "producer", None) for i in transform_node.inputs]
                sides = [side.pvalue.producer for side in transform_node.side_inputs]
                self.consumed.update(producers + sides)
                for producer in sides + [p for p in producers if p in shared]:
                    if producer in self.bags and producer not in self.persisted_nodes():
                        self.bags[producer] = self.bags[producer].persist(optimize_graph=False)
                        self.persisted.append((producer, self.bags[producer]))
                super().visit_transform(transform_node)

            def persisted_nodes(self):
                return {node for node, _ in self.persisted}

            def leaves(self):
                return [bag for node, bag in self.bags.items() if node not in self.consumed]

        return PersistingVisitor()

    @staticmethod
    def shared_producers(pipeline) -> set:
        """Transforms whose output more than one transform reads."""
        from collections import Counter

        from apache_beam.pipeline import PipelineVisitor

        readers: Counter = Counter()

        class CountReaders(PipelineVisitor):
            def visit_transform(self, transform_node) -> None:
                for input_value in transform_node.inputs:
                    readers[getattr(input_value, "producer", None)] += 1

        pipeline.visit(CountReaders())
        return {producer for producer, count in readers.items() if producer is not None and count > 1}

    def run_pipeline(self, pipeline, options):
        import dask
        import dask.distributed as ddist
        from apache_beam.runners.dask.dask_runner import DaskOptions

        dask_options = options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = DaskOptions._extract_bag_kwargs(dask_options)
        client = ddist.Client(**dask_options)
        pipeline.replace_all(dask_overrides())
        visitor = self.to_dask_bag_visitor(bag_kwargs, self.shared_producers(pipeline))
        with dask.config.set(scheduler=client):
            pipeline.visit(visitor)
            futures = client.compute(visitor.leaves(), optimize_graph=False)
        result = beam_dask.DaskRunnerResult(client, futures)
        result.persisted = visitor.persisted
        return result
