"""Word pools the generator draws from: names, places, codes, stock sentences."""

from __future__ import annotations

EDGE_TYPES = ("SUMMARIZES", "SUPPORTS", "DOCUMENTS", "REFERENCES", "VERSION_OF", "RELATED_TO")
NARRATIVE_EXTENSIONS = frozenset({"pptx", "docx", "md", "txt"})
DATA_EXTENSIONS = frozenset({"xlsx", "csv", "json", "jsonl", "sqlite", "db"})

COMPANIES = ("Northwind Analytics", "Bluegate Holdings", "Harbor & Pine Group", "Quantis Partners")
# A small pool on purpose: authorship alone must not link projects.
AUTHORS = ("Maya Okafor", "Daniel Brandt", "Priya Raman", "Tom Ashworth", "Lucia Ferreira", "Kenji Watanabe")
FIRST_NAMES = ("James", "Olivia", "Noah", "Emma", "Liam", "Ava", "Lucas", "Mia", "Ethan", "Sofia", "Mateo",
               "Chloe", "Arjun", "Hana", "Omar", "Zoe", "Felix", "Ines", "Victor", "Leah", "Samuel", "Nora",
               "Ravi", "Elena", "Marcus", "Grace", "Diego", "Aisha", "Jonas", "Yuki")
LAST_NAMES = ("Smith", "Garcia", "Mueller", "Rossi", "Novak", "Kim", "Patel", "Silva", "Cohen", "Nguyen",
              "Larsen", "Dubois", "Kowalski", "Haddad", "Murphy", "Tanaka", "Jensen", "Moreau", "Costa",
              "Fischer", "Ortiz", "Singh", "Walsh", "Ivanova", "Berg", "Adeyemi", "Lopez", "Brooks")
CITIES = ("Chicago", "Denver", "Atlanta", "Seattle", "Boston", "Austin", "Phoenix", "Portland", "Miami",
          "Toronto", "Dublin", "Madrid", "Hamburg", "Lyon", "Krakow", "Osaka")
COMPANY_WORDS = ("Acme", "Globex", "Initech", "Vandelay", "Stark", "Wayne", "Umbrella", "Hooli", "Soylent",
                 "Cyberdyne", "Tyrell", "Wonka", "Gringotts", "Monarch", "Pied Piper", "Oscorp", "Aperture")
COMPANY_SUFFIXES = ("Ltd", "Inc", "GmbH", "BV", "LLC", "plc")
MAIL_DOMAINS = ("example.com", "mailbox.org", "inbox.net", "post.example.org")
AREA_CODES = ("415", "212", "312", "617", "206", "303", "512", "646")
CODENAMES = ("Falcon", "Aurora", "Cobalt", "Juniper", "Atlas", "Nimbus", "Orchid", "Granite", "Meridian",
             "Sequoia", "Harbor", "Lumen", "Vertex", "Copper", "Tundra", "Willow", "Beacon", "Summit",
             "Kestrel", "Mosaic", "Cedar", "Polaris", "Quartz", "Rowan")
NAME_QUALIFIERS = ("EMEA", "APAC", "AMER", "Pilot", "Rollout", "Phase 2", "Phase 3", "Refresh", "Wave 2")

# Project codes: each format owns its prefixes, and widths are fixed, so no
# code can be a substring of another project's code.
CODE_FORMATS = (
    (("PRJ", "INI", "CR"), lambda r, p: f"{p}-{r.randint(1000, 9999)}"),
    (("MKT", "CMP", "PGM"), lambda r, p: f"{p}-{r.randint(2021, 2025)}-{r.randint(1, 12):02d}"),
    (("OPS", "ENG", "FIN"), lambda r, p: f"{p}/{r.randint(100, 999)}"),
)

DECK_AGENDA = ("Context and objectives", "Key figures", "Breakdown and top performers", "Next steps")
MEETING_AGENDA = ("Actions from last meeting", "Status by workstream", "Risks and issues", "AOB")
NEXT_STEPS = ("Confirm owners for the open actions", "Share the refreshed figures with the steering group",
              "Agree scope for the next phase", "Review data quality issues with the source owners",
              "Schedule the follow-up review", "Align with Finance on the budget envelope",
              "Publish the updated dashboard link")
RISKS = ("Source extracts arrive late in the month", "Key stakeholders are on leave during the pilot",
         "Vendor contract renewal may slip", "Manual steps remain in the data refresh",
         "Budget approval is still pending", "Scope creep from adjacent teams",
         "Data owner changed and hand-over is incomplete")
REVISION_SENTENCES = ("Updated after review with the steering group.",
                      "Timeline adjusted to reflect the revised vendor dates.",
                      "Scope narrowed to the first two regions.",
                      "Finance asked for a monthly checkpoint, added below.",
                      "Wording aligned with the latest policy guidance.",
                      "Owners confirmed in the last stand-up.")
RAG = ("Green", "Amber", "Red")
BUDGET_LINES = ("Staff costs", "Tooling", "Licences", "Outsourcing", "Campaigns", "Equipment", "Consulting",
                "Other")
NUMBER_STYLES = ("comma", "comma2", "short", "plain")
NAME_STYLES = ("snake", "kebab", "title", "sentence")
MEASURE_KINDS = frozenset({"money", "int", "float"})

# ---- hard cases: public code lists, standards and templates shared across projects ----

