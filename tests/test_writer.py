import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

from transforms.output import writer


def _write(tmp_path, records, fixed_shards=0):
    with TestPipeline(runner="FnApiRunner") as p:
        (p | beam.Create(records)
           | writer.WriteJsonlShards(str(tmp_path), "rows", lambda r: r["id"], fixed_shards))
    return sorted(tmp_path.glob("rows-*.jsonl"))


def test_shards_are_named_and_hold_every_record_once(tmp_path):
    records = [{"id": f"r{i:03d}", "value": i} for i in range(40)]
    files = _write(tmp_path, records, fixed_shards=3)
    assert [f.name for f in files] == [f"rows-0000{i}-of-00003.jsonl" for i in range(3)]
    read = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert sorted(r["id"] for r in read) == [r["id"] for r in records]


def test_shards_are_byte_identical_across_runs_and_input_orders(tmp_path):
    records = [{"id": f"r{i:03d}", "value": i, "nested": {"b": 1, "a": 2}} for i in range(25)]
    first = _write(tmp_path / "one", records, fixed_shards=2)
    second = _write(tmp_path / "two", list(reversed(records)), fixed_shards=2)
    assert [f.read_bytes() for f in first] == [f.read_bytes() for f in second]


def test_empty_output_still_writes_one_empty_shard(tmp_path):
    files = _write(tmp_path, [])
    assert [f.name for f in files] == ["rows-00000-of-00001.jsonl"]
    assert files[0].read_text() == ""


def test_clear_outputs_removes_stale_shards(tmp_path):
    (tmp_path / "edges").mkdir()
    stale = tmp_path / "edges" / "edges-00000-of-00002.jsonl"
    stale.write_text("{}\n")
    keep = tmp_path / "edges" / "notes.txt"
    keep.write_text("keep")
    writer.clear_outputs(str(tmp_path))
    assert not stale.exists() and keep.exists()


def test_read_jsonl_reads_all_shards(tmp_path):
    _write(tmp_path, [{"id": "a"}, {"id": "b"}], fixed_shards=2)
    assert sorted(r["id"] for r in writer.read_jsonl(str(tmp_path), "rows")) == ["a", "b"]


def test_a_write_that_fails_midway_leaves_neither_the_file_nor_a_temporary(tmp_path):
    path = tmp_path / "nodes" / "nodes-00000-of-00001.jsonl"

    def lines():
        yield "{}"
        raise OSError("disk full")

    try:
        writer.write_lines(str(path), lines())
    except OSError:
        pass
    assert not path.exists()
    assert list((tmp_path / "nodes").iterdir()) == []


def test_a_rewrite_replaces_the_file_whole(tmp_path):
    path = tmp_path / "run_summary.json"
    writer.write_json(str(path), {"counts": {"matched": 1}})
    writer.write_json(str(path), {"counts": {"matched": 2}})
    assert json.loads(path.read_text()) == {"counts": {"matched": 2}}
    assert [p.name for p in tmp_path.iterdir()] == ["run_summary.json"]


def test_clear_outputs_removes_the_previous_summary_and_half_written_files(tmp_path):
    (tmp_path / "nodes").mkdir()
    (tmp_path / "run_summary.json").write_text("{}")
    half = tmp_path / "nodes" / ".nodes-00000-of-00001.jsonl.tmp-123-abcd"
    half.write_text("{")
    writer.clear_outputs(str(tmp_path))
    assert not (tmp_path / "run_summary.json").exists() and not half.exists()


def test_lines_are_valid_utf8_even_for_paths_that_are_not_and_non_finite_numbers_are_null(tmp_path):
    line = writer.dumps({"file_path": "/drive/caf\udce9.csv", "sum": float("nan")})
    assert json.loads(line) == {"file_path": "/drive/caf\udce9.csv", "sum": None}
    path = tmp_path / "errors.jsonl"
    writer.write_lines(str(path), [line])
    path.read_bytes().decode("utf-8")  # strict


