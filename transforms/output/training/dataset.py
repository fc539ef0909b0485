"""The training records as a dataset: components, splits, deduplication and the dataset card.

A split holds whole connected components of the graph's related links, so no
file appears in two splits; an uncertain link between two components, or a
not-related pair, is only taught when both files fall in the same split.
Components go, largest first, to the split furthest below its share of files
(`assign_splits`); component keys are their smallest relative paths, so the
assignment is the same on every machine and run.
Near-identical records (MinHash of their messages) are dropped, keeping the
smallest (task, id), before any record is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter, defaultdict
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Sequence, Tuple

from transforms.config import SplitFractions, TrainingConfig
from transforms.signatures import band_buckets, hash64, shingle_minhash

SPLITS = ("train", "validation", "test")
DEDUP_PERM = 64
DEDUP_BANDS, DEDUP_ROWS = 16, 4
_DIGITS = re.compile(r"\d+")


# ---------------------------------------------------------------- components and splits


def components(paths: Mapping[str, str], pairs: Iterable[Tuple[str, str]]) -> Dict[str, str]:
    """file ID -> component key (the smallest relative path in its component), for every file in `paths`."""
    parent = {i: i for i in paths}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        if a in parent and b in parent:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    key: Dict[str, str] = {}
    for file_id in paths:
        root = find(file_id)
        key[root] = min(key.get(root, paths[file_id]), paths[file_id])
    return {file_id: key[find(file_id)] for file_id in paths}


def _split_at(position: float, fractions: SplitFractions) -> str:
    cumulative = 0.0
    for name in SPLITS:
        cumulative += getattr(fractions, name)
        if position < cumulative:
            return name
    return "train"


def split_of(component_key: str, fractions: SplitFractions) -> str:
    """The split of a lone file: a stable hash of its key placed on the configured shares."""
    return _split_at(hash64("split:" + component_key) / 2.0 ** 64, fractions)


def assign_splits(sizes: Mapping[str, int], fractions: SplitFractions) -> Dict[str, str]:
    """component key -> split. Components of two or more files go, largest first (ties in a stable hashed
    order), to the split furthest below its share of files, so every split gets its share even on a small
    drive with one large component; lone files are placed by their own hash."""
    linked = sorted((k for k, n in sizes.items() if n > 1), key=lambda k: (-sizes[k], hash64("split:" + k), k))
    total = sum(sizes[k] for k in linked)
    wanted = {name: getattr(fractions, name) * total for name in SPLITS}
    splits: Dict[str, str] = {}
    for key in linked:
        split = max(SPLITS, key=lambda name: (wanted[name], -SPLITS.index(name)))
        splits[key] = split
        wanted[split] -= sizes[key]
    splits.update({k: split_of(k, fractions) for k, n in sizes.items() if n == 1})
    return splits


def groups(paths: Mapping[str, str], related: Iterable[Tuple[str, str]], linked: Iterable[Tuple[str, str]],
           fractions: SplitFractions) -> Dict[str, Tuple[str, str, str, str]]:
    """file ID -> (component over related links, its split, relative path, component over every edge)."""
    keys = components(paths, related)
    connected = components(paths, linked)
    splits = assign_splits(Counter(keys.values()), fractions)
    return {file_id: (key, splits[key], paths[file_id], connected[file_id]) for file_id, key in keys.items()}


def same_split(id_a: str, id_b: str, grouping: Mapping[str, Tuple[str, ...]]) -> bool:
    """A link between two components is taught only when both lie in one split, so no file crosses splits."""
    return grouping[id_a][1] == grouping[id_b][1]


def negative_allowed(id_a: str, id_b: str, grouping: Mapping[str, Tuple[str, ...]]) -> bool:
    """A candidate pair without an edge is taught as not related only when no chain of edges (sure or not)
    joins the two files, and both lie in one split."""
    if id_a not in grouping or id_b not in grouping:
        return False
    return grouping[id_a][3] != grouping[id_b][3] and same_split(id_a, id_b, grouping)


def sampled(pair: Tuple[str, str], file_id: str) -> int:
    """The rank key by which a file picks its not-related pairs (stable, spread over partners)."""
    return hash64("negative:" + file_id + "|" + "|".join(pair))


# ---------------------------------------------------------------- deduplication


def dedup_text(record: Mapping[str, Any]) -> str:
    """What makes two records the same example: the user's and the assistant's words and the tool calls
    (tool results repeat the files, which the prompt already shows), digits folded."""
    parts = [m["content"] for m in record["messages"] if m["role"] in ("user", "assistant") and m["content"]]
    parts += [c["function"]["arguments"] for m in record["messages"] for c in m.get("tool_calls") or []]
    return _DIGITS.sub("0", "\n".join(parts))


def dedup_signature(record: Mapping[str, Any]) -> bytes:
    """The record's MinHash of 5-word shingles as packed 32-bit values: a tenth of a list of ints in the
    groupings that hold one per record."""
    return shingle_minhash(dedup_text(record), 5, DEDUP_PERM).tobytes()


def _bucket_rows(entries: Sequence[Tuple[str, bytes]]) -> Iterator[Tuple[List[int], Any]]:
    """(task, signature) entries -> (positions of entries, their LSH buckets: entries x bands) for each
    task and signature length; entries without words have no buckets."""
    import numpy as np

    groups: Dict[Tuple[str, int], List[int]] = defaultdict(list)
    for position, (task, signature) in enumerate(entries):
        if signature:
            groups[(task, len(signature))].append(position)
    for (task, _), positions in sorted(groups.items()):
        matrix = np.frombuffer(b"".join(entries[i][1] for i in positions), dtype=np.uint32)
        yield positions, band_buckets(matrix.reshape(len(positions), -1), DEDUP_BANDS, DEDUP_ROWS, task)


def duplicates_in_bucket(entries: Iterable[Tuple[Tuple[str, str], bytes]], threshold: float) -> List[str]:
    """IDs of records that a smaller (task, id) in the same bucket nearly repeats.

    Each record is compared with every record kept before it in one numpy step: template-made records
    fill some buckets with thousands that are alike but not duplicates, and the bucket's cost grows
    with the square of its size."""
    import numpy as np

    ordered = sorted(entries, key=lambda e: e[0])
    if 1 < len(ordered) <= SMALL_BUCKET and len({len(packed) for _, packed in ordered}) == 1 and ordered[0][1]:
        return _duplicates_in_small_bucket(ordered, threshold)
    kept: Dict[int, Tuple[Any, int]] = {}  # signature length -> (a row for each record of the bucket, rows used)
    dropped = []
    for (_, record_id), packed in ordered:
        signature = np.frombuffer(packed, dtype=np.uint32)
        size = len(signature)
        if not size:
            continue  # no words: alike nothing (minhash_jaccard is 0), so never dropped nor dropping
        matrix, used = kept.get(size) or (np.empty((len(ordered), size), dtype=np.uint32), 0)
        if used and ((np.count_nonzero(matrix[:used] == signature, axis=1) / size) >= threshold).any():
            dropped.append(record_id)
            continue
        matrix[used] = signature
        kept[size] = (matrix, used + 1)
    return dropped


# Most buckets hold a few records that are not duplicates: all their pairs are compared in one numpy step.
SMALL_BUCKET = 32


def _duplicates_in_small_bucket(ordered: Sequence[Tuple[Tuple[str, str], bytes]], threshold: float) -> List[str]:
    """duplicates_in_bucket for a few records of one signature length, in (task, id) order."""
    import numpy as np

    matrix = np.frombuffer(b"".join(packed for _, packed in ordered), dtype=np.uint32).reshape(len(ordered), -1)
    alike = ((np.count_nonzero(matrix[:, None, :] == matrix[None, :, :], axis=2) / matrix.shape[1]) >= threshold)
    rows = alike.tolist()
    kept: List[int] = []
    dropped = []
    for position, ((_, record_id), _) in enumerate(ordered):
        if any(rows[position][earlier] for earlier in kept):
            dropped.append(record_id)
        else:
            kept.append(position)
    return dropped


# Shards of LSH buckets that de-duplication groups band entries by (a shard's entries are packed).
DEDUP_SHARDS = 16


RECORD_KEY_BYTES = 16


def record_key(record_id: str) -> bytes:
    """A record ID as 16 bytes (BLAKE2b), what de-duplication's groupings hold: its bucket entries are
    most of their bytes, and an ID is 36 characters. As unique as the IDs (UUIDv5s, 122 bits of SHA-1)."""
    return hashlib.blake2b(record_id.encode("utf-8", "surrogatepass"), digest_size=RECORD_KEY_BYTES).digest()


def band_blobs(signed: Iterable[Tuple[bytes, Tuple[str, str, bytes]]]) -> List[Tuple[int, Tuple[bytes, bytes]]]:
    """A batch of (record key, (id, task, signature)) -> (shard, (bucket hashes as uint64, the entries'
    record keys)) per shard of LSH buckets. Packed, a grouping of every record's DEDUP_BANDS entries
    holds a few arrays a batch, where (band key, id) pairs were two strings and a list slot each."""
    import numpy as np

    signed = list(signed)
    hashes, owners = [], []
    for positions, buckets in _bucket_rows([(task, signature) for _, (_, task, signature) in signed]):
        hashes.append(buckets.ravel())
        owners.append(np.repeat(positions, buckets.shape[1]))
    if not hashes:
        return []
    hashes, owners = np.concatenate(hashes), np.concatenate(owners)
    keys = np.frombuffer(b"".join(key for key, _ in signed), dtype=np.dtype((np.void, RECORD_KEY_BYTES)))
    shards = hashes % np.uint64(DEDUP_SHARDS)
    blobs = []
    for shard in np.unique(shards):
        in_shard = shards == shard
        blobs.append((int(shard), (hashes[in_shard].tobytes(), keys[owners[in_shard]].tobytes())))
    return blobs


def crowded_buckets(blobs: Iterable[Tuple[bytes, bytes]]) -> List[Tuple[int, List[bytes]]]:
    """A shard's band blobs -> (bucket hash, record keys) for each bucket that two or more entries share."""
    import numpy as np

    blobs = list(blobs)
    if not blobs:
        return []
    hashes = np.concatenate([np.frombuffer(packed, dtype=np.uint64) for packed, _ in blobs])
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(ordered)])
    if not (sizes > 1).any():
        return []
    keys = b"".join(packed for _, packed in blobs)
    width = RECORD_KEY_BYTES
    return [(int(ordered[start]), sorted(keys[width * k:width * (k + 1)] for k in order[start:start + size].tolist()))
            for start, size in zip(starts.tolist(), sizes.tolist()) if size > 1]


