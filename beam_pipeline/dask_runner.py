"""Beam's DaskRunner with the fixes filegraph's graph needs.

Beam 2.77's DaskRunner (apache_beam.runners.dask) translates each transform to
a dask.bag operation, and:
- computes only the last transform's bag, on the assumption that it depends on
  every other: a graph with several sinks (nodes, edges, training, errors,
  run_summary.json) then writes only the last one;
- reads a side input by iterating its bag inside every task of the reading
  step, a nested compute that runs the side input's upstream again (extraction
  ran once per side input);
- lets partition counts grow: a Flatten's bag has the sum of its inputs'
  partitions and a GroupByKey shuffles as many as it reads, so the joins
  multiply them (the 55-file test drive took about 8,200 DoFn tasks and 68,000
  shuffle tasks, six minutes for three seconds of work);
- drops what a DoFn emits from `finish_bundle`, sends every tagged output to
  the main one, and shares one receiver list (and one DoFn instance) between
  the tasks that unpickle them together.

This runner makes each side input one gathered value that every task of its
reader takes as an argument (computed once, shipped to each worker once).
Every GroupByKey shuffles exactly `partitions` partitions, and a Flatten with
more is merged down to it; `partitions` is `--dask_npartitions`, or two per
worker thread of the cluster. Each task unpickles its own DoFn and keeps what
`finish_bundle` emits; a ParDo's tagged outputs go to their own PCollections.
Every leaf (a PCollection nothing reads) is computed, in one graph.

`--runner=DaskRunner` (or Beam's dotted path) selects it (options.py); give the
scheduler with `--dask_client_address=HOST:PORT`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import apache_beam as beam
import dask.bag as db
from apache_beam import pvalue
from apache_beam.internal import pickler
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor
from apache_beam.runners.common import DoFnContext, DoFnInvoker, DoFnSignature, Receiver, _OutputHandler
from apache_beam.runners.dask import dask_runner as beam_dask
from apache_beam.runners.dask import transform_evaluator as beam_ops
from apache_beam.runners.dask.overrides import _Create, _Flatten, _GroupByKeyOnly, dask_overrides
from dask import delayed

# Partitions per worker thread of the cluster, when --dask_npartitions does not say.
PARTITIONS_PER_THREAD = 1


class _TagReceiver(Receiver):
    """Collects one output tag's values as (tag, value) pairs."""

    def __init__(self, tag: Optional[str], out: list):
        self.tag, self.out = tag, out

    def receive(self, windowed_value) -> None:
        self.out.append((self.tag, windowed_value.value))


class _Receivers(dict):
    """A receiver per output tag, made on first use; all write to `out`."""

    def __init__(self):
        super().__init__()
        self.out: list = []

    def __missing__(self, tag):
        self[tag] = _TagReceiver(tag, self.out)
        return self[tag]


def _gather(parts) -> list:
    return [item for part in parts for item in part]


class _MultiMap(dict):
    """AsMultiMap's view: the values of a key, [] for a key it lacks (never inserted: tasks share it)."""

    def __missing__(self, key):
        return []


def _view(values: list, view_class, options: dict):
    """A side input's view (list, dict, multimap, singleton...) of its gathered values, built once."""
    if view_class is pvalue.AsMultiMap:
        view = _MultiMap()
        for key, value in values:
            view.setdefault(key, []).append(value)
        return view
    return view_class._from_runtime_iterable(values, options)


class _GlobalSideInput:
    """A built view, for every window: what the DoFn invoker asks of a side input."""

    def __init__(self, view):
        self._view = view

    def __getitem__(self, window):
        return self._view

    def is_globally_windowed(self) -> bool:
        return True


def _run_dofn(items, payload: bytes, label: str, tagged: bool, *views) -> list:
    """A DoFn over one partition: its own instance, setup to teardown; its outputs, as (tag, value) if `tagged`."""
    fn, args, kwargs, window_fn = pickler.loads(payload)
    receivers = _Receivers()
    handler = _OutputHandler(window_fn=window_fn, main_receivers=receivers[None], tagged_receivers=receivers,
                             per_element_output_counter=None, output_batch_converter=None,
                             process_yields_batches=False, process_batch_yields_elements=False)
    invoker = DoFnInvoker.create_invoker(
        DoFnSignature(fn), handler, context=DoFnContext(label, state=None),
        side_inputs=[_GlobalSideInput(view) for view in views],
        input_args=list(args), input_kwargs=kwargs, user_state_context=None,
        bundle_finalizer_param=beam.DoFn.BundleFinalizerParam())
    invoker.invoke_setup()
    invoker.invoke_start_bundle()
    for item in items:
        invoker.invoke_process(beam_ops.get_windowed_value(item, window_fn))
    invoker.invoke_finish_bundle()  # before collecting: what it emits is output too
    invoker.invoke_teardown()
    return receivers.out if tagged else [value for _, value in receivers.out]


def _values_of(pairs, tag: Optional[str]) -> list:
    return [value for t, value in pairs if t == tag]


