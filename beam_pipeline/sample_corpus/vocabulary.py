"""Word pools the generator draws from: names, places, codes, stock sentences."""

from __future__ import annotations

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