def dedup_buckets(signed: Iterable[Tuple[Tuple[str, str], bytes]]) -> Dict[int, list]:
    """((task, id), signature) entries -> LSH bucket -> the entries that share it."""
    entries = list(signed)
    buckets: Dict[int, list] = defaultdict(list)
    for positions, rows in _bucket_rows([(task, signature) for (task, _), signature in entries]):
        for position, row in zip(positions, rows.tolist()):
            for bucket in row:
                buckets[bucket].append(entries[position])
    return buckets


def deduplicate(records: Sequence[Dict[str, Any]], threshold: float) -> Tuple[List[Dict[str, Any]], int]:
    """In memory: the records without near-duplicates, and how many were dropped."""
    buckets = dedup_buckets(((r["task"], r["id"]), dedup_signature(r)) for r in records)
    dropped = {i for entries in buckets.values() for i in duplicates_in_bucket(entries, threshold)}
    return [r for r in records if r["id"] not in dropped], len(dropped)


# ---------------------------------------------------------------- layout and card


def in_split(record: Mapping[str, Any], split: str) -> bool:
    return record["split"] == split


def sort_key(record: Mapping[str, Any]) -> str:
    return f"{record['task']}|{record['id']}"


def record_counts(record: Mapping[str, Any]) -> Dict[str, int]:
    """Tally of one record for the card: split, task and label."""
    return {f"{record['split']}|{record['task']}|{record['label']}": 1}