def _group_values(item):
    """(key, [(key, windowed value)...]) -> (key, [windowed value...]) for GroupAlsoByWindow, a ParDo."""
    key, pairs = item
    return key, [value for _, value in pairs]


def _key(item):
    return item[0]


class BagVisitor(PipelineVisitor):
    """Translates every transform to dask bags, one per PCollection; side inputs become gathered values."""

    def __init__(self, bag_kwargs: Dict[str, Any], partitions: int):
        self.bag_kwargs = bag_kwargs  # Beam's Create reads npartitions / partition_size
        self.partitions = partitions
        self.bags: Dict[pvalue.PCollection, Any] = {}
        self.gathered: Dict[pvalue.PCollection, Any] = {}
        self.read = set()

    def visit_transform(self, node: AppliedPTransform) -> None:
        inputs = [i for i in node.inputs if not isinstance(i, pvalue.PBegin)]
        self.read.update(inputs)
        transform = node.transform
        if isinstance(transform, _Create):
            out = {None: beam_ops.Create(node, bag_kwargs=self.bag_kwargs).apply(None)}
        elif isinstance(transform, beam.ParDo):
            out = self._par_do(node, self.bags[inputs[0]])
        elif isinstance(transform, _GroupByKeyOnly):
            out = {None: self._group_by_key(self.bags[inputs[0]])}
        elif isinstance(transform, _Flatten):
            out = {None: self._flatten([self.bags[i] for i in inputs])}
        elif len(inputs) == 1:  # Beam's overrides leave identities (Reshuffle) behind
            out = {None: self.bags[inputs[0]]}
        else:
            raise NotImplementedError(f"DaskRunner cannot run {node.full_label} ({type(transform).__name__})")
        for tag, pcoll in node.outputs.items():
            self.bags[pcoll] = out[tag] if tag in out else out[None]

    def _par_do(self, node: AppliedPTransform, bag) -> Dict[Optional[str], Any]:
        transform = node.transform
        main_input = next(iter(node.main_inputs.values()))
        window_fn = main_input.windowing.windowfn if hasattr(main_input, "windowing") else None
        payload = pickler.dumps((transform.fn, transform.args, transform.kwargs, window_fn))
        views = [delayed(_view)(self._gathered(side.pvalue), type(side), side._view_options())
                 for side in node.side_inputs]
        if len(node.outputs) == 1:
            return {None: bag.map_partitions(_run_dofn, payload, node.full_label, False, *views)}
        pairs = bag.map_partitions(_run_dofn, payload, node.full_label, True, *views)
        return {tag: pairs.map_partitions(_values_of, tag) for tag in node.outputs}

    def _gathered(self, pcoll: pvalue.PCollection):
        """The whole PCollection as one list (a dask Delayed), made once however many views read it."""
        self.read.add(pcoll)
        if pcoll not in self.gathered:
            self.gathered[pcoll] = self.bags[pcoll].reduction(list, _gather).to_delayed(optimize_graph=False)
        return self.gathered[pcoll]

    def _group_by_key(self, bag):
        # dask's task shuffle hashes keys with tokenize (the same in every worker process) and
        # outputs as many partitions as it reads: read exactly `partitions`.
        if bag.npartitions != self.partitions:
            bag = bag.repartition(npartitions=self.partitions)
        return bag.groupby(_key, shuffle="tasks").map(_group_values)

    def _flatten(self, bags: List[Any]):
        bag = db.concat(bags)
        return bag.repartition(npartitions=self.partitions) if bag.npartitions > self.partitions else bag

    def leaves(self) -> List[Any]:
        """The bags no transform reads: computing them computes the whole graph."""
        return [bag for pcoll, bag in self.bags.items() if pcoll not in self.read]


class DaskRunner(beam_dask.DaskRunner):
    """Executes a pipeline on a Dask distributed cluster, every sink included."""

    @staticmethod
    def is_fnapi_compatible():
        # False makes Pipeline.run round-trip the graph through its protos first (about 5 s on
        # filegraph's graph), to check that it serialises: BagVisitor pickles every DoFn itself.
        return True

    @staticmethod
    def partitions(client, dask_npartitions: Any = None) -> int:
        """--dask_npartitions, or PARTITIONS_PER_THREAD per worker thread of the cluster."""
        if dask_npartitions:
            return int(dask_npartitions)
        threads = sum(client.nthreads().values()) or 1
        return PARTITIONS_PER_THREAD * threads

    def run_pipeline(self, pipeline, options):
        import dask.distributed as ddist
        from apache_beam.runners.dask.dask_runner import DaskOptions

        dask_options = options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = DaskOptions._extract_bag_kwargs(dask_options)
        client = ddist.Client(**dask_options)
        pipeline.replace_all(dask_overrides())
        visitor = BagVisitor(bag_kwargs, self.partitions(client, bag_kwargs.get("npartitions")))
        pipeline.visit(visitor)
        futures = client.compute(visitor.leaves())
        return beam_dask.DaskRunnerResult(client, futures)