def test_a_training_record_travels_as_its_line_and_is_written_as_it_is(tmp_path):
    """Filters and counts read a record's fields without decoding its text; its line is the one
    writer.dumps gives the dict, and the coder round trip keeps it byte for byte."""
    import pickle

    from transforms.ptransforms.output import TrainingRecord, TrainingRecordCoder

    record = {"id": "r1", "task": "find_related", "split": "train", "label": "related", "score": float("nan"),
              "messages": [{"role": "user", "content": "caf\udce9 " * 50}]}
    packed = TrainingRecord(record)
    assert writer.dumps(packed) == writer.dumps(record)
    assert writer.packed_line(packed) is packed.packed
    coder = TrainingRecordCoder()
    decoded = coder.decode(coder.encode(packed))
    assert decoded["split"] == "train" and decoded._record is None  # a field is read without decoding the text
    assert coder.encode(decoded) == coder.encode(packed) == coder.encode(record)
    assert decoded["messages"] == json.loads(writer.dumps(record))["messages"]
    assert dict(decoded) == {**json.loads(writer.dumps(record))} and decoded == json.loads(writer.dumps(record))
    assert pickle.loads(pickle.dumps(decoded)).packed == packed.packed
    # The de-duplication signature is made from the record once and travels with it.
    from transforms.output.training.dataset import dedup_signature

    assert packed.signature == dedup_signature(record) and len(packed.signature) == 4 * 64
    assert decoded.signature == packed.signature == pickle.loads(pickle.dumps(decoded)).signature
    files = _write(tmp_path, [TrainingRecord({**record, "id": f"r{i}"}) for i in range(3)], fixed_shards=1)
    assert [json.loads(line)["id"] for line in files[0].read_text().splitlines()] == ["r0", "r1", "r2"]


def test_records_read_back_in_order_across_decoding_batches_and_shards(tmp_path):
    records = [{"id": i, "path": f"d/{i}.csv", "evidence": {"score": i / 7, "names": ["a", str(i)]}}
               for i in range(2 * writer.DECODED_TOGETHER + 17)]
    # A long integer, a lone surrogate's escape (a path whose bytes are not UTF-8), and line
    # separators a string holds as they are (str.splitlines splits at them, a newline never).
    records += [{"id": 2**70, "path": "d/big.csv"}, {"id": 1, "path": "d/\udc80.csv"},
                {"id": 2, "path": "d/a\u2028b\x85c.csv"}]
    half = len(records) // 2
    for shard, part in enumerate((records[:half], records[half:])):
        (tmp_path / f"edges-{shard:05d}-of-00002.jsonl").write_bytes(
            b"".join(writer.dumps(r).encode("utf-8", "surrogatepass") + b"\n" for r in part) + b"\n")
    read = list(writer.iter_jsonl(str(tmp_path), "edges"))
    assert read == records
    assert read[-3]["id"] == 2**70 and read[-2]["path"] == "d/\udc80.csv"
    # One decoder call per batch: records of a batch share their key strings.
    assert next(iter(read[1])) is next(iter(read[0]))


def test_a_local_atomic_write_makes_its_folder_replaces_the_file_and_leaves_nothing_when_it_fails(tmp_path):
    import pytest

    from transforms.output.files import atomic

    path = tmp_path / "new" / "folder" / "part.bin"
    with atomic(str(path)) as handle:
        handle.write(b"first")
    with atomic(str(path)) as handle:
        handle.write(b"second")
    assert path.read_bytes() == b"second"
    with pytest.raises(RuntimeError):
        with atomic(str(path)) as handle:
            handle.write(b"half")
            raise RuntimeError("the writer failed")
    assert path.read_bytes() == b"second"  # the earlier file stands, and no temporary is left beside it
    assert sorted(p.name for p in path.parent.iterdir()) == ["part.bin"]