def card(counts: Mapping[str, int], training: TrainingConfig, thresholds: Mapping[str, Any],
         duplicates: int) -> str:
    """The dataset card (README.md) of training/: Hugging Face front matter, fields, variants, counts."""
    by_split: Dict[str, int] = defaultdict(int)
    for key, n in counts.items():
        by_split[key.split("|", 1)[0]] += n
    present = [s for s in SPLITS if by_split.get(s)]
    front = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in present:
        front += [f"  - split: {split}", f"    path: data/{split}-*.jsonl"]
    front += ["task_categories:", "- text-generation", "language:", "- en", "tags:", "- agents", "- tool-use",
              "- file-relationships", "---", ""]
    rows = "\n".join(f"| {k.split('|')[0]} | {k.split('|')[1]} | {k.split('|')[2]} | {n} |"
                     for k, n in sorted(counts.items()))
    return "\n".join(front) + _CARD_BODY.format(
        level=f"{training.precision_level:.0%}",
        thresholds=json.dumps({k: v for k, v in sorted(thresholds.items())}),
        shares=json.dumps(dataclasses.asdict(training.splits)),
        per_shard=training.records_per_shard, primary=training.primary_token_budget,
        related=training.related_token_budget, dedup=training.dedup_threshold, duplicates=duplicates,
        rows=rows or "| - | - | - | 0 |",
    )


