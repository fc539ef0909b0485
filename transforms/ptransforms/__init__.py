"""Beam wrappers: thin, labelled, typed PTransforms around the pure logic, one module per stage.

  common    timing (Timed), counting (Counted), outcomes that may fail per element
  grouping  SpilledGroupByKey (a grouping whose values wait on disk), GroupedSteps (a chain of
            groupings whose steps run a spilled partition at a time in worker processes)
  extract   MatchInputs, ExtractFiles, EmbedRecords
  detect    CandidatePairs, ScorePairs, DeclaredEdges, MergeDeclared
  output    ReviewBorderline, Spilled, TrainingRecords, DropNearDuplicates, OnlySplit, ApplyReview
  stream    WatchInputs, StreamingGraph (`filegraph run --streaming`)

The work itself lives in extract/, detect/ and output/; a wrapper only wires it into Beam.
"""

from transforms.ptransforms.common import Counted, Timed, guarded, split_outcomes, stage_error
from transforms.ptransforms.detect import CandidatePairs, DeclaredEdges, MergeDeclared, ScorePairs
from transforms.ptransforms.extract import EmbedRecords, ExtractFiles, MatchInputs
from transforms.ptransforms.output import (ApplyReview, DropNearDuplicates, OnlySplit, ReviewBorderline, Spilled,
                                          TrainingRecords)

__all__ = [
    "ApplyReview", "CandidatePairs", "Counted", "DeclaredEdges", "DropNearDuplicates", "EmbedRecords",
    "ExtractFiles", "MatchInputs", "MergeDeclared", "OnlySplit", "ReviewBorderline", "ScorePairs", "Spilled",
    "Timed", "TrainingRecords", "guarded", "split_outcomes", "stage_error",
]
