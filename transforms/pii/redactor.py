"""The Redactor: finds PII and replaces it under a policy.

    r = Redactor(enabled=True, policy="pseudonym")
    text, counts = r.redact("Mail jane.doe@example.com")
    # -> ("Mail [EMAIL]", {"EMAIL": 1})
    values, counts = r.redact_values("customer_email", ["Jane.Doe@example.com"])
    # -> (["EMAIL_1a2b3c4d"], {"EMAIL": 1})
    findings = r.find(text)                          # [Finding(kind, start, end)]

Policies (free text / table values: a PII column's values, a cell that is one finding)
    pseudonym  ``[EMAIL]`` / ``EMAIL_1a2b3c4d``: the default; table values keep their joins
    hash       ``[EMAIL:1a2b3c4d]`` everywhere
    mask       ``[EMAIL]`` everywhere
    drop       removed (empty string) everywhere
A pseudonym is keyed (transforms.pii.pseudonyms): one value has one pseudonym in
every file and run. Value signatures do not depend on the policy: they hash
the values themselves (transforms.signatures.value_hasher), so inclusion
between tables holds under every policy. `enabled=False` makes
`redact`/`redact_values` return their input unchanged (with empty counts);
`find` always reports.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from transforms.pii.columns import column_pii_kind, column_role, is_role_column
from transforms.pii.detection import KINDS, Finding, detect
from transforms.pii.names import looks_like_handle, looks_like_name
from transforms.pii.pseudonyms import DIGEST_CHARS, digest, pii_key
from transforms.pii.validators import fits_kind

POLICIES = ("pseudonym", "mask", "hash", "drop")
# Joins survive: table cells that are PII become stable pseudonyms, free text is masked.
DEFAULT_POLICY = "pseudonym"

_KIND_NAMES = "|".join(KINDS)
# Every spelling a replacement has: [EMAIL], [EMAIL:1a2b3c4d] and EMAIL_1a2b3c4d.
REDACTION_MARK = re.compile(
    rf"\[(?P<kind>{_KIND_NAMES})(?::[0-9a-f]{{{DIGEST_CHARS}}})?\]"
    rf"|(?<![\w])(?P<cell_kind>{_KIND_NAMES})_[0-9a-f]{{{DIGEST_CHARS}}}(?![\w])")


def mask_marks(text: str) -> str:
    """`text` with every replacement written as its mask ([EMAIL]): signals computed from it
    (shingles, terms, entities) are the same under every policy that keeps the value's place."""
    if "[" not in text and "_" not in text:
        return text
    return REDACTION_MARK.sub(lambda m: f"[{m.group('kind') or m.group('cell_kind')}]", text)

# "full_name": "Ann Lee",  /  Full name: Ann Lee  /  email = a@b.c
_KEY_VALUE_LINE = re.compile(
    r'^\s*"?(?P<key>[A-Za-z][A-Za-z0-9 _.\-]{0,40}?)"?\s*[:=]\s*"?(?P<value>[^"\n]*?)"?\s*,?\s*$')
# Items of a list held in one cell ("ann@x.org; bob@y.org"); the separators are kept.
_LIST_SPLIT = re.compile(r"(\s*[;|]\s*)")
_LIST_SPLIT_COMMA = re.compile(r"(\s*[;|,]\s*)")
_SPACE_SPLIT = re.compile(r"(\s+)")
_COMMA_LIST_KINDS = frozenset({"EMAIL", "PHONE", "USERNAME", "IP_ADDRESS"})  # never hold a comma themselves