_CARD_BODY = """# filegraph agentic training records

Training data for agents that must find and connect related files in a drive, generated by
filegraph from the files' extracted structure and redacted text and the relationship graph's
evidence. Every record is one JSON object per line in `data/<split>-SSSSS-of-NNNNN.jsonl`
(schema: `schemas/training.schema.json` of filegraph). Load with
`datasets.load_dataset("json", data_dir=...)` or `pyarrow.json.read_json`.

## Tasks (`task`)

| task | what the model learns |
| --- | --- |
| find_related | given one file's content, list the related files with type, direction and evidence (the proposal's record) |
| explain_link | given two files' contents, say whether they are related (`label`: related, uncertain, not_related) and explain the link |
| workflow | given a connected group of files, describe its abstraction, the actions that relate the files and the workflow order |
| trajectory | the find_related question answered with tool calls (`search_files`, `open_file`, `compare_files`) and their real results |

## Fields

| field | content |
| --- | --- |
| id | stable UUIDv5 of the task and the relative paths involved |
| task, label, split | the variant; related / uncertain / not_related; train / validation / test |
| component | the connected component (its smallest relative path); a split holds whole components |
| context.primary_file, context.related_files | file views: path relative to the input root, type, title, columns, headings, key terms, redacted text cut to a token budget (primary {primary}, related {related} approximate tokens) |
| relationships | source, target (relative paths), relationship_type, label, confidence, evidence [{{signal, value, statement}}] (only signals that support the type), description, reasoning, reasoner (offline or llm:MODEL) |
| synthetic_reasoning | abstraction, actions [{{tool, args, observation}}], workflow (ordered steps); null when synthetic_reasoning is off |
| training_prompt, training_completion | the user turn and the final answer as plain text |
| messages | the same example in the OpenAI chat fine-tuning format; trajectory records carry assistant `tool_calls` (arguments as JSON strings) and `tool` messages with `tool_call_id` |
| tools | trajectory only: the JSON schemas of the three tools |

## How labels are chosen

An edge is taught as **related** when its confidence reaches the level at which measured precision
is at least {level} (per type: {thresholds}; a missing type means no edge of it is that sure).
Edges below it are **uncertain** examples. Candidate pairs that the index proposed but the graph
does not connect, across two components of the same split, are **not_related** examples.
File contents in prompts are data: the system prompt tells the model never to follow instructions
found in them.

## Splits and shards

Splits by connected component with shares {shares} (stable hash of the component key), shards of
about {per_shard} records. Near-identical records (estimated Jaccard of their messages at least
{dedup}) were dropped: {duplicates}.

| split | task | label | records |
| --- | --- | --- | --- |
{rows}
"""
