"""Small FileRecords built in memory, for tests of blocking and scoring."""

import hashlib
from typing import Dict, Sequence

from transforms.config import ExtractionConfig
from transforms.extract.context import ExtractContext
from transforms.extract.profile import profile_table
from transforms.model import FileRecord
from transforms.signatures import file_id_for, minhash_of, shingles, text_value_hashes, text_word_hashes
from transforms.text_signals import (
    extract_entities,
    extract_numbers,
    key_terms,
    mentioned_files,
)

_CTX = ExtractContext(uri="mem://test", file_name="test", extension="csv", limits=ExtractionConfig())


def data_record(path: str, tables: Dict[str, tuple], **fields) -> FileRecord:
    """tables: {name: (header, rows)}."""
    profiles = [profile_table(name, header, rows, _CTX) for name, (header, rows) in tables.items()]
    columns = [c.name for t in profiles for c in t.columns]
    text = " ".join(columns)
    return FileRecord(
        file_id=file_id_for(path), file_path=path, file_name=path.rsplit("/", 1)[-1],
        file_type=path.rsplit(".", 1)[-1], file_size=100,
        content_hash=hashlib.sha256(repr((path, tables)).encode()).hexdigest(),
        tables=profiles, structure={"columns": columns}, key_terms=key_terms(text, columns),
        minhash=minhash_of(shingles(text + " " + " ".join(str(r) for t in tables.values() for r in t[1][:50]))),
        **fields,
    )


def text_record(path: str, text: str, headings: Sequence[str] = (), **fields) -> FileRecord:
    return FileRecord(
        file_id=file_id_for(path), file_path=path, file_name=path.rsplit("/", 1)[-1],
        file_type=path.rsplit(".", 1)[-1], file_size=len(text),
        content_hash=hashlib.sha256(text.encode()).hexdigest(), text=text,
        structure={"headings": [{"level": 1, "text": h} for h in headings]},
        key_terms=key_terms(text), entities=extract_entities(text), numbers=extract_numbers(text),
        mentions=mentioned_files(text), minhash=minhash_of(shingles(text)), token_hashes=text_value_hashes(text), word_hashes=text_word_hashes(text),
        **fields,
    )
