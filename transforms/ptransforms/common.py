"""What every stage's Beam wrappers share: timing, counting, and outcomes that may fail per element."""

from __future__ import annotations

from typing import Callable, Optional

import typing

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.model import FAILED, OK, stage_error
from transforms.output.spill import BundleSpill
from transforms.telemetry import NAMESPACE, Telemetry

NO_TELEMETRY = Telemetry()



class Timed(beam.DoFn):
    """A DoFn, or a FlatMap-style function, whose time counts to one stage (transforms/telemetry.py)."""

    def __init__(self, stage: str, inner, telemetry: Optional[Telemetry]):
        self._stage = stage
        self._inner = inner
        self._telemetry = telemetry or NO_TELEMETRY

    def _is_dofn(self) -> bool:
        return isinstance(self._inner, beam.DoFn)

    def setup(self):
        if self._is_dofn():
            self._inner.setup()

    def start_bundle(self):
        if self._is_dofn():
            self._inner.start_bundle()

    def process(self, element, *args, **kwargs):
        fn = self._inner.process if self._is_dofn() else self._inner
        return self._telemetry.timed(self._stage, lambda: fn(element, *args, **kwargs) or ())

    def finish_bundle(self):
        if self._is_dofn():
            self._inner.finish_bundle()
        self._telemetry.flush()

    def teardown(self):
        if self._is_dofn():
            self._inner.teardown()


class Counted(beam.DoFn):
    """Passes elements on and counts them (a progress counter)."""

    def __init__(self, name: str, telemetry: Optional[Telemetry]):
        self._name = name
        self._telemetry = telemetry or NO_TELEMETRY

    def process(self, element):
        self._telemetry.add(self._name, 1)
        yield element

    def finish_bundle(self):
        self._telemetry.flush()


# Outcomes (model.OK, model.FAILED) travel as one PCollection of (kind, value) tuples split by
# Filters, never as a multi-output ParDo: Beam's DaskRunner routes every tagged output to the main one.
def split_outcomes(outcomes, label: str, ok_type=None):
    """(kind, value) outcomes -> (values that succeeded, values that failed); `ok_type` types the first."""
    return (outcomes | f"{label}Ok" >> only_kind(OK).with_output_types(ok_type or typing.Any),
            outcomes | f"{label}Failed" >> only_kind(FAILED))


def only_kind(kind: str) -> beam.PTransform:
    """(kind, value) outcomes -> the values of one kind."""
    return beam.FlatMap(lambda o: [o[1]] if o[0] == kind else [])


def guarded(stage: str, fn: Callable, path_of: Callable, paired_with: Callable = lambda element: None):
    """`fn` (element -> iterable of outputs) as (OK, output) outcomes; an exception on one
    element becomes one (FAILED, ErrorRecord) naming its file (and pair) instead of failing the run."""

    def outcomes(element):
        try:
            return [(OK, output) for output in fn(element)]
        except Exception as exc:  # this element's failure, recorded; the others go on
            STAGE_ERRORS.inc()
            return [(FAILED, stage_error(stage, exc, path_of(element), paired_with(element)))]

    return outcomes


STAGE_ERRORS = Metrics.counter(NAMESPACE, "stage_errors")


class BundleSpillFn(beam.DoFn):
    """A DoFn that spills to one file a bundle (spill.BundleSpill, opened with the first line under
    `spill_dir`), closed when the bundle ends, before any later step reads it."""

    def __init__(self, spill_dir: str, prefix: str):
        self._spill_dir = spill_dir
        self._prefix = prefix
        self._spill: Optional[BundleSpill] = None

    def bundle_spill(self) -> BundleSpill:
        if self._spill is None:
            self._spill = BundleSpill(self._spill_dir, self._prefix)
        return self._spill

    def finish_bundle(self):
        if self._spill is not None:
            self._spill.close()
        self._spill = None