class Redactor:
    """Find and replace PII; see the module docstring."""

    def __init__(self, enabled: bool = True, policy: str = "mask"):
        if policy not in POLICIES:
            raise ValueError(f"unknown PII policy {policy!r}; expected one of {', '.join(POLICIES)}")
        self.enabled = bool(enabled)
        self.policy = policy
        self._key = pii_key(warn=self.enabled)

    # -- detection ------------------------------------------------------- #
    def find(self, text: str) -> List[Finding]:
        return detect(text) if isinstance(text, str) else []

    # -- replacement ----------------------------------------------------- #
    def pseudonym(self, kind: str, value: str) -> str:
        """The keyed pseudonym of a value as free text shows it under the hash policy."""
        return f"[{kind}:{digest(self._key, kind, value)[:DIGEST_CHARS]}]"

    def cell_pseudonym(self, kind: str, value: str) -> str:
        """The keyed pseudonym of a table value, a key that still joins: EMAIL_1a2b3c4d."""
        return f"{kind}_{digest(self._key, kind, value)[:DIGEST_CHARS]}"

    def replacement(self, kind: str, value: str) -> str:
        """What a finding in free text becomes."""
        if self.policy == "hash":
            return self.pseudonym(kind, value)
        if self.policy == "drop":
            return ""
        return f"[{kind}]"

    def cell_replacement(self, kind: str, value: str) -> str:
        """What a table value that is PII as a whole becomes."""
        if self.policy == "pseudonym":
            return self.cell_pseudonym(kind, value)
        return self.replacement(kind, value)

    def redact(self, text: str) -> Tuple[str, Dict[str, int]]:
        if not self.enabled or not text or not isinstance(text, str):
            return text, {}
        return self._replace(text, self._findings(text), self.replacement)

    def redact_values(self, column_name: str, values: Sequence) -> Tuple[List, Dict[str, int]]:
        """Redact one column's values; a PII column name makes every value that fits the kind PII.

        A value of a PII column, a personal name or handle in a role column,
        and a cell that is one finding as a whole are table values: they get
        `cell_replacement` (a pseudonym under the default policy), item by item
        in a list cell. Other findings in a cell are free text.
        """
        values = list(values)
        if not self.enabled:
            return values, {}
        kind = column_pii_kind(column_name)
        role = column_role(column_name) if kind is None else None
        counts: Dict[str, int] = {}
        out: List = []
        for v in values:
            if v is None:
                out.append(v)
                continue
            s = v if isinstance(v, str) else str(v)
            if not s.strip():
                out.append(s)
                continue
            redacted = None
            if kind is not None:
                split = _LIST_SPLIT_COMMA if kind in _COMMA_LIST_KINDS else _LIST_SPLIT
                redacted = self._replace_items(s, split, lambda item: kind if fits_kind(kind, item) else None, counts)
            elif role:
                redacted = self._replace_people(s, counts, handles=role not in _PREPOSITIONS)
            if redacted is None:
                redacted = self._redact_cell_text(s, counts)
            out.append(redacted)
        return out, counts

    def _replace_items(self, value: str, split: re.Pattern, judge: Callable[[str], Optional[str]],
                       counts: Dict[str, int]) -> Optional[str]:
        """`value` with each list item that `judge` gives a kind replaced; None when none is."""
        parts = split.split(value)
        changed = False
        for i in range(0, len(parts), 2):  # items at even places, separators between them
            item = parts[i].strip()
            kind = judge(item) if item else None
            if kind:
                parts[i] = parts[i].replace(item, self.cell_replacement(kind, item))
                counts[kind] = counts.get(kind, 0) + 1
                changed = True
        return "".join(parts) if changed else None

    def _replace_people(self, value: str, counts: Dict[str, int], handles: bool) -> Optional[str]:
        """People named in a role column: names are PERSON, handles USERNAME; IDs and teams stay."""
        if looks_like_name(value):
            return self._replace_items(value, _NO_SPLIT, lambda item: "PERSON", counts)
        judge = _person_or_handle if handles else (lambda item: "PERSON" if looks_like_name(item) else None)
        redacted = self._replace_items(value, _LIST_SPLIT_COMMA, judge, counts)
        if redacted is None and handles and len(value.split()) > 1 and all(looks_like_handle(w) for w in value.split()):
            redacted = self._replace_items(value, _SPACE_SPLIT, lambda item: "USERNAME", counts)
        return redacted

    def _redact_cell_text(self, value: str, counts: Dict[str, int]) -> str:
        """A cell of an ordinary column: a finding that is the whole cell is a table value."""
        findings = self._findings(value)
        stripped = value.strip()
        if len(findings) == 1 and value[findings[0].start:findings[0].end] == stripped:
            replace = self.cell_replacement
        else:
            replace = self.replacement
        out, found = self._replace(value, findings, replace)
        for kind, n in found.items():
            counts[kind] = counts.get(kind, 0) + n
        return out

    def _findings(self, text: str) -> List[Finding]:
        findings = detect(text)
        if findings:
            # Never redact a replacement again ("api_key = [SECRET:1a2b3c4d]", "EMAIL_1a2b3c4d").
            done = [m.span() for m in REDACTION_MARK.finditer(text)]
            if done:
                findings = [f for f in findings if not any(f.start < e and s < f.end for s, e in done)]
        return findings

    @staticmethod
    def _replace(text: str, findings: List[Finding], replace: Callable[[str, str], str]) -> Tuple[str, Dict[str, int]]:
        if not findings:
            return text, {}
        counts: Dict[str, int] = {}
        parts: List[str] = []
        pos = 0
        for f in findings:
            parts.append(text[pos:f.start])
            parts.append(replace(f.kind, text[f.start:f.end]))
            counts[f.kind] = counts.get(f.kind, 0) + 1
            pos = f.end
        parts.append(text[pos:])
        return "".join(parts), counts

    def redact_structured(self, text: str) -> Tuple[str, Dict[str, int]]:
        """Redacts text that carries column names with its values, then the rest as text.

        Markdown table rows are redacted cell by cell under their header, and
        "key: value" / JSON "key": "value" lines under their key, so a
        `full_name` column shown in a preview is as private as its samples.
        """
        if not self.enabled or not text or not isinstance(text, str):
            return text, {}
        counts: Dict[str, int] = {}
        lines = text.split("\n")
        header: Optional[List[str]] = None
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
                cells = [c.strip() for c in stripped[1:-1].split("|")]
                if header is None:
                    header = cells
                elif not all(set(c) <= set("-: ") for c in cells):
                    redacted = [self._redact_cell(header[j] if j < len(header) else "", c, counts)
                                for j, c in enumerate(cells)]
                    if redacted != cells:
                        lines[i] = "| " + " | ".join(redacted) + " |"
                continue
            header = None
            match = _KEY_VALUE_LINE.match(line)
            if match and column_pii_kind(match.group("key")) is not None:
                value = self._redact_cell(match.group("key"), match.group("value"), counts)
                lines[i] = line[: match.start("value")] + value + line[match.end("value"):]
        redacted, found = self.redact("\n".join(lines))
        for kind, n in found.items():
            counts[kind] = counts.get(kind, 0) + n
        return redacted, counts

    def _redact_cell(self, column: str, value: str, counts: Dict[str, int]) -> str:
        if not value or REDACTION_MARK.fullmatch(value):  # empty, or already a replacement
            return value
        if column_pii_kind(column) is None and not is_role_column(column) and not _MAY_BE_A_VALUE.search(value):
            return value  # no finding can be the whole cell: the whole-text pass handles it
        out, found = self.redact_values(column, [value])
        for kind, n in found.items():
            counts[kind] = counts.get(kind, 0) + n
        return out[0]


_NO_SPLIT = re.compile(r"(?!)")  # the whole value is one item
_PREPOSITIONS = frozenset({"by", "to"})  # "Prepared by", "Assigned to": names, but "to" may hold codes
_MAY_BE_A_VALUE = re.compile(r"[@\d]")  # every recognizer but PERSON (context) needs one


def _person_or_handle(item: str) -> Optional[str]:
    if looks_like_name(item):
        return "PERSON"
    return "USERNAME" if looks_like_handle(item) else None
