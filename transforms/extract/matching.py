"""Which files an input names: a file, a glob, or a directory walked recursively.

Works on every Beam filesystem (local paths, gs://). A directory is listed
recursively and filtered by the configured name patterns; a glob is taken as
given; a plain file is matched as itself even if no pattern covers it, so the
user gets an unsupported_format error rather than a silent skip.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator, List, Optional, Sequence, Set, Tuple


def _filesystems():
    """Beam's FileSystems (local, gs://), imported on first use: training workers read paths with
    `relative_path` and need none of Beam."""
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class MatchedFile:
    path: str
    size: int
    modified_at: Optional[str]  # ISO 8601 UTC, when the filesystem reports it


def is_glob(spec: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in spec)


def name_matches(path: str, patterns: Sequence[str]) -> bool:
    name = path.rstrip("/").rsplit("/", 1)[-1].lower()
    return any(fnmatch.fnmatchcase(name, p.lower()) for p in patterns)


def _iso(timestamp: Optional[float]) -> Optional[str]:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _normalise(spec: str) -> str:
    return spec if "://" in spec else os.path.abspath(os.path.expanduser(spec))


def matched_file(metadata) -> MatchedFile:
    """A Beam FileMetadata as the pipeline's MatchedFile."""
    return MatchedFile(metadata.path, int(metadata.size_in_bytes), _iso(getattr(metadata, "last_updated_in_seconds", None)))


def expand_input(spec: str, patterns: Sequence[str], exclude: Sequence[str] = ()) -> Iterator[MatchedFile]:
    """Every file one input names, in path order."""
    for matched, item in match_outcomes(spec, patterns, exclude):
        if matched:
            yield item


def match_outcomes(spec: str, patterns: Sequence[str], exclude: Sequence[str] = ()) -> Iterator[Tuple[bool, object]]:
    """(True, MatchedFile) for each file an input names; (False, path) for a file of a
    walked directory that no pattern covers. Files under an `exclude` folder (the run's
    own output, when it sits inside an input) are neither."""
    spec = _normalise(spec)
    excluded = tuple(_normalise(e).rstrip("/") + "/" for e in exclude)

    def kept(path: str) -> bool:
        return not path.startswith(excluded)

    if is_glob(spec):
        results = _filesystems().match([spec])[0].metadata_list
        for m in sorted(results, key=lambda m: m.path):
            if not m.path.endswith("/") and kept(m.path):
                yield True, matched_file(m)
        return
    exact = [m for m in _filesystems().match([spec])[0].metadata_list if m.path.rstrip("/") == spec.rstrip("/")]
    if exact and not (spec.endswith("/") or os.path.isdir(spec)):
        yield True, matched_file(exact[0])
        return
    directory = spec.rstrip("/") + "/"
    listed = _filesystems().match([directory + "**"])[0].metadata_list
    outcomes: List[Tuple[bool, object]] = []
    for m in listed:
        if m.path.endswith("/") or not kept(m.path):
            continue
        outcomes.append((True, matched_file(m)) if name_matches(m.path, patterns) else (False, m.path))
    if "://" not in spec:
        found = {m.path for m in listed}
        outcomes += [(True, m) for m in _unlisted_local_files(directory, found, patterns) if kept(m.path)]
    yield from sorted(outcomes, key=lambda outcome: outcome[1].path if outcome[0] else outcome[1])


def _unlisted_local_files(directory: str, listed: Set[str], patterns: Sequence[str]) -> List[MatchedFile]:
    """Names the filesystem's listing drops because they cannot be stat'ed (a symlink loop, a
    dangling link): matched all the same, so that reading them gives an error record, not silence."""
    unlisted = []
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            if path not in listed and name_matches(path, patterns) and not os.path.exists(path):
                unlisted.append(MatchedFile(path, 0, None))
    return unlisted


def input_root(spec: str) -> str:
    """The folder an input's files are named relative to: the directory itself, a glob's
    fixed leading folders, or a single file's folder. Ends with '/'."""
    spec = _normalise(spec)
    if is_glob(spec):
        fixed = spec[:min(spec.index(ch) for ch in _GLOB_CHARS if ch in spec)]
        return fixed.rsplit("/", 1)[0] + "/"
    folder = os.path.isdir(spec) if "://" not in spec else not _filesystems().exists(spec)  # a bucket prefix
    if spec.endswith("/") or folder:
        return spec.rstrip("/") + "/"
    return spec.rsplit("/", 1)[0] + "/"


def relative_path(path: str, roots: Sequence[str]) -> str:
    """`path` relative to the deepest input root holding it (the path itself if none does).

    Keys made of relative paths survive a rerun on a moved or remounted drive."""
    holding = [r for r in roots if path.startswith(r)]
    return path[len(max(holding, key=len)):] if holding else path


def watch_pattern(spec: str) -> Tuple[str, bool]:
    """(pattern to poll, filter names by patterns?) for one input of a streaming run."""
    spec = _normalise(spec)
    if is_glob(spec):
        return spec, False
    if spec.endswith("/") or ("://" not in spec and os.path.isdir(spec)):
        return spec.rstrip("/") + "/**", True
    return spec, False


def missing_inputs(specs: Sequence[str]) -> List[str]:
    """Inputs that name nothing at all: a usage error, reported before the run."""
    missing = []
    for spec in specs:
        path = _normalise(spec)
        if is_glob(path):
            if not _filesystems().match([path], limits=[1])[0].metadata_list:
                missing.append(spec)  # a glob that matches nothing is almost always a typo
            continue
        if os.path.isdir(path) if "://" not in path else False:
            continue
        if not _filesystems().exists(path) and not _filesystems().match([path.rstrip("/") + "/**"], limits=[1])[0].metadata_list:
            missing.append(spec)
    return missing


def missing_message(spec: str) -> str:
    """The one-line usage error for an input `missing_inputs` returned."""
    return f"input matches no file: {spec}" if is_glob(spec) else f"input not found: {spec}"
