"""Pattern recognizers for PII with a fixed shape: e-mail, cards, IBANs, national
numbers, IP addresses, phones and secrets.

Each recognizer takes the text (and its lower-case copy) and yields
(kind, start, end). Every regex starts with a literal or a character class
and checks its left boundary after the first character, so that the regex
engine can skip quickly through text that cannot match (a leading
look-behind or word boundary makes CPython try every position, about 0.5 ms per 20 KB
per pattern).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable, List, Tuple

from transforms.pii.validators import HEX_CHARS, IBAN_LENGTHS, WORD_CHARS, digits_of, iban_valid, luhn_valid, word_before

Span = Tuple[str, int, int]  # (kind, start, end)


# -- e-mail: anchored on "@" -------------------------------------------------- #
_EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9._%+\-]{1,64}$")
_EMAIL_DOMAIN_RE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w\-]|\.[A-Za-z0-9])"
)


def find_email(text: str) -> Iterable[Span]:
    p = text.find("@")
    while p != -1:
        lm = _EMAIL_LOCAL_RE.search(text, max(0, p - 65), p)
        dm = _EMAIL_DOMAIN_RE.match(text, p + 1) if lm else None
        if lm and dm:
            start = lm.start()
            while start < p and not text[start].isalnum():
                start += 1
            local = text[start:p]
            if (local and ".." not in local and not local.endswith(".")
                    and not (start == p - 65 + 1 and start > 0 and text[start - 1] in WORD_CHARS)):
                yield ("EMAIL", start, dm.end())
                p = text.find("@", dm.end())
                continue
        p = text.find("@", p + 1)


# -- credit cards: 13-19 digits, one kind of separator, IIN prefix, Luhn ------- #
_CC_RE = re.compile(r"\d(?<![\w.,\-]\d)(?:[ \-]?\d){12,22}(?![\w]|[.,]\d)")
_CC_PREFIX = re.compile(r"(?:4|5[1-5]|2[2-7]|3[0478]|35|36|6)")
_GROUP_RE = re.compile(r"\d+")


def _cc_ok(digits: str) -> bool:
    return (
        13 <= len(digits) <= 19
        and _CC_PREFIX.match(digits) is not None
        and len(set(digits)) > 1
        and luhn_valid(digits)
    )


def _is_sequence(numbers: List[int]) -> bool:
    """IDs listed in steps ("2637 2638 2639 2640"), not the groups of one card number."""
    steps = {b - a for a, b in zip(numbers, numbers[1:])}
    return len(numbers) >= 3 and len(steps) == 1 and 0 not in steps


def find_credit_card(text: str) -> Iterable[Span]:
    for m in _CC_RE.finditer(text):
        cand = m.group()
        has_space, has_dash = " " in cand, "-" in cand
        if not has_space and not has_dash:
            if _cc_ok(cand):
                yield ("CREDIT_CARD", m.start(), m.end())
            continue
        if has_space and has_dash:
            continue
        # The longest run of whole 3-6 digit groups that is a valid number
        # ("Qty 2 4111 1111 1111 1111" -> the last four groups).
        runs: List[List[Tuple[int, int]]] = [[]]
        for g in _GROUP_RE.finditer(cand):
            if 3 <= g.end() - g.start() <= 6:
                runs[-1].append((g.start(), g.end()))
            elif runs[-1]:
                runs.append([])
        best = None
        for groups in runs:
            if sum(e - s for s, e in groups) < 13:
                continue
            for i in range(len(groups)):
                for j in range(len(groups), i, -1):
                    digits = "".join(cand[s:e] for s, e in groups[i:j])
                    if len(digits) < 13:
                        break
                    if _cc_ok(digits) and not _is_sequence([int(cand[s:e]) for s, e in groups[i:j]]):
                        if best is None or len(digits) > best[2]:
                            best = (groups[i][0], groups[j - 1][1], len(digits))
                        break
        if best:
            yield ("CREDIT_CARD", m.start() + best[0], m.start() + best[1])


# -- IBAN: country length and mod-97 ----------------------------------------- #
_IBAN_RE = re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d\d(?: ?[A-Z0-9]){11,34}")


def find_iban(text: str) -> Iterable[Span]:
    for m in _IBAN_RE.finditer(text):
        cand = m.group()
        need = IBAN_LENGTHS.get(cand[:2])
        if need is None:
            continue
        count, end = 0, None
        for idx, ch in enumerate(cand):
            if ch != " ":
                count += 1
                if count == need:
                    end = idx + 1
                    break
        if end is None:
            continue
        after = m.start() + end
        if after < len(text) and text[after].isalnum():
            continue  # the code runs on: not this IBAN
        if iban_valid(cand[:end]):
            yield ("IBAN", m.start(), after)


# -- US SSN: the dashed form alone; dotted, spaced or bare 9 digits with context #
_SSN_DASH_RE = re.compile(r"\d(?<![\w\-.]\d)\d\d-\d\d-\d{4}(?![\w]|[\-.]\d)")
_SSN_CTX_RE = re.compile(  # on lower-case text
    r"(?:ssn|ss#|ss no|social security|soc\.? ?sec)(?![a-z])[^\n\d]{0,24}"
    r"(\d)(?<![\w\-.]\d)(\d\d)([ .]?)(\d\d)\3(\d{4})(?![\w]|[.\-]\d)"
)


def _ssn_ok(d: str) -> bool:
    area, group, serial = d[:3], d[3:5], d[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return len(set(d)) > 1


def find_ssn(text: str, low: str) -> Iterable[Span]:
    for m in _SSN_DASH_RE.finditer(text):
        if _ssn_ok(digits_of(m.group())):
            yield ("US_SSN", m.start(), m.end())
    if "ss" in low or "soc" in low:
        for m in _SSN_CTX_RE.finditer(low):
            if word_before(low, m.start()):
                continue
            if _ssn_ok(digits_of(low[m.start(1):m.end(5)])):
                yield ("US_SSN", m.start(1), m.end(5))


# -- UK National Insurance number (HMRC rules: D F I Q U V never used as
# prefix letters, O not second; BG GB KN NK NT TN ZZ not allocated; suffix A-D)
_NINO_RE = re.compile(
    r"[A-CEGHJ-PR-TW-Z](?<![A-Za-z0-9][A-Z])[A-CEGHJ-NPR-TW-Z]( ?)\d\d\1\d\d\1\d\d\1[A-D](?![A-Za-z0-9])"
)
_NINO_BAD_PREFIX = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def find_nino(text: str) -> Iterable[Span]:
    for m in _NINO_RE.finditer(text):
        if text[m.start():m.start() + 2] not in _NINO_BAD_PREFIX:
            yield ("UK_NINO", m.start(), m.end())


# -- IP addresses ------------------------------------------------------------ #
_IPV4_RE = re.compile(r"\d(?<![\w.\-]\d)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:/\d{1,2})?(?![\w]|\.\d)")
_VERSION_BEFORE = re.compile(
    r"(?<![a-z])(?:version|ver\.?|release|build|firmware|rev\.?|v)\s*[:#]?\s*$"  # on lower-case text
)
_IPV6_ANCHOR = re.compile(r":[0-9A-Fa-f]{0,4}:")
_IPV6_BODY = re.compile(r"[0-9A-Fa-f:]{2,39}(?:\.\d{1,3}){0,3}(?:/\d{1,3})?")


def find_ip(text: str, low: str) -> Iterable[Span]:
    if "." in text:
        for m in _IPV4_RE.finditer(text):
            octets = m.group().split("/", 1)[0].split(".")
            if any(int(o) > 255 or (len(o) > 1 and o[0] == "0") for o in octets):
                continue
            if _VERSION_BEFORE.search(low, max(0, m.start() - 16), m.start()):
                continue
            yield ("IP_ADDRESS", m.start(), m.end())
    if "::" in text or text.count(":") >= 7:
        pos = 0
        while True:
            a = _IPV6_ANCHOR.search(text, pos)
            if not a:
                break
            s = a.start()
            while s > 0 and text[s - 1] in HEX_CHARS and a.start() - s < 4:
                s -= 1
            body = _IPV6_BODY.match(text, s)
            e = body.end() if body else a.end()
            pos = max(e, a.end() - 1)
            if word_before(text, s) or (s > 0 and text[s - 1] in ":."):
                continue
            cand = text[s:e].rstrip(".")
            e = s + len(cand)
            if e < len(text) and (text[e] in WORD_CHARS or text[e] == ":"):
                continue
            addr = cand.split("/", 1)[0]
            if not any(c.isdigit() for c in addr):
                continue
            try:
                ipaddress.IPv6Address(addr)
            except ValueError:
                continue
            yield ("IP_ADDRESS", s, e)


# -- phones (Presidio uses phonenumbers' matcher, too slow here; these patterns
# cover international "+..." numbers, North American and European national forms,
# and looser forms after a context word such as "Tel:") ---------------------- #
_PHONE_INTL_RE = re.compile(r"\+(?<![\w+]\+)\d(?:[ .\-]{0,2}\(?\d\)?){7,16}(?![\w]|[.\-]\d)")
_PHONE_PAREN_RE = re.compile(r"\((\d{3})\)[ .\-]?(\d{3})[ .\-](\d{4})(?![\w]|[.\-/]\d)")
_PHONE_NANP_RE = re.compile(
    r"\d(?<![\w+.\-/]\d)(?:\d\d(?P<s1>[.\-])\d{3}(?P=s1)\d{4}|(?P<s0>[.\- ])\d{3}(?P<s2>[.\-])\d{3}(?P=s2)\d{4})"
    r"(?![\w]|[.\-/]\d)"
)
_PHONE_NATIONAL_RE = re.compile(r"0(?<![\w+.\-/]0)[1-9]\d{1,4}(?:[ \-]\d{2,8}){1,3}(?![\w]|[.\-/]\d)")
_PHONE_CTX_RE = re.compile(  # on lower-case text
    r"(?:telephone|phone|tel|mobile|mob|cellphone|cell|fax|call|sms|whatsapp|ph|t[ée]l[ée]phone|t[ée]l"
    r"|portable|handy|telefon|tel[ée]fono|m[óo]vil)(?![a-z])\.?"
    r"(?:[ \t]*(?:no|number|nr|#)\.?)?[ \t]*[:#]?[ \t]*"
    r"(\+?\(?\d[\d \t.()\-]{5,20}\d)(?![\w]|[.\-]\d)"
)
_DATE_LIKE = re.compile(r"\d{4}[\-./]\d{1,2}[\-./]\d{1,2}$|\d{1,2}[\-./]\d{1,2}[\-./]\d{2,4}$")
_THOUSANDS = re.compile(r"\+\d{1,3}(?:[.,]\d{3})+$")


def _nanp_ok(area: str, exchange: str) -> bool:
    return area[0] not in "01" and exchange[0] not in "01"  # NANP: both start 2-9


def find_phone(text: str, low: str) -> Iterable[Span]:
    if "+" in text:
        for m in _PHONE_INTL_RE.finditer(text):
            if 8 <= len(digits_of(m.group())) <= 15 and not _THOUSANDS.match(m.group()):
                yield ("PHONE", m.start(), m.end())
    if "(" in text:
        for m in _PHONE_PAREN_RE.finditer(text):
            if word_before(text, m.start()) or not _nanp_ok(m.group(1), m.group(2)):
                continue
            s = m.start()
            if s >= 2 and text[s - 2] == "1" and text[s - 1] in " -." and not word_before(text, s - 2):
                s -= 2  # "1 (415) 555-0132"
            yield ("PHONE", s, m.end())
    for m in _PHONE_NANP_RE.finditer(text):
        d = digits_of(m.group())
        if m.group("s0") is not None:
            if d[0] != "1":
                continue
            d = d[1:]
        if _nanp_ok(d[:3], d[3:6]):
            yield ("PHONE", m.start(), m.end())
    if "0" in text:
        for m in _PHONE_NATIONAL_RE.finditer(text):
            if 9 <= len(digits_of(m.group())) <= 12:
                yield ("PHONE", m.start(), m.end())
    for m in _PHONE_CTX_RE.finditer(low):
        if word_before(low, m.start()):
            continue
        cand = m.group(1).rstrip(" \t(")
        n = len(digits_of(cand))
        if 7 <= n <= 15 and not _DATE_LIKE.match(cand) and "\t" not in cand:
            yield ("PHONE", m.start(1), m.start(1) + len(cand))


# -- secrets ----------------------------------------------------------------- #
# (regex, needs a left boundary, needs a letter and a digit)
_SECRET_RES = [
    (re.compile(r"sk-[A-Za-z0-9_\-]{20,}"), True, True),                     # OpenAI / Anthropic style
    (re.compile(r"A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)[A-Z0-9]{16}(?![A-Za-z0-9])"), True, False),  # AWS key id
    (re.compile(r"gh[pousr]_[A-Za-z0-9]{36,255}"), True, False),            # GitHub
    (re.compile(r"github_pat_[A-Za-z0-9_]{22,255}"), True, False),
    (re.compile(r"xox[abposr]-[A-Za-z0-9\-]{10,}"), True, True),            # Slack
    (re.compile(r"AIza[0-9A-Za-z_\-]{35}"), True, False),                   # Google API key
    (re.compile(r"[sr]k_(?:live|test)_[0-9A-Za-z]{16,}"), True, False),     # Stripe
    (re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), True, False),  # JWT
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
                r"|[A-Za-z0-9+/=\s]*)"), False, False),
]
SECRET_PREFIXES = ("-----BEGIN", "sk-", "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AIza", "k_live_", "k_test_", "eyJ")
_URL_CRED_RE = re.compile(r"://([^\s/:@]+:[^\s/@]+)@")
_ASSIGN_SECRET_RE = re.compile(  # on lower-case text
    r"(?:password|passwd|passphrase|pwd|client_secret|secret_key|secret|api[_\-]?key|apikey"
    r"|secret[_\-]?access[_\-]?key|access[_\-]?key(?:_id)?|auth[_\-]?token|access[_\-]?token"
    r"|refresh[_\-]?token|bearer|token)[\"']?[ \t]*[:=][ \t]*[\"']?([^\s\"',;]{6,})"
)
_PLACEHOLDER = frozenset("*xX#.-_")


def find_secret(text: str, low: str, has_colon: bool, has_eq: bool) -> Iterable[Span]:
    for rx, boundary, mixed in _SECRET_RES:
        for m in rx.finditer(text):
            if boundary and m.start() > 0 and (text[m.start() - 1] in WORD_CHARS or text[m.start() - 1] == "-"):
                continue
            tok = m.group()
            if mixed and not (any(c.isdigit() for c in tok) and any(c.isalpha() for c in tok[3:])):
                continue
            yield ("SECRET", m.start(), m.end())
    if has_colon:
        p = text.find("://")
        if p != -1:
            for m in _URL_CRED_RE.finditer(text, p):
                yield ("SECRET", m.start(1), m.end(1))
    if has_colon or has_eq:
        for m in _ASSIGN_SECRET_RE.finditer(low):
            if m.start() > 0 and low[m.start() - 1].isalnum():
                continue
            val = text[m.start(1):m.end(1)]
            if set(val) <= _PLACEHOLDER or val.startswith("["):
                continue  # already masked, or a placeholder
            if any(not c.isalpha() for c in val) or len(val) >= 12:
                yield ("SECRET", m.start(1), m.end(1))