# Public code lists that unrelated tables share (ISO 3166-1 alpha-2, USPS, ISO 4217).
CODE_LISTS = {
    "country": ("US", "CA", "MX", "BR", "AR", "GB", "IE", "FR", "DE", "NL", "BE", "ES", "PT", "IT", "CH", "AT",
                "PL", "SE", "NO", "DK", "FI", "JP", "KR", "CN", "IN", "SG", "AU", "NZ", "ZA", "AE"),
    "us_state": ("AL", "AK", "AZ", "CA", "CO", "CT", "FL", "GA", "IL", "IN", "MA", "MD", "MI", "MN", "MO", "NC",
                 "NJ", "NY", "OH", "OR", "PA", "TN", "TX", "UT", "VA", "WA", "WI"),
    "currency": ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "SGD", "INR", "BRL",
                 "MXN", "ZAR", "CNY", "KRW"),
}
CODE_LIST_COLUMNS = {"country": ("country", "country_code", "iso_country"), "us_state": ("state", "us_state", "state_code"),
                     "currency": ("currency", "currency_code", "ccy")}
CODE_LIST_DESCS = {"country": "Country (ISO 3166-1 alpha-2)", "us_state": "US state (USPS code)",
                   "currency": "Currency (ISO 4217)"}

# Public identifiers two unrelated memos may both mention.
PUBLIC_CODES = ("COVID-19", "ISO 27001", "ISO 9001", "ICD-10 J45", "GDPR Article 30", "SOC 2 Type II",
                "NAICS 541512", "ISO 14001", "IFRS 16", "PCI DSS 4.0")
PUBLIC_CODE_SENTENCES = (
    "{cite}: the team checked its processes against {code} with the compliance office.",
    "Open point for {cite}: evidence for {code} is due before the next audit window.",
    "{code} applies to part of the scope of {cite}; the owners confirmed the controls in place.",
    "Reminder: anything touching {code} needs sign-off before {cite} moves to the next phase.",
)

# City, latitude, longitude, ISO country, UN M49 region: rows of location tables.
CITY_COORDINATES = (
    ("Chicago", 41.8781, -87.6298, "US", "Americas"), ("Denver", 39.7392, -104.9903, "US", "Americas"),
    ("Atlanta", 33.7490, -84.3880, "US", "Americas"), ("Seattle", 47.6062, -122.3321, "US", "Americas"),
    ("Toronto", 43.6532, -79.3832, "CA", "Americas"), ("Sao Paulo", -23.5505, -46.6333, "BR", "Americas"),
    ("Dublin", 53.3498, -6.2603, "IE", "Europe"), ("Madrid", 40.4168, -3.7038, "ES", "Europe"),
    ("Hamburg", 53.5511, 9.9937, "DE", "Europe"), ("Lyon", 45.7640, 4.8357, "FR", "Europe"),
    ("Krakow", 50.0647, 19.9450, "PL", "Europe"), ("Rotterdam", 51.9244, 4.4777, "NL", "Europe"),
    ("Osaka", 34.6937, 135.5023, "JP", "Asia"), ("Singapore", 1.3521, 103.8198, "SG", "Asia"),
    ("Pune", 18.5204, 73.8567, "IN", "Asia"), ("Dubai", 25.2048, 55.2708, "AE", "Asia"),
    ("Sydney", -33.8688, 151.2093, "AU", "Oceania"), ("Cape Town", -33.9249, 18.4241, "ZA", "Africa"),
)

# Company templates: several projects or departments fill in the same one.
MINUTES_TITLES = ("Project board minutes", "Steering committee minutes", "Programme board minutes")
MINUTES_ITEMS = ("Welcome and apologies", "Minutes and actions of the previous meeting", "Budget and forecast",
                 "Risk register review", "Change requests", "Resourcing", "Communications plan",
                 "Any other business")
MINUTES_OPENINGS = ("The chair opened the meeting and confirmed the quorum.",
                    "The meeting was quorate; the chair welcomed the members.",
                    "Quorum confirmed. Members were reminded of the conflict of interest register.")
MINUTES_PREVIOUS = ("The minutes of the previous meeting were approved without changes.",
                    "The minutes of the last meeting were accepted as a true record.")
MINUTES_CLOSINGS = ("Next meeting: first Tuesday of the month, 10:00, main boardroom and online.",
                    "The next board will be held in four weeks; papers are due five working days before.",
                    "The chair closed the meeting; the secretary will circulate the action log.")
README_NOTICES = ("Access is granted by the data owner on request through the service desk.",
                  "This dataset is internal; share extracts only with colleagues who need them.",
                  "Do not copy this dataset to personal drives; request access through the data catalogue.")
README_CHANGELOGS = ("Schema changes are announced two weeks ahead in the data catalogue.",
                     "Breaking changes bump the major version; see the catalogue entry for history.")
MEMO_SERIES = (
    ("Quarterly data protection attestation",
     ("Records of processing were reviewed and are up to date.",
      "Access rights were recertified by each team lead.", "New suppliers completed the privacy questionnaire.",
      "Retention rules were applied to closed cases.", "Staff completed the annual privacy training.")),
    ("Quarterly health and safety return",
     ("Fire drills were held at every site.", "First-aid kits were checked and restocked.",
      "Near misses were logged and reviewed.", "Display screen assessments were offered to new starters.",
      "Contractor inductions were recorded.")),
    ("Quarterly access review",
     ("Leavers were removed from every system within five days.", "Privileged accounts were reviewed.",
      "Shared mailboxes have a named owner.", "Service accounts were rotated.",
      "Exceptions were approved by the system owner.")),
)
LOCATION_STANDARDS = ("Location fields standard", "Geographic columns convention", "Site coordinates standard")
