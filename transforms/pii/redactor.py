"""The Redactor: finds PII and replaces it under a policy.

    r = Redactor(enabled=True, policy="mask")       # mask | hash | drop
    text, counts = r.redact("Mail jane.doe@example.com")
    # -> ("Mail [EMAIL]", {"EMAIL": 1})
    values, counts = r.redact_values("customer_name", ["Jane Doe", "Li Wei"])
    findings = r.find(text)                          # [Finding(kind, start, end)]

Policies
    mask  -> ``[EMAIL]``
    hash  -> ``[EMAIL:1a2b3c4d]``, a keyed pseudonym (transforms.pii.pseudonyms)
    drop  -> the value is removed (empty string).
`enabled=False` makes `redact`/`redact_values` return their input unchanged
(with empty counts); `find` always reports.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

from transforms.pii.columns import column_pii_kind, is_role_column
from transforms.pii.detection import KINDS, Finding, detect
from transforms.pii.names import looks_like_name
from transforms.pii.pseudonyms import digest, pii_key
from transforms.pii.validators import fits_kind

POLICIES = ("mask", "hash", "drop")


_REPLACEMENT = re.compile(r"\[(?:" + "|".join(KINDS) + r")(?::[0-9a-f]{8})?\]")

# "full_name": "Ann Lee",  /  Full name: Ann Lee  /  email = a@b.c
_KEY_VALUE_LINE = re.compile(
    r'^\s*"?(?P<key>[A-Za-z][A-Za-z0-9 _.\-]{0,40}?)"?\s*[:=]\s*"?(?P<value>[^"\n]*?)"?\s*,?\s*$')


class Redactor:
    """Find and replace PII; see the module docstring."""

    def __init__(self, enabled: bool = True, policy: str = "mask"):
        if policy not in POLICIES:
            raise ValueError(f"unknown PII policy {policy!r}; expected one of {', '.join(POLICIES)}")
        self.enabled = bool(enabled)
        self.policy = policy
        self._key = pii_key()

    # -- detection ------------------------------------------------------- #
    def find(self, text: str) -> List[Finding]:
        return detect(text) if isinstance(text, str) else []

    # -- replacement ----------------------------------------------------- #
    def pseudonym(self, kind: str, value: str) -> str:
        return f"[{kind}:{digest(self._key, kind, value)[:8]}]"

    def replacement(self, kind: str, value: str) -> str:
        if self.policy == "mask":
            return f"[{kind}]"
        if self.policy == "hash":
            return self.pseudonym(kind, value)
        return ""

    def redact(self, text: str) -> Tuple[str, Dict[str, int]]:
        if not self.enabled or not text or not isinstance(text, str):
            return text, {}
        findings = detect(text)
        if findings and "[" in text:
            # Never redact a replacement again ("api_key = [SECRET:1a2b3c4d]").
            done = [m.span() for m in _REPLACEMENT.finditer(text)]
            findings = [f for f in findings if not any(f.start < e and s < f.end for s, e in done)]
        if not findings:
            return text, {}
        counts: Dict[str, int] = {}
        parts: List[str] = []
        pos = 0
        for f in findings:
            parts.append(text[pos:f.start])
            parts.append(self.replacement(f.kind, text[f.start:f.end]))
            counts[f.kind] = counts.get(f.kind, 0) + 1
            pos = f.end
        parts.append(text[pos:])
        return "".join(parts), counts

    def redact_values(self, column_name: str, values: Sequence) -> Tuple[List, Dict[str, int]]:
        """Redact one column's sample values; a PII column name makes every value PII."""
        values = list(values)
        if not self.enabled:
            return values, {}
        kind = column_pii_kind(column_name)
        counts: Dict[str, int] = {}
        out: List = []
        if kind is None and is_role_column(column_name):
            kind_if_name = "PERSON"
        else:
            kind_if_name = None
        for v in values:
            if v is None:
                out.append(v)
                continue
            s = v if isinstance(v, str) else str(v)
            if not s.strip():
                out.append(s)
                continue
            if kind is not None and fits_kind(kind, s):
                out.append(self.replacement(kind, s))
                counts[kind] = counts.get(kind, 0) + 1
                continue
            if kind_if_name and looks_like_name(s):
                out.append(self.replacement("PERSON", s))
                counts["PERSON"] = counts.get("PERSON", 0) + 1
                continue
            red, c = self.redact(s)
            out.append(red)
            for k, n in c.items():
                counts[k] = counts.get(k, 0) + n
        return out, counts


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
        if not value or value.startswith("["):  # empty, or already a replacement
            return value
        out, found = self.redact_values(column, [value])
        if column_pii_kind(column) is None and not is_role_column(column):
            return value  # ordinary columns: the whole-text pass handles them
        for kind, n in found.items():
            counts[kind] = counts.get(kind, 0) + n
        return out[0]
