"""PII detection and redaction for everything that leaves the pipeline.

Text representations, key terms, entities, sample cell values, training
records and LLM prompts all pass through `Redactor` before they are written.

    from transforms.pii import Redactor
    text, counts = Redactor(policy="mask").redact("Mail jane.doe@example.com")
    # -> ("Mail [EMAIL]", {"EMAIL": 1})

Modules, by concern
    validators   Luhn and IBAN checks, character helpers
    recognizers  e-mail, cards, IBANs, SSN, NINO, IP addresses, phones, secrets
    names        PERSON from context (no NER model)
    detection    `detect`: the recognizers a text triggers, overlaps resolved
    columns      `column_pii_kind`, role words: what a column holds by its name
    pseudonyms   the PII key and keyed pseudonyms
    redactor     `Redactor` and its policies

Kinds found in free text
    EMAIL, PHONE, US_SSN, UK_NINO, CREDIT_CARD (Luhn-valid only),
    IBAN (country length and mod-97 valid only), IP_ADDRESS (v4 and v6),
    PERSON (from context only, see below), SECRET (API keys such as
    ``sk-...``, AWS ``AKIA...``, GitHub/Slack/Google/Stripe tokens, JWTs,
    private-key blocks, ``password=...`` assignments, credentials in URLs).
Extra kinds used only by `redact_values` when a column name says so
    ADDRESS, DATE_OF_BIRTH, NATIONAL_ID, USERNAME (handles, also in role columns).
A value of a PII column must fit its kind (`validators.fits_kind`): blank form
fields, separators and labels are never redacted.

Deliberately left alone
    Amounts (1,234,567.89), dates (2024-03-15), percentages, years, small
    integers, version numbers (2.4.1, and "version 1.2.3.4"), codes and IDs
    like PRJ-4821, C-10234, SKU-88412, Luhn-invalid card-like numbers and
    IBANs with a wrong check.

Why not Microsoft Presidio (measured on this machine, presidio-analyzer 2.2.366)
    Presidio is the reference these recognizers follow: the same kinds, Luhn
    for cards, country-length plus mod-97 for IBANs, context words for weak
    patterns (phone, SSN). It installs and runs offline with a blank spaCy
    pipeline and tldextract set to its bundled suffix-list snapshot, but:
      * it brings spaCy and friends (+390 MB in a venv) and imports in 1.0-1.9 s;
      * AnalyzerEngine.analyze on a PII-dense text: 23-38 ms per 1 KB and
        about 1,000 ms per 20 KB (phonenumbers' matcher alone is about 107 ms
        and 580 ms inside Presidio; even without the phone recognizer it is
        about 120 ms per 20 KB); plain prose: 2.4 ms per 1 KB, 38 ms per 20 KB;
        1.7 ms per short cell value;
      * PERSON needs an NER model that is not installable here, so its
        recognizer adds cost and finds nothing.
    The budget is well under 50 ms for 20,000 characters, so this module
    implements the recognizers with compiled regular expressions and
    validation in Python, and adds no dependency (standard library only).
    Measured on the same machine (best of 30; means under load about 1.5x):
    import 37 ms; PII-dense text (7 items per 250 chars) 0.5 ms per 1 KB and
    8 ms per 20 KB; numeric table text 3 ms per 20 KB; prose 0.8 ms per 20 KB;
    text with no candidate characters 0.3 ms per 20 KB; about 10-20 us per
    short cell value.
    To adopt Presidio later: `SpacyNlpEngine` subclass whose load() sets
    ``self.nlp = {"en": spacy.blank("en")}``, and before use
    ``tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())``
    so that its e-mail recognizer uses the bundled public-suffix snapshot
    instead of downloading it.
"""

from transforms.pii.columns import ROLE_WORDS, column_pii_kind, column_role, is_role_column
from transforms.pii.detection import KINDS, Finding, detect
from transforms.pii.pseudonyms import KEY_ENV, SALT_ENV, pii_key
from transforms.pii.redactor import DEFAULT_POLICY, POLICIES, REDACTION_MARK, Redactor, mask_marks
from transforms.pii.validators import iban_valid, luhn_valid

__all__ = [
    "Finding", "Redactor", "KINDS", "POLICIES", "DEFAULT_POLICY", "REDACTION_MARK", "ROLE_WORDS", "KEY_ENV",
    "SALT_ENV", "mask_marks", "detect", "column_pii_kind", "column_role", "is_role_column", "pii_key", "luhn_valid", "iban_valid",
]
