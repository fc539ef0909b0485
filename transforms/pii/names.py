"""PERSON without a named-entity model: personal names found from context.

Names are flagged only where context makes them clear: after labels
("Contact:", "Author:", "Owner:", "Prepared by", "Approved by", "Dear",
"Attendees:" lists ...), on signature lines after "Regards," / "Sincerely," ...,
next to an e-mail address ("Jane Doe <jane@x.com>", "jane@x.com (Jane Doe)"),
and wherever "First Last" matches the local part ``first.last@`` of an e-mail
found in the same text. A name is 1-4 capitalised words (initials and
particles like "van", "de" allowed); runs containing organisation or business
words ("North Region", "Finance Team", "Acme Ltd", "Quarterly Revenue") are
rejected.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional, Sequence, Tuple

from transforms.pii.recognizers import Span
from transforms.pii.validators import WORD_CHARS, word_before


TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "madam", "madame", "mme", "herr", "frau"}
_PARTICLES = {"van", "von", "de", "da", "del", "della", "der", "den", "di", "du", "la", "le",
              "bin", "ibn", "al", "el", "ter", "ten", "dos", "das", "do", "y", "st", "mac"}
# A token from these ends the name; as the first token: no name.
_STOP_WORDS = {
    "and", "or", "for", "of", "on", "in", "at", "by", "to", "from", "with", "as", "re", "per",
    "via", "the", "a", "an", "is", "was", "will", "has", "have", "if", "cc", "attn", "see",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "today", "tomorrow", "yesterday",
    "phone", "tel", "telephone", "mobile", "fax", "email", "mail", "address", "date", "title",
    "role", "position", "ext", "page", "subject", "sent", "status", "version", "regards",
    "thanks", "sincerely", "best", "cheers",
}
# Organisation and business words: the run is not a person ("North Region",
# "Finance Team", "Acme Consulting"). After a two-word name the softer ones only
# end the name ("Jane Doe Finance Director" -> "Jane Doe").
_ORG_HARD = {
    "inc", "ltd", "llc", "llp", "plc", "gmbh", "ag", "sa", "co", "bv", "nv", "pty", "limited",
    "corp", "corporation", "holdings", "partners", "associates", "consulting", "services",
    "solutions", "systems", "technologies", "labs", "bank", "university", "college",
    "institute", "foundation", "agency", "group", "company", "team", "region", "department",
}
_ORG_WORDS = _ORG_HARD | {
    "teams", "dept", "division", "unit", "office", "committee", "board", "council", "regional",
    "area", "zone", "branch", "service", "technology", "tech", "school", "ministry",
    "government", "authority", "hospital", "clinic", "center", "centre", "store", "shop",
    "warehouse", "factory", "plant", "headquarters", "hq", "desk", "helpdesk", "support",
    "operations", "ops", "finance", "financial", "accounting", "accounts", "account", "payroll",
    "sales", "marketing", "legal", "compliance", "procurement", "purchasing", "engineering",
    "product", "products", "research", "development", "admin", "administration", "management",
    "executive", "leadership", "staff", "customer", "customers", "client", "clients", "vendor",
    "vendors", "supplier", "suppliers", "partner", "user", "users", "member", "members", "all",
    "everyone", "colleagues", "colleague", "valued", "hiring", "manager", "managers", "director",
    "directors", "friends", "shareholders", "stakeholders", "recipient", "recipients", "reader",
    "readers", "applicant", "candidate", "north", "south", "east", "west", "northern",
    "southern", "eastern", "western", "central", "global", "international", "national",
    "local", "quarterly", "annual", "monthly", "weekly", "daily", "yearly", "revenue",
    "revenues", "budget", "forecast", "report", "reports", "summary", "total", "totals", "plan",
    "project", "program", "programme", "overview", "analysis", "data", "dataset", "table",
    "sheet", "file", "document", "draft", "final", "template", "policy", "strategy", "review",
    "update", "updates", "meeting", "minutes", "agenda", "notes", "invoice", "order", "orders",
    "contract", "proposal", "new", "old", "general", "main", "primary", "secondary", "other",
    "misc", "unknown", "none", "tbd", "tba", "various", "multiple", "same", "self", "this",
    "that", "these", "those", "our", "your", "my", "their", "his", "her", "its", "we", "us",
    "i", "you", "they", "it", "please", "hello", "hi", "dear", "internal", "external",
    "corporate", "enterprise", "business", "hr", "qa", "pmo", "excel", "word", "microsoft",
    "google", "amazon", "apple", "oracle", "sap", "windows", "system", "administrator", "bot",
    "robot", "automated", "noreply", "info", "sir", "madam", "script", "scripts", "tool",
    "tools", "software", "application", "app", "generator", "pipeline", "python", "java",
    "apache", "libreoffice", "openoffice", "pandas", "sheets", "docs", "drive", "sharepoint",
    "outlook", "server", "platform", "database", "engine", "api", "export", "import",
    "workflow", "process", "job", "task", "automation", "integration", "portal", "online", "web",
    "type", "types", "category", "categories",
}
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*\.?")
_SEP_RE = re.compile(r"[ \t]{1,3}")


def is_name_word(tok: str) -> bool:
    return tok[0].isupper() and any(c.islower() for c in tok[1:])


def _scan(text: str, pos: int) -> Optional[Tuple[int, int, int, bool]]:
    """Parse a personal name at `pos`: (start, end, name words, has title) or None."""
    n = len(text)
    i = pos
    while i < n and text[i] in " \t":
        i += 1
    start, end, words, titled, first, initials = i, None, 0, False, True, 0
    while i < n:
        m = _TOKEN_RE.match(text, i)
        if not m:
            break
        raw = m.group()
        tok = raw.rstrip(".")
        low = tok.lower()
        tok_end = m.end()
        nxt = text[tok_end] if tok_end < n else ""
        if first and low in TITLES and is_name_word(tok):
            titled = True
        elif len(tok) == 1 and tok.isupper() and raw.endswith("."):
            initials += 1  # an initial: "J."
        elif words and low in _PARTICLES and tok.islower():
            pass  # "van", "de"
        else:
            if nxt == ":" or low in _STOP_WORDS or not is_name_word(tok):
                break
            if low in _ORG_WORDS:
                if words >= 2 and low not in _ORG_HARD:
                    break
                return None
            words += 1
            if raw.endswith(".") and len(tok) > 2:
                end = tok_end - 1  # a full stop after the name
                break
            end = tok_end
        first = False
        if words >= 4:
            break
        s = _SEP_RE.match(text, m.end())
        if not s:
            break
        i = s.end()
    if end is None:
        return None
    return (start, end, words + (1 if initials else 0), titled)  # "J. R. Smith" counts as two


def scan_name(text: str, pos: int, min_tokens: int = 2) -> Optional[Tuple[int, int]]:
    """Span of a name of at least `min_tokens` words (one if it has a title)."""
    r = _scan(text, pos)
    if r is None or (r[2] < min_tokens and not r[3]):
        return None
    return (r[0], r[1])


# Labels followed by ":" ("Contact: Jane Doe"), matched on the last 1-3 words before a colon.
_COLON_LABELS = {
    "contact", "contact person", "contact name", "point of contact", "poc", "author", "authors",
    "owner", "manager", "employee", "employee name", "customer name", "client name", "full name",
    "name", "attn", "attention", "from", "to", "cc", "bcc", "reply-to", "sender", "recipient",
    "signed", "signature", "signatory", "approver", "reviewer", "assignee", "requester",
    "requestor", "reporter", "submitter", "lead", "project lead", "team lead", "sales rep",
    "rep", "representative", "agent", "supervisor", "sponsor", "candidate", "applicant",
    "patient", "driver", "tenant", "landlord", "beneficiary", "guardian", "emergency contact",
    "spouse", "interviewer", "interviewee", "presenter", "speaker", "organiser", "organizer",
    "facilitator", "chair", "chairperson", "secretary", "minute taker", "note taker",
    "prepared for", "attendees", "participants", "present", "invitees", "team members",
    "distribution", "account holder", "cardholder", "prepared by", "written by", "authored by",
    "created by", "approved by", "reviewed by", "signed by", "submitted by", "requested by",
    "reported by", "modified by", "last modified by", "updated by", "assigned to", "owned by",
}
_COLON_LABELS |= {f"{w} owner" for w in (
    "document", "data", "process", "product", "account", "business", "system", "budget", "risk",
    "task", "action")}
_COLON_LABELS |= {f"{w} manager" for w in (
    "project", "account", "line", "program", "programme", "product", "hiring", "sales", "office")}
_LIST_LABELS = {"attendees", "participants", "present", "invitees", "team members", "distribution",
                "authors", "cc", "bcc", "to"}
# "<verb> by|to Name", colon optional.
_VERBS = {
    "prepared", "written", "authored", "created", "compiled", "edited", "modified", "updated",
    "approved", "reviewed", "signed", "off", "submitted", "requested", "reported", "presented",
    "owned", "managed", "led", "sent", "drafted", "checked", "verified", "issued", "assigned",
    "raised", "logged", "entered", "recorded", "delegated", "escalated", "addressed",
}
_BY_RE = re.compile(r"(?:by|to|By|To|BY|TO)[ \t]*:?[ \t]+(?=[^\W\d_])")
_DEAR_RE = re.compile(r"(?:Dear|DEAR|dear)[ \t]+")
_SIGNOFF_RE = re.compile(  # on lower-case text, after a newline
    r"\n[ \t]*(?:best[ \t]+regards|kind[ \t]+regards|warm[ \t]+regards|warmest[ \t]+regards|regards"
    r"|sincerely(?:[ \t]+yours)?|yours[ \t]+(?:sincerely|truly|faithfully)|best[ \t]+wishes"
    r"|best|thanks|thank[ \t]+you|many[ \t]+thanks|cheers|respectfully)[ \t]*[,.!]?[ \t]*"
    r"(?:(?:\r?\n[ \t]*){1,2}|[ \t]+)"
)
_LIST_SEP_RE = re.compile(r"[ \t]*(?:[,;/&]|and(?![\w]))[ \t]*(?:and[ \t]+)?")
_LABEL_LEAD = "*-•·|#>([{\"'"
_BEFORE_EMAIL_RE = re.compile(r"[ \t]*[<(\[,:\-–]?[ \t]*$")
_AFTER_EMAIL_RE = re.compile(r"[ \t]*[(\[][ \t]*")
PERSON_TRIGGERS = ("by", "to", "dear", "regards", "sincerely", "thank", "cheers", "best", "yours",
                    "respectfully")
PERSON_QUALIFIERS = {
    "first", "last", "middle", "full", "given", "family", "sur", "maiden", "nick", "preferred",
    "legal", "employee", "emp", "staff", "customer", "cust", "client", "contact", "person",
    "user", "owner", "manager", "mgr", "author", "patient", "student", "member", "applicant",
    "candidate", "rep", "agent", "buyer", "requester", "requestor", "reporter", "assignee",
    "reviewer", "approver", "recipient", "sender", "signatory", "beneficiary", "holder",
    "cardholder", "parent", "guardian", "spouse", "teacher", "doctor", "physician", "driver",
    "passenger", "guest", "tenant", "landlord", "subscriber", "supervisor", "mother", "mothers",
    "father", "fathers", "emergency", "representative", "interviewer", "interviewee", "your",
    "his", "her", "their", "my", "participant", "attendee", "visitor", "worker", "contractor",
    "consultant", "lead", "display",
}


def _line_rest(text: str, pos: int) -> str:
    nl = text.find("\n", pos)
    return text[pos:] if nl < 0 else text[pos:nl]


def _colon_label(text: str, low: str, p: int) -> Optional[str]:
    """The label that ends just before the colon at `p`, if it is a person label."""
    ls = max(low.rfind("\n", max(0, p - 48), p) + 1, p - 48)
    seg = low[ls:p].split()
    if not seg:
        return None
    if ls == p - 48 and len(seg) >= 1 and ls > 0 and not low[ls - 1].isspace():
        seg = seg[1:]  # the first word is cut: drop it
    seg = [w.lstrip(_LABEL_LEAD) for w in seg]
    for k in (3, 2, 1):
        if len(seg) >= k:
            cand = " ".join(seg[-k:])
            if cand in _COLON_LABELS:
                if cand == "name" and len(seg) > 1 and seg[-2].isalpha() and seg[-2] not in PERSON_QUALIFIERS:
                    return None  # "Product name:", "File name:"
                return cand
    return None


def find_person(text: str, low: str, emails: Sequence[Tuple[int, int]]) -> Iterable[Span]:
    n = len(text)
    # "Label: Name"
    p = text.find(":")
    while p != -1:
        nxt = text[p + 1:p + 2]
        if nxt not in ("/", ":"):
            label = _colon_label(text, low, p)
            if label:
                span = scan_name(text, p + 1)
                if span:
                    yield ("PERSON",) + span
                    if label in _LIST_LABELS:
                        pos = span[1]
                        while pos < n:
                            s = _LIST_SEP_RE.match(text, pos)
                            nxt_span = scan_name(text, s.end()) if s else None
                            if not nxt_span:
                                break
                            yield ("PERSON",) + nxt_span
                            pos = nxt_span[1]
        p = text.find(":", p + 1)
    # "Prepared by Name"
    for m in _BY_RE.finditer(text):
        s = m.start()
        if word_before(text, s) or (s > 0 and text[s - 1] not in " \t"):
            continue
        j = s - 1
        while j > 0 and text[j - 1] in " \t":
            j -= 1
        w = j
        while w > 0 and text[w - 1].isalpha():
            w -= 1
        if low[w:j] in _VERBS:
            span = scan_name(text, m.end())
            if span:
                yield ("PERSON",) + span
    # "Dear Mr. Smith", "Dear Jane,"
    for m in _DEAR_RE.finditer(text):
        if word_before(text, m.start()):
            continue
        r = _scan(text, m.end())
        if r and (r[2] >= 2 or r[3] or _line_rest(text, r[1])[:1] in ("", ",", "!", ":", ";", "\r")):
            yield ("PERSON", r[0], r[1])
    # "Best regards,\nJane Doe"
    for m in _SIGNOFF_RE.finditer("\n" + low):
        r = _scan(text, m.end() - 1)
        # a lone first name only when it stands alone on its line
        if r and (r[2] >= 2 or r[3] or not _line_rest(text, r[1]).strip()):
            yield ("PERSON", r[0], r[1])
    # Next to an e-mail address.
    local_names = set()
    for s, e in emails:
        local = low[s:e].split("@", 1)[0]
        # "Jane Doe <jane.doe@x.com>", "Jane Doe (jane@x.com)", "Jane Doe, jane@x.com"
        sep = _BEFORE_EMAIL_RE.search(text, max(0, s - 6), s)
        if sep and sep.start() > 0 and text[sep.start() - 1].isalpha():
            name_end = sep.start()
            k = name_end
            for _ in range(5):  # back over up to five words on the same line
                j = k
                while j > 0 and text[j - 1] in " \t":
                    j -= 1
                w = j
                while w > 0 and (text[w - 1].isalpha() or text[w - 1] in "'’.-"):
                    w -= 1
                if w == j:
                    break
                k = w
            pos = k
            while pos < name_end:  # the longest run that is a name and ends at the e-mail
                r = _scan(text, pos)
                if r and r[1] == name_end and (r[2] >= 2 or r[3] or low[r[0]:r[1]] in local):
                    yield ("PERSON", r[0], r[1])
                    break
                sp = _SEP_RE.search(text, pos, name_end)
                if not sp:
                    break
                pos = sp.end()
        # "jane@x.com (Jane Doe)"
        am = _AFTER_EMAIL_RE.match(text, e)
        if am:
            r = _scan(text, am.end())
            if r and text[r[1]:r[1] + 1] in (")", "]"):
                yield ("PERSON", r[0], r[1])
        parts = [x for x in re.split(r"[._\-]", local) if x]
        if len(parts) == 2 and all(x.isalpha() and len(x) >= 2 for x in parts):
            local_names.add((parts[0], parts[1]))
    # "Jane Doe" or "Doe, Jane" anywhere in a text that also holds jane.doe@...
    for first, last in local_names:
        f, l_ = re.escape(first), re.escape(last)
        rx = re.compile(rf"{f}(?:[ \t]+[a-z]\.)?[ \t]+{l_}(?![\w@])|{l_},[ \t]*{f}(?![\w@])")
        for m in rx.finditer(low):
            if m.start() > 0 and (low[m.start() - 1] in WORD_CHARS or low[m.start() - 1] in "@."):
                continue
            if all(is_name_word(w.rstrip(",.")) or len(w.rstrip(",.")) == 1
                   for w in text[m.start():m.end()].split()):
                yield ("PERSON", m.start(), m.end())


def looks_like_name(value: str) -> bool:
    """A whole value that is a personal name: "Jane Doe", "Doe, Jane", "Dr. A. Khan"."""
    v = value.strip()
    if any(c.isdigit() for c in v) or len(v) > 60:
        return False
    if "," in v:  # "Doe, Jane"
        a, _, b = v.partition(",")
        v = f"{b.strip()} {a.strip()}"
    span = scan_name(v, 0, min_tokens=2)
    return span is not None and span[0] == 0 and span[1] == len(v)


_HANDLE_RE = re.compile(r"@?[a-z][a-z0-9._\-]{1,38}")


def looks_like_handle(value: str) -> bool:
    """A user handle as people columns hold them: "jdoe", "@maria.lopez", "k_tanaka2"."""
    v = value.strip()
    return _HANDLE_RE.fullmatch(v) is not None and v.lstrip("@") not in _ORG_WORDS and v.lstrip("@") not in _STOP_WORDS
