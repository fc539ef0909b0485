"""Seeded generator of a labelled sample company drive.

`generate_corpus(out_dir, projects, seed, rows_scale)` writes a varied drive
(``<Department>/<Project Name>/...`` with workbooks, CSV/JSON exports, SQLite
marts, decks, memos, notes and status reports, plus a ``shared/`` folder of
unrelated files) and returns the truth: every file written and every typed
relationship between two files, in the format of
``../shared/data/chinook/truth.json``. The truth is also written to
``out_dir/truth.json`` (which is not itself listed in ``files``).

Relationship types (source -> target):
  SUMMARIZES  deck/doc -> data file whose rows its aggregates come from
  SUPPORTS    data file -> deck/doc quoting a few of its records verbatim
  DOCUMENTS   memo -> the data file it names and describes column by column
  REFERENCES  data file -> data file holding the key its FK column points at
  VERSION_OF  newer -> older member of a version family
  RELATED_TO  two narrative files of one project with no typed edge

Determinism: every random draw comes from ``random.Random`` seeded from
``seed`` (one generator per project, so projects are independent and memory
stays flat), Office core properties are set from seeded dates, zip entries get
the file's seeded timestamp, and SQLite files are written in one fixed order,
so equal arguments give byte-identical files.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
import os
import random
import re
import sqlite3
import struct
import zipfile
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import docx
import pptx
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter
from pptx.util import Inches, Pt

__all__ = ["generate_corpus", "plan_projects", "ProjectPlan", "EDGE_TYPES", "NARRATIVE_EXTENSIONS",
           "DATA_EXTENSIONS"]

EDGE_TYPES = ("SUMMARIZES", "SUPPORTS", "DOCUMENTS", "REFERENCES", "VERSION_OF", "RELATED_TO")
NARRATIVE_EXTENSIONS = frozenset({"pptx", "docx", "md", "txt"})
DATA_EXTENSIONS = frozenset({"xlsx", "csv", "json", "jsonl", "sqlite", "db"})

# --------------------------------------------------------------------------
# Shared vocabulary
# --------------------------------------------------------------------------

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

# --------------------------------------------------------------------------
# Domain definitions (data, not code)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """A column template: name, value kind, kind argument, description."""

    name: str
    kind: str  # label | money | int | float | person | email | phone | company | city | date | ssn | iban | ip | serial | campaign
    arg: Any = None
    desc: str = ""


def lab(name: str, desc: str, *labels: str) -> Col:
    return Col(name, "label", tuple(labels), desc)


def num(name: str, kind: str, lo: float, hi: float, desc: str) -> Col:
    return Col(name, kind, (lo, hi), desc)


@dataclass(frozen=True)
class EntitySpec:
    """The dimension table facts point at (customers, employees, meters...)."""

    table: str
    key: str
    prefix: str  # for string-code keys, e.g. "C" -> "C-10234"
    noun: str
    fk_names: Tuple[str, ...]  # first equals `key`: same-name FKs happen too
    attrs: Tuple[Col, ...]


@dataclass(frozen=True)
class EventSpec:
    """A secondary fact (returns, leave requests...) keyed to the entity."""

    table: str
    id_col: str
    noun: str
    date_col: str
    cols: Tuple[Col, ...]


@dataclass(frozen=True)
class Domain:
    key: str
    department: str
    topics: Tuple[str, ...]
    system: str  # source system named in method sections
    row_noun: str
    fact_names: Tuple[str, ...]
    fact_id: Tuple[str, str]  # (column, code prefix)
    date_col: str
    dims: Tuple[Col, ...]
    measures: Tuple[Col, ...]
    entity: EntitySpec
    events: EventSpec
    api_name: str
    plan_name: str
    meeting_name: str
    forecast_name: str
    goal: str
    discussion: Tuple[str, ...]
    ops_log: bool = False  # status reports carry an ops log with IP addresses


def _person_attrs(email_desc: str = "Contact email") -> Tuple[Col, ...]:
    return (Col("name", "person", desc="Full name"), Col("email", "email", desc=email_desc),
            Col("phone", "phone", desc="Contact phone number"))


DOMAINS: Tuple[Domain, ...] = (
    Domain(
        key="retail", department="Sales", topics=("Store Performance", "Retail Sales Review", "Basket Analysis"),
        system="point-of-sale warehouse", row_noun="order",
        fact_names=("sales", "orders extract", "store sales"), fact_id=("order_id", "SO"), date_col="order_date",
        dims=(lab("region", "Sales region of the store", "North", "South", "East", "West", "Central", "Coastal",
                  "Mountain", "Metro"),
              lab("category", "Product category", "Grocery", "Apparel", "Electronics", "Home & Living", "Toys",
                  "Beauty", "Sports", "Garden", "Books", "Pet Care"),
              lab("channel", "Sales channel", "In-store", "Online", "Marketplace", "Click & Collect")),
        measures=(num("revenue", "money", 8, 950, "Net revenue in USD"),
                  num("units", "int", 1, 24, "Units sold"),
                  num("discount", "money", 0, 45, "Discount granted in USD"),
                  num("gross_margin", "money", 2, 300, "Gross margin in USD")),
        entity=EntitySpec("customers", "customer_id", "C", "customer", ("customer_id", "cust", "buyer_id"),
                          _person_attrs() + (lab("segment", "Customer segment", "Consumer", "Small Business",
                                                 "Corporate", "Loyalty Gold", "Loyalty Silver"),
                                             Col("city", "city", desc="Home city"))),
        events=EventSpec("returns", "return_id", "return", "return_date",
                         (lab("reason", "Return reason", "Damaged item", "Wrong size", "Late delivery",
                              "Changed mind", "Not as described"),
                          lab("status", "Processing status", "open", "approved", "rejected", "refunded"),
                          num("amount", "money", 5, 400, "Refund amount in USD"))),
        api_name="orders api", plan_name="store rollout plan", meeting_name="trading review",
        forecast_name="sales forecast", goal="grow like-for-like revenue and cut return rates",
        discussion=("Promo calendar for the next quarter", "Stock-outs in two categories",
                    "Return policy wording on the website", "Store refit schedule")),
    Domain(
        key="hr", department="People", topics=("Workforce Planning", "Headcount Review", "Retention Study"),
        system="HRIS", row_noun="payroll line",
        fact_names=("headcount", "payroll extract", "workforce data"), fact_id=("line_id", "HC"),
        date_col="pay_month",
        dims=(lab("department", "Owning department", "Engineering", "Sales", "Finance", "People", "Legal",
                  "Operations", "Support", "Marketing", "Data"),
              lab("location", "Office location", "Berlin", "Austin", "Toronto", "Dublin", "Singapore", "Lisbon",
                  "Remote"),
              lab("grade", "Job grade", "L1", "L2", "L3", "L4", "L5", "L6", "L7")),
        measures=(num("salary_cost", "money", 3200, 14500, "Monthly salary cost in USD"),
                  num("fte", "float", 0.5, 1.0, "Full-time equivalent"),
                  num("overtime_hours", "float", 0, 32, "Overtime hours in the month"),
                  num("bonus", "money", 0, 4000, "Bonus paid in USD")),
        entity=EntitySpec("employees", "employee_id", "E", "employee", ("employee_id", "owner", "emp_id"),
                          _person_attrs("Work email") + (Col("ssn", "ssn", desc="Social security number (restricted)"),
                                                         lab("job_title", "Job title", "Analyst", "Engineer", "Manager",
                                                             "Specialist", "Coordinator", "Director"),
                                                         Col("hire_date", "date", desc="Hire date"))),
        events=EventSpec("leave_requests", "request_id", "leave request", "start_date",
                         (lab("leave_type", "Type of leave", "Vacation", "Sick", "Parental", "Unpaid", "Training"),
                          lab("status", "Approval status", "pending", "approved", "declined"),
                          num("days", "int", 1, 15, "Working days requested"))),
        api_name="hris events", plan_name="hiring plan", meeting_name="people leadership sync",
        forecast_name="headcount budget", goal="keep hiring on plan while holding overtime down",
        discussion=("Offer acceptance rate in Engineering", "Relocation packages", "Onboarding buddy scheme",
                    "Overtime in the support team")),
    Domain(
        key="marketing", department="Marketing", topics=("Campaign Performance", "Media Mix Review", "Launch Tracker"),
        system="ad platform exports", row_noun="campaign-day",
        fact_names=("campaign performance", "media spend", "channel results"), fact_id=("row_id", "MK"),
        date_col="day",
        dims=(lab("channel", "Media channel", "Paid Search", "Paid Social", "Email", "Display", "Affiliates",
                  "Events", "Video", "Podcast"),
              lab("campaign_type", "Campaign type", "Brand", "Promo", "Retargeting", "Launch", "Nurture"),
              lab("market", "Target market", "US", "UK", "DE", "FR", "JP", "BR", "AU", "CA")),
        measures=(num("spend", "money", 20, 5000, "Media spend in USD"),
                  num("impressions", "int", 500, 90000, "Ad impressions"),
                  num("clicks", "int", 5, 3000, "Clicks"),
                  num("conversions", "int", 0, 120, "Attributed conversions")),
        entity=EntitySpec("campaigns", "campaign_id", "CAM", "campaign", ("campaign_id", "campaign", "cmp_ref"),
                          (Col("campaign_name", "campaign", desc="Campaign name"),
                           Col("owner", "person", desc="Campaign owner"),
                           Col("owner_email", "email", desc="Owner email"),
                           lab("objective", "Campaign objective", "Awareness", "Leads", "Sales", "Retention"),
                           Col("start_date", "date", desc="Campaign start date"))),
        events=EventSpec("leads", "lead_id", "lead", "created_date",
                         (lab("source", "Lead source", "Form", "Webinar", "Chatbot", "Trade show", "Referral"),
                          lab("status", "Lead status", "new", "qualified", "won", "lost"),
                          num("score", "int", 1, 100, "Lead score"))),
        api_name="ads api", plan_name="launch plan", meeting_name="campaign stand-up",
        forecast_name="media budget", goal="bring cost per conversion down across paid channels",
        discussion=("Creative refresh for paid social", "Attribution window change", "Agency invoice timing",
                    "Landing page A/B test")),
    Domain(
        key="logistics", department="Operations", topics=("Freight Optimisation", "Carrier Performance", "Network Review"),
        system="transport management system", row_noun="shipment",
        fact_names=("shipments", "freight log", "shipment register"), fact_id=("shipment_id", "SHP"),
        date_col="ship_date",
        dims=(lab("origin_hub", "Origin hub", "Rotterdam", "Memphis", "Leipzig", "Singapore", "Louisville", "Dubai",
                  "Chicago"),
              lab("carrier", "Carrier", "Northline", "BlueRoute", "Fastway", "Polar Freight", "Meridian"),
              lab("service_level", "Service level", "Standard", "Express", "Freight", "Same-day", "Economy")),
        measures=(num("cost", "money", 4, 2500, "Freight cost in USD"),
                  num("weight_kg", "float", 0.2, 900, "Gross weight in kg"),
                  num("distance_km", "int", 5, 9000, "Distance in km"),
                  num("transit_days", "int", 1, 14, "Transit time in days")),
        entity=EntitySpec("warehouses", "warehouse_id", "WH", "warehouse", ("warehouse_id", "dest_wh", "warehouse"),
                          (Col("site_name", "company", desc="Warehouse name"), Col("city", "city", desc="City"),
                           Col("manager", "person", desc="Site manager"), Col("phone", "phone", desc="Site phone"),
                           num("capacity_pallets", "int", 500, 40000, "Pallet capacity"))),
        events=EventSpec("delivery_exceptions", "exception_id", "delivery exception", "reported_on",
                         (lab("reason", "Exception reason", "Address not found", "Customs hold", "Damaged",
                              "Weather", "Missed slot"),
                          lab("status", "Exception status", "open", "resolved", "escalated"),
                          num("delay_hours", "int", 1, 96, "Delay in hours"))),
        api_name="tracking api", plan_name="network redesign plan", meeting_name="carrier review",
        forecast_name="freight budget", goal="cut late deliveries and freight cost per kilo",
        discussion=("Peak season capacity", "Customs broker change", "Carrier scorecards", "Dock scheduling"),
        ops_log=True),
    Domain(
        key="support", department="Customer Success", topics=("Support Operations", "Ticket Backlog", "CSAT Programme"),
        system="helpdesk", row_noun="ticket",
        fact_names=("tickets", "support tickets", "ticket export"), fact_id=("ticket_id", "TCK"),
        date_col="opened_on",
        dims=(lab("queue", "Support queue", "Billing", "Technical", "Account", "Shipping", "Onboarding", "Security"),
              lab("priority", "Ticket priority", "P1", "P2", "P3", "P4"),
              lab("contact_channel", "Contact channel", "Email", "Chat", "Phone", "Web form", "Social")),
        measures=(num("resolution_hours", "float", 0.2, 120, "Hours to resolution"),
                  num("first_response_min", "int", 1, 600, "Minutes to first response"),
                  num("csat", "float", 1, 5, "Customer satisfaction score (1-5)"),
                  num("reopen_count", "int", 0, 3, "Times the ticket was reopened")),
        entity=EntitySpec("agents", "agent_id", "AG", "agent", ("agent_id", "assignee", "handled_by"),
                          _person_attrs("Work email") + (lab("team", "Team", "Tier 1", "Tier 2", "Escalations", "VIP"),
                                                         lab("shift", "Shift", "Early", "Day", "Late", "Weekend"))),
        events=EventSpec("escalations", "escalation_id", "escalation", "opened_on",
                         (lab("tier", "Escalation tier", "Tier 2", "Tier 3", "Engineering", "Management"),
                          lab("status", "Escalation status", "open", "closed", "waiting"),
                          num("credit_amount", "money", 0, 500, "Service credit in USD"))),
        api_name="helpdesk api", plan_name="support playbook", meeting_name="support ops review",
        forecast_name="staffing forecast", goal="shorten resolution time without hurting satisfaction",
        discussion=("Macro library clean-up", "Weekend coverage", "Knowledge base gaps", "Chatbot hand-off")),
    Domain(
        key="energy", department="Facilities", topics=("Energy Efficiency", "Metering Programme", "Site Decarbonisation"),
        system="metering head-end", row_noun="meter reading",
        fact_names=("meter readings", "energy usage", "consumption data"), fact_id=("reading_id", "RD"),
        date_col="reading_date",
        dims=(lab("site", "Site", "Plant North", "Plant South", "HQ Campus", "Depot East", "Lab West", "Warehouse 7"),
              lab("meter_type", "Utility metered", "Electricity", "Gas", "Water", "District heat"),
              lab("tariff", "Tariff band", "Peak", "Off-peak", "Shoulder", "Weekend")),
        measures=(num("kwh", "float", 10, 25000, "Energy in kWh"),
                  num("cost", "money", 5, 6000, "Cost in USD"),
                  num("co2_kg", "float", 1, 9000, "Emissions in kg CO2e"),
                  num("peak_kw", "float", 1, 800, "Peak demand in kW")),
        entity=EntitySpec("meters", "meter_id", "MTR", "meter", ("meter_id", "meter", "device_ref"),
                          (Col("serial", "serial", desc="Manufacturer serial number"),
                           lab("vendor", "Meter vendor", "Landis", "Itron", "Kamstrup", "Elster"),
                           Col("install_date", "date", desc="Installation date"),
                           Col("gateway_ip", "ip", desc="IP address of the data gateway"),
                           lab("firmware", "Firmware version", "v2.1", "v2.4", "v3.0"))),
        events=EventSpec("outages", "outage_id", "outage", "started_on",
                         (lab("cause", "Outage cause", "Grid fault", "Maintenance", "Storm", "Equipment failure"),
                          lab("status", "Outage status", "restored", "investigating"),
                          num("minutes", "int", 3, 600, "Outage duration in minutes"))),
        api_name="meter api", plan_name="efficiency programme plan", meeting_name="energy working group",
        forecast_name="energy budget", goal="reduce peak demand and CO2 per site",
        discussion=("Demand response contract", "LED retrofit phase 2", "Sub-metering gaps", "Heat pump pilot"),
        ops_log=True),
    Domain(
        key="clinical", department="R&D", topics=("Lab Turnaround", "Trial Monitoring", "Assay Validation"),
        system="laboratory information system", row_noun="lab result",
        fact_names=("lab results", "assay results", "lab data"), fact_id=("sample_id", "LAB"),
        date_col="collected_on",
        dims=(lab("lab", "Performing lab", "Central Lab", "North Clinic", "Riverside", "East Campus", "Mobile Unit"),
              lab("test_panel", "Test panel", "CBC", "Lipid panel", "Metabolic panel", "Thyroid", "HbA1c",
                  "Liver panel"),
              lab("visit", "Protocol visit", "Screening", "Baseline", "Week 4", "Week 12", "Follow-up")),
        measures=(num("result_value", "float", 0.1, 300, "Reported result in panel units"),
                  num("turnaround_hours", "float", 1, 96, "Hours from collection to result"),
                  num("repeat_count", "int", 0, 2, "Number of repeat runs"),
                  num("cost", "money", 12, 240, "Assay cost in USD")),
        entity=EntitySpec("subjects", "subject_id", "SUBJ", "subject", ("subject_id", "subject", "patient_ref"),
                          (lab("arm", "Treatment arm", "Placebo", "Low dose", "High dose"),
                           num("age", "int", 18, 85, "Age at enrolment"), lab("sex", "Sex", "F", "M"),
                           Col("enrolled_on", "date", desc="Enrolment date"),
                           Col("investigator", "person", desc="Site investigator"),
                           Col("investigator_email", "email", desc="Investigator email"))),
        events=EventSpec("adverse_events", "ae_id", "adverse event", "onset_date",
                         (lab("severity", "Severity", "Mild", "Moderate", "Severe"),
                          lab("outcome", "Outcome", "Resolved", "Ongoing", "Resolved with sequelae"),
                          num("duration_days", "int", 1, 30, "Duration in days"))),
        api_name="lims api", plan_name="monitoring plan", meeting_name="study team meeting",
        forecast_name="study budget", goal="keep turnaround times within protocol limits",
        discussion=("Courier pick-up times", "Haemolysed samples", "Protocol amendment 3", "Site initiation visit")),
    Domain(
        key="finance", department="Finance", topics=("Cost Control", "Spend Review", "Close Acceleration"),
        system="general ledger", row_noun="ledger line",
        fact_names=("gl extract", "spend ledger", "expense lines"), fact_id=("entry_id", "JE"),
        date_col="posting_date",
        dims=(lab("cost_center", "Cost center", "CC-100 Sales", "CC-200 R&D", "CC-300 G&A", "CC-400 Operations",
                  "CC-500 Marketing"),
              lab("account", "GL account", "Travel", "Software", "Contractors", "Facilities", "Hardware", "Training",
                  "Legal fees"),
              lab("region", "Reporting region", "EMEA", "AMER", "APAC", "LATAM")),
        measures=(num("amount", "money", 50, 25000, "Posted amount in USD"),
                  num("budget", "money", 100, 30000, "Budgeted amount in USD"),
                  num("tax", "money", 0, 4000, "Tax in USD")),
        entity=EntitySpec("vendors", "vendor_id", "V", "vendor", ("vendor_id", "vendor", "supplier_id"),
                          (Col("vendor_name", "company", desc="Legal name"), Col("email", "email", desc="AP email"),
                           Col("phone", "phone", desc="AP phone"), Col("iban", "iban", desc="Bank account (IBAN)"),
                           lab("country", "Country", "US", "DE", "NL", "IE", "FR", "GB"),
                           lab("payment_terms", "Payment terms", "Net 30", "Net 45", "Net 60"))),
        events=EventSpec("invoices", "invoice_id", "invoice", "invoice_date",
                         (lab("status", "Invoice status", "paid", "open", "overdue", "disputed"),
                          num("amount", "money", 100, 40000, "Invoice amount in USD"))),
        api_name="ap api", plan_name="cost reduction plan", meeting_name="month-end close",
        forecast_name="budget", goal="close the books faster and keep spend within budget",
        discussion=("Accrual for consulting fees", "Duplicate vendor records", "Card expense policy",
                    "Audit sample requests")),
    Domain(
        key="manufacturing", department="Manufacturing", topics=("Quality Improvement", "Line Efficiency", "Scrap Reduction"),
        system="MES", row_noun="production run",
        fact_names=("production runs", "quality log", "line output"), fact_id=("run_id", "RUN"),
        date_col="run_date",
        dims=(lab("line", "Production line", "Line A", "Line B", "Line C", "Line D", "Line E", "Line F"),
              lab("product_family", "Product family", "Valves", "Pumps", "Housings", "Brackets", "Sensors", "Gaskets"),
              lab("shift", "Shift", "Day", "Swing", "Night")),
        measures=(num("units_produced", "int", 50, 2400, "Good units produced"),
                  num("defects", "int", 0, 60, "Defective units"),
                  num("scrap_kg", "float", 0, 140, "Scrap in kg"),
                  num("downtime_min", "int", 0, 240, "Unplanned downtime in minutes")),
        entity=EntitySpec("machines", "machine_id", "M", "machine", ("machine_id", "asset_id", "machine"),
                          (Col("serial", "serial", desc="Serial number"),
                           lab("maker", "Manufacturer", "Haas", "Fanuc", "Okuma", "Trumpf", "DMG Mori"),
                           num("install_year", "int", 2005, 2023, "Year installed"),
                           Col("controller_ip", "ip", desc="Controller IP address"),
                           lab("state", "Asset state", "active", "standby", "retired"))),
        events=EventSpec("maintenance_orders", "work_order_id", "work order", "due_date",
                         (lab("order_type", "Work type", "Preventive", "Corrective", "Calibration", "Inspection"),
                          lab("status", "Work order status", "open", "done", "deferred"),
                          num("cost", "money", 80, 9000, "Work order cost in USD"))),
        api_name="mes api", plan_name="quality improvement plan", meeting_name="daily quality huddle",
        forecast_name="capex forecast", goal="lower defect rates and unplanned downtime",
        discussion=("Gasket supplier change", "Spindle vibration on one line", "Operator training matrix",
                    "Changeover times"),
        ops_log=True),
    Domain(
        key="saas", department="Product", topics=("Subscription Growth", "Churn Analysis", "Pricing Review"),
        system="billing platform", row_noun="subscription month",
        fact_names=("subscriptions", "mrr snapshot", "billing export"), fact_id=("sub_id", "SUB"),
        date_col="month_start",
        dims=(lab("plan", "Subscription plan", "Free", "Starter", "Pro", "Business", "Enterprise"),
              lab("sales_region", "Sales region", "North America", "Europe", "APAC", "LATAM", "Middle East"),
              lab("billing_cycle", "Billing cycle", "Monthly", "Annual")),
        measures=(num("mrr", "money", 0, 9000, "Monthly recurring revenue in USD"),
                  num("seats", "int", 1, 400, "Paid seats"),
                  num("active_users", "int", 0, 380, "Monthly active users"),
                  num("expansion_mrr", "money", 0, 1500, "Expansion MRR in USD")),
        entity=EntitySpec("accounts", "account_id", "ACC", "account", ("account_id", "tenant_id", "account"),
                          (Col("company", "company", desc="Customer company"),
                           Col("billing_email", "email", desc="Billing email"),
                           lab("industry", "Industry", "Retail", "Fintech", "Health", "Media", "Education", "Logistics"),
                           Col("signup_date", "date", desc="Sign-up date"),
                           Col("phone", "phone", desc="Billing phone"))),
        events=EventSpec("feature_usage", "usage_id", "usage event", "event_date",
                         (lab("feature", "Feature used", "Dashboards", "API", "Exports", "SSO", "Alerts", "Workflows"),
                          lab("status", "Outcome", "success", "error", "throttled"),
                          num("count", "int", 1, 500, "Calls in the day"))),
        api_name="usage api", plan_name="pricing change plan", meeting_name="revenue council",
        forecast_name="ARR forecast", goal="grow net revenue retention above plan",
        discussion=("Annual plan discount", "Seat-based pricing test", "Dunning emails", "Enterprise SSO tier"),
        ops_log=True),
)
DOMAIN_BY_KEY = {d.key: d for d in DOMAINS}

# --------------------------------------------------------------------------
# Tables and small value helpers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ForeignKey:
    column: str
    target_uid: str  # logical table it points at (versions share a uid)
    target_table: str
    target_column: str


@dataclass
class Table:
    """Rows plus what the truth needs: key, foreign keys, per-column kinds."""

    uid: str
    name: str
    columns: List[str]
    kinds: Dict[str, str]
    descs: Dict[str, str]
    rows: List[list]
    key: Optional[str] = None
    fks: List[ForeignKey] = field(default_factory=list)

    def col(self, name: str) -> List[Any]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]


@dataclass(frozen=True)
class Meta:
    title: str
    author: str
    created: datetime
    modified: datetime


def cell_text(value: Any, kind: str = "") -> str:
    """The text a value has in CSV exports; docs quoting records use the same."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if kind == "money":
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.1f}" if kind == "float" else repr(value)
    return str(value)


def _round(kind: str, value: float) -> Any:
    if kind == "money":
        return round(value, 2)
    if kind == "float":
        return round(value, 1)
    return int(round(value))


def _measure_value(rng: random.Random, col: Col) -> Any:
    lo, hi = col.arg
    if col.kind == "int":
        return rng.randint(int(lo), int(hi))
    # Squared uniform: many small values, a few large ones, like real amounts.
    return _round(col.kind, lo + (hi - lo) * rng.random() ** 2)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _email_for(name: str, domain_name: str) -> str:
    local = ".".join(w.lower() for w in name.replace("&", "and").split() if w.isalnum())
    return f"{local or 'info'}@{domain_name}"


def _phone(rng: random.Random) -> str:
    # 555-01xx numbers are reserved for fiction.
    return f"+1 {rng.choice(AREA_CODES)} 555 01{rng.randint(0, 99):02d}"


def _ssn(rng: random.Random) -> str:
    return f"{rng.randint(100, 665):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"


def _iban(rng: random.Random) -> str:
    bban = f"{rng.randint(10000000, 99999999)}{rng.randint(0, 10 ** 10 - 1):010d}"
    check = 98 - int(bban + "131400") % 97  # DE = 13 14, valid mod-97 check digits
    raw = f"DE{check:02d}{bban}"
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _card_number(rng: random.Random) -> str:
    digits = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):  # Luhn check digit
        d2 = d * 2 if i % 2 == 0 else d
        total += d2 - 9 if d2 > 9 else d2
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i:i + 4] for i in range(0, 16, 4))


def _ip(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(('Logistics', 'Foods', 'Systems', 'Retail', 'Labs', 'Works', 'Trading'))} {rng.choice(COMPANY_SUFFIXES)}"


def _pretty(column: str) -> str:
    text = column.replace("_", " ")
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------
# Projects
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectPlan:
    """What identifies a project across the corpus."""

    index: int
    domain: str
    code: str
    name: str
    folder: str  # relative posix path: <Department>/<Project Name>


def plan_projects(projects: int, seed: int = 0) -> List[ProjectPlan]:
    """Domain, unique code, unique name and folder of every project, in order.

    The first len(DOMAINS) projects use distinct domains; later projects reuse
    domains under new names, codes and label sets.
    """
    rng = random.Random(f"plan:{seed}")
    order = list(range(len(DOMAINS)))
    rng.shuffle(order)
    used_codes: set = set()
    used_names: set = set()
    plans = []
    for i in range(projects):
        domain = DOMAINS[order[i % len(order)]] if i < len(order) else DOMAINS[rng.randrange(len(DOMAINS))]
        code = _draw_code(rng, used_codes)
        name = _draw_name(rng, domain, used_names, i)
        plans.append(ProjectPlan(i, domain.key, code, name, f"{domain.department}/{name}"))
    return plans


def _draw_code(rng: random.Random, used: set) -> str:
    for _ in range(40):
        prefixes, make = CODE_FORMATS[rng.randrange(len(CODE_FORMATS))]
        code = make(rng, rng.choice(prefixes))
        if code not in used:
            used.add(code)
            return code
    while True:  # only reached when the formats above are nearly exhausted
        code = f"PX-{rng.randint(100000, 999999)}"
        if code not in used:
            used.add(code)
            return code


def _draw_name(rng: random.Random, domain: Domain, used: set, index: int) -> str:
    for attempt in range(12):
        name = f"{rng.choice(CODENAMES)} {rng.choice(domain.topics)}"
        if attempt >= 3:
            name = f"{name} {rng.choice(NAME_QUALIFIERS)}"
        if name not in used:
            used.add(name)
            return name
    name = f"{rng.choice(CODENAMES)} {rng.choice(domain.topics)} No {index}"
    used.add(name)
    return name


@dataclass
class Project:
    """One project's seeded choices; everything it writes draws from `rng`."""

    plan: ProjectPlan
    domain: Domain
    rng: random.Random
    rows_scale: float
    company: str
    lead: str
    base: datetime
    data_start: date
    data_days: int
    key_format: str  # smallint | bigint | code | hex
    labels: Dict[str, Tuple[str, ...]]
    fact_dims: Tuple[Col, ...]
    fact_measures: Tuple[Col, ...]
    style: str
    subdirs: Dict[str, str]
    cite_style: int
    narratives: List[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.plan.code

    @property
    def name(self) -> str:
        return self.plan.name

    def rows(self, lo: int, hi: int) -> int:
        return max(5, int(round(self.rng.randint(lo, hi) * self.rows_scale)))

    def cite(self) -> str:
        """How this project's narratives name it: always code and name."""
        return (f"{self.name} ({self.code})", f"{self.code} - {self.name}",
                f"Project {self.code}: {self.name}")[self.cite_style]

    def fname(self, words: Sequence[str], ext: str, style: Optional[str] = None) -> str:
        return f"{styled(words, style or self.style)}.{ext}"

    def path(self, area: str, file_name: str) -> str:
        sub = self.subdirs.get(area, "")
        return str(PurePosixPath(self.plan.folder, sub, file_name)) if sub else f"{self.plan.folder}/{file_name}"

    def meta(self, title: str, day: float, author: Optional[str] = None) -> Meta:
        created = self.base + timedelta(days=day, minutes=self.rng.randint(0, 600))
        modified = created + timedelta(hours=self.rng.randint(1, 72))
        return Meta(title, author or (self.lead if self.rng.random() < 0.6 else self.rng.choice(AUTHORS)),
                    created, modified)

    def email(self, person: str) -> str:
        return _email_for(person, company_domain(self.company))

    def footer(self) -> str:
        return boilerplate_footer(self.company)


def company_domain(company: str) -> str:
    return "".join(ch for ch in company.lower().replace("&", "and") if ch.isalnum() or ch == " ").replace(" ", "-") + ".com"


def boilerplate_footer(company: str) -> str:
    return f"Confidential - {company} - Internal use only"


def about_paragraph(company: str) -> str:
    return (f"About {company}: {company} is a privately held group serving customers in 14 countries. "
            f"This document is for internal use only and must not be shared outside {company}.")


def styled(words: Sequence[str], style: str) -> str:
    """Join name words in one of the drive's naming styles."""
    flat = " ".join(words).split()
    if style == "snake":
        return "_".join(w.lower() for w in flat)
    if style == "kebab":
        return "-".join(w.lower() for w in flat)
    if style == "title":
        return " ".join(w if any(c.isdigit() for c in w) or w.isupper() else w.capitalize() for w in flat)
    text = " ".join(flat)
    return text[:1].upper() + text[1:]


def make_project(plan: ProjectPlan, seed: int, rows_scale: float, company: str) -> Project:
    rng = random.Random(f"project:{seed}:{plan.index}")
    domain = DOMAIN_BY_KEY[plan.domain]
    # Close timestamps across projects: every project lives in one year.
    base = datetime(2024, 1, 8, 9, 0) + timedelta(days=rng.randint(0, 300), minutes=rng.randint(0, 480))
    data_days = rng.randint(90, 365)
    labels = {}
    for col in domain.dims:
        pool = col.arg
        labels[col.name] = tuple(rng.sample(pool, rng.randint(min(3, len(pool)), len(pool))))
    chosen = rng.sample(domain.dims, rng.randint(1, len(domain.dims)))
    dims = tuple(c for c in domain.dims if c in chosen)  # keep the domain's column order
    measures = tuple(rng.sample(domain.measures, rng.randint(2, min(4, len(domain.measures)))))
    subdirs = {area: name for area, name in (("data", "data"), ("decks", "decks"), ("archive", "archive"),
                                             ("meetings", "meetings")) if rng.random() < 0.5}
    return Project(plan=plan, domain=domain, rng=rng, rows_scale=rows_scale, company=company,
                   lead=rng.choice(AUTHORS), base=base, data_start=(base - timedelta(days=data_days + 20)).date(),
                   data_days=data_days, key_format=rng.choice(("smallint", "bigint", "code", "hex")),
                   labels=labels, fact_dims=dims, fact_measures=measures, style=rng.choice(NAME_STYLES),
                   subdirs=subdirs, cite_style=rng.randrange(3))


# --------------------------------------------------------------------------
# Table builders
# --------------------------------------------------------------------------


def make_keys(fmt: str, n: int, prefix: str, rng: random.Random, avoid: frozenset = frozenset()) -> list:
    """n distinct key values in one of the drive's key formats."""
    out: list = []
    seen = set(avoid)
    if fmt == "smallint":
        start = max((v for v in avoid if isinstance(v, int)), default=0) + 1
        return list(range(start, start + n))
    while len(out) < n:
        if fmt == "bigint":
            v: Any = rng.randint(10 ** 6, 10 ** 9)
        elif fmt == "code":
            v = f"{prefix}-{rng.randint(10000, 99999)}"
        else:
            h = f"{rng.getrandbits(128):032x}"
            v = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def _value(p: Project, col: Col) -> Any:
    rng = p.rng
    kind = col.kind
    if kind == "label":
        return rng.choice(p.labels.get(col.name) or col.arg)
    if kind in MEASURE_KINDS:
        return _measure_value(rng, col)
    if kind == "date":
        return p.data_start + timedelta(days=rng.randint(0, p.data_days))
    if kind == "person":
        return _person(rng)
    if kind == "company":
        return _company(rng)
    generators: Dict[str, Callable[[random.Random], Any]] = {
        "phone": _phone, "ssn": _ssn, "iban": _iban, "ip": _ip,
        "city": lambda r: r.choice(CITIES),
        "serial": lambda r: f"{r.choice('ABCDEFGHKLMNPRSTXZ')}{r.choice('ABCDEFGHKLMNPRSTXZ')}{r.randint(100000, 999999)}",
        "campaign": lambda r: f"{r.choice(('Spring', 'Summer', 'Autumn', 'Winter', 'Holiday', 'Back to School'))} "
                              f"{r.choice(('Launch', 'Promo', 'Push', 'Drive', 'Boost'))} {r.randint(2023, 2025)}",
    }
    return generators[kind](rng)


def _row(p: Project, cols: Sequence[Col], fixed: Dict[str, Any]) -> Dict[str, Any]:
    """One record; an email column is derived from the person or company before it."""
    row = dict(fixed)
    who = None
    for col in cols:
        if col.kind == "email":
            domain_name = company_domain(p.company) if col.desc.startswith("Work") else p.rng.choice(MAIL_DOMAINS)
            value = _email_for(who or _person(p.rng), domain_name)
        else:
            value = _value(p, col)
        if col.kind in ("person", "company"):
            who = value
        row[col.name] = value
    return row


def make_entity_table(p: Project, uid: str) -> Table:
    spec = p.domain.entity
    n = p.rows(20, 300)
    keys = make_keys(p.key_format, n, spec.prefix, p.rng)
    if p.key_format != "smallint" and p.rng.random() < 0.5:
        keys.sort(key=str)  # some exports come sorted, some in insertion order
    columns = [spec.key] + [c.name for c in spec.attrs]
    rows = []
    for k in keys:
        row = _row(p, spec.attrs, {spec.key: k})
        rows.append([row[c] for c in columns])
    kinds = {spec.key: "key", **{c.name: c.kind for c in spec.attrs}}
    descs = {spec.key: f"Unique {spec.noun} identifier (primary key)", **{c.name: c.desc for c in spec.attrs}}
    return Table(uid, spec.table, columns, kinds, descs, rows, key=spec.key)


def _orphan_keys(keys: list, k: int, rng: random.Random) -> list:
    """k values shaped like `keys` but absent from them (dangling references)."""
    present = set(keys)
    out: list = []
    while len(out) < k:
        sample = rng.choice(keys)
        if isinstance(sample, int):
            v: Any = max(keys) + 1 + len(out) if max(keys) <= 10 * len(keys) else rng.randint(10 ** 6, 10 ** 9)
        elif re.fullmatch(r"[A-Z]+-\d+", sample):
            prefix, digits = sample.split("-")
            v = f"{prefix}-{rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1)}"
        else:
            v = make_keys("hex", 1, "", rng)[0]
        if v not in present and v not in out:
            out.append(v)
    return out


def _fk_values(p: Project, target_keys: list, n: int) -> list:
    """FK values drawn from the target's keys; sometimes 1-2 distinct orphans
    on ~2% of rows, as real exports have, keeping containment high."""
    rng = p.rng
    values = [rng.choice(target_keys) for _ in range(n)]
    if len(target_keys) >= 30 and n >= 40 and rng.random() < 0.4:
        orphans = _orphan_keys(target_keys, rng.randint(1, 2), rng)
        for i in rng.sample(range(n), max(1, n // 50)):
            values[i] = rng.choice(orphans)
    return values


@dataclass
class FactFactory:
    """Makes fact rows for one project; versions reuse it to add rows."""

    p: Project
    id_col: str
    id_prefix: Optional[str]  # None: plain 1..n ids
    fk: Optional[Tuple[str, list]]  # (column, target keys)

    def ident(self, i: int) -> Any:
        return i if self.id_prefix is None else f"{self.id_prefix}-{i:06d}"

    def row(self, i: int, day: Optional[date] = None) -> list:
        p = self.p
        day = day or p.data_start + timedelta(days=p.rng.randint(0, p.data_days))
        out = [self.ident(i), day]
        if self.fk:
            out.append(p.rng.choice(self.fk[1]))
        out += [_value(p, c) for c in p.fact_dims]
        out += [_measure_value(p.rng, c) for c in p.fact_measures]
        return out


def make_fact_table(p: Project, uid: str, entity: Optional[Table], fk_col: Optional[str]) -> Tuple[Table, FactFactory]:
    d = p.domain
    generic = p.rng.random() < 0.4  # plain `id` 1..n, the classic false-overlap trap
    id_col = "id" if generic else d.fact_id[0]
    start = 1 if generic else p.rng.randint(1000, 90000)
    keys = entity.col(entity.key) if entity is not None and fk_col else None
    factory = FactFactory(p, id_col, None if generic else d.fact_id[1], (fk_col, keys) if keys else None)
    n = p.rows(100, 1500)
    days = sorted(p.data_start + timedelta(days=p.rng.randint(0, p.data_days)) for _ in range(n))
    rows = [factory.row(start + i, day) for i, day in enumerate(days)]
    columns = [id_col, d.date_col] + ([fk_col] if keys else []) + [c.name for c in p.fact_dims] + \
              [c.name for c in p.fact_measures]
    kinds = {id_col: "key", d.date_col: "date", **{c.name: c.kind for c in p.fact_dims + p.fact_measures}}
    descs = {id_col: f"Unique {d.row_noun} identifier", d.date_col: f"Date of the {d.row_noun} (YYYY-MM-DD)",
             **{c.name: c.desc for c in p.fact_dims + p.fact_measures}}
    fks = []
    if keys:
        vals = _fk_values(p, keys, n)
        for r, v in zip(rows, vals):
            r[2] = v
        kinds[fk_col] = "fk"
        descs[fk_col] = f"{d.entity.noun.capitalize()} reference; matches {d.entity.key} in {entity.name}"
        fks.append(ForeignKey(fk_col, entity.uid, entity.name, entity.key))
    table = Table(uid, styled(d.fact_names[0].split(), "snake"), columns, kinds, descs, rows, key=id_col, fks=fks)
    return table, factory


def make_events_table(p: Project, uid: str, entity: Table, fk_col: str) -> Table:
    spec = p.domain.events
    n = p.rows(60, 600)
    id_col = "id" if p.rng.random() < 0.35 else spec.id_col
    ids = make_keys("smallint" if id_col == "id" or p.rng.random() < 0.5 else "code", n,
                    spec.id_col.split("_")[0][:3].upper(), p.rng)
    fk_vals = _fk_values(p, entity.col(entity.key), n)
    columns = [id_col, fk_col, spec.date_col] + [c.name for c in spec.cols]
    rows = []
    for ident, fk in sorted(zip(ids, fk_vals), key=lambda t: t[0]):
        row = _row(p, spec.cols, {id_col: ident, fk_col: fk,
                                  spec.date_col: p.data_start + timedelta(days=p.rng.randint(0, p.data_days))})
        rows.append([row[c] for c in columns])
    kinds = {id_col: "key", fk_col: "fk", spec.date_col: "date", **{c.name: c.kind for c in spec.cols}}
    descs = {id_col: f"Unique {spec.noun} identifier", spec.date_col: f"Date of the {spec.noun}",
             fk_col: f"{p.domain.entity.noun.capitalize()} reference; matches {entity.key} in {entity.name}",
             **{c.name: c.desc for c in spec.cols}}
    return Table(uid, spec.table, columns, kinds, descs, rows, key=id_col,
                 fks=[ForeignKey(fk_col, entity.uid, entity.name, entity.key)])


def make_api_table(p: Project, uid: str, target: Table, fk_col: str) -> Table:
    """Records of an API dump: own hex/large ids, a pointer to `target`'s key."""
    spec = p.domain.events
    n = p.rows(40, 400)
    id_col = p.rng.choice(("event_id", "uuid", "record_id"))
    ids = make_keys(p.rng.choice(("hex", "bigint")), n, "", p.rng)
    fk_vals = _fk_values(p, target.col(target.key), n)
    label = spec.cols[0]
    measure = next(c for c in spec.cols if c.kind in MEASURE_KINDS)
    columns = [id_col, fk_col, "timestamp", label.name, measure.name]
    rows = []
    for ident, fk in zip(ids, fk_vals):
        ts = datetime.combine(p.data_start, datetime.min.time()) + timedelta(minutes=p.rng.randint(0, p.data_days * 1440))
        rows.append([ident, fk, ts.strftime("%Y-%m-%dT%H:%M:%SZ"), _value(p, label), _measure_value(p.rng, measure)])
    kinds = {id_col: "key", fk_col: "fk", "timestamp": "text", label.name: "label", measure.name: measure.kind}
    descs = {id_col: "Record identifier assigned by the API", fk_col: f"Points at {target.key} in {target.name}",
             "timestamp": "Event time (UTC, ISO 8601)", label.name: label.desc, measure.name: measure.desc}
    return Table(uid, styled(p.domain.api_name.split(), "snake"), columns, kinds, descs, rows, key=id_col,
                 fks=[ForeignKey(fk_col, target.uid, target.name, target.key)])


def make_forecast_table(p: Project, uid: str) -> Table:
    """Budget/forecast lines. Line items, not fact dimensions, so a forecast
    never looks like it points at a mart's dimension labels."""
    n = p.rows(24, 160)
    items = p.rng.sample(BUDGET_LINES, p.rng.randint(4, len(BUDGET_LINES)))
    columns = ["line", "line_item", "month", "planned", "forecast"]
    rows = []
    for i in range(1, n + 1):
        month = (p.data_start + timedelta(days=30 * p.rng.randint(0, 11))).strftime("%Y-%m")
        plan = round(p.rng.uniform(1000, 90000), 2)
        rows.append([i, p.rng.choice(items), month, plan, round(plan * p.rng.uniform(0.8, 1.2), 2)])
    kinds = {"line": "key", "line_item": "label", "month": "text", "planned": "money", "forecast": "money"}
    descs = {"line": "Line number", "line_item": "Budget line item", "month": "Month (YYYY-MM)",
             "planned": "Planned amount in USD", "forecast": "Latest forecast in USD"}
    return Table(uid, styled(p.domain.forecast_name.split(), "snake"), columns, kinds, descs, rows, key="line")


def make_mart_dim(p: Project, uid: str) -> Table:
    """A mart dimension keyed by small integers, for the mart's own fact table."""
    dim = p.fact_dims[0]
    labels = p.labels[dim.name]
    rows = [[i + 1, lbl, _person(p.rng)] for i, lbl in enumerate(labels)]
    key = f"{dim.name}_key"
    return Table(uid, f"dim_{dim.name}", [key, f"{dim.name}_name", "manager"],
                 {key: "key", f"{dim.name}_name": "label", "manager": "person"},
                 {key: "Surrogate key", f"{dim.name}_name": dim.desc, "manager": "Accountable manager"}, rows, key=key)


def make_mart_fact(p: Project, uid: str, entity: Table, dim: Table) -> Table:
    n = p.rows(30, 300)
    measure = p.fact_measures[0]
    ekeys, dkeys = entity.col(entity.key), dim.col(dim.key)
    rows = [[i + 1, p.rng.choice(ekeys), p.rng.choice(dkeys),
             (p.data_start + timedelta(days=30 * p.rng.randint(0, 11))).strftime("%Y-%m"),
             _measure_value(p.rng, measure)] for i in range(n)]
    cols = ["id", entity.key, dim.key, "month", measure.name]
    return Table(uid, f"fact_{p.domain.row_noun.replace(' ', '_').replace('-', '_')}_monthly", cols,
                 {"id": "key", entity.key: "fk", dim.key: "fk", "month": "text", measure.name: measure.kind},
                 {"id": "Row id", entity.key: f"References {entity.name}", dim.key: f"References {dim.name}",
                  "month": "Month (YYYY-MM)", measure.name: measure.desc}, rows, key="id",
                 fks=[ForeignKey(entity.key, entity.uid, entity.name, entity.key),
                      ForeignKey(dim.key, dim.uid, dim.name, dim.key)])


def evolve_table(table: Table, rng: random.Random, new_row: Optional[Callable[[int], list]]) -> Table:
    """A realistic next version: ~35% of rows get an edited measure, a few
    rows are dropped and a different number appended, so group totals,
    overall totals and the row count all move."""
    measures = [i for i, c in enumerate(table.columns) if table.kinds[c] in MEASURE_KINDS]
    rows = [list(r) for r in table.rows]
    for r in rows:
        if rng.random() < 0.35:
            i = rng.choice(measures)
            kind = table.kinds[table.columns[i]]
            old = r[i]
            new = _round(kind, old * rng.uniform(0.75, 1.3))
            r[i] = new if new != old else _round(kind, old + 1)
    dropped = max(1, len(rows) // 50)
    for i in sorted(rng.sample(range(len(rows)), max(0, min(dropped, len(rows) - 3))), reverse=True):
        del rows[i]
    if new_row is not None:
        last = max(r[0] if isinstance(r[0], int) else int(str(r[0]).rsplit("-", 1)[-1]) for r in table.rows)
        for k in range(dropped + rng.randint(1, 3)):
            rows.append(new_row(last + 1 + k))
    return replace(table, rows=rows)


# --------------------------------------------------------------------------
# Aggregates and number formats (shared by decks and summary reports)
# --------------------------------------------------------------------------


def group_sum(table: Table, by: str, measure: str) -> Dict[Any, float]:
    kind = table.kinds[measure]
    keys, vals = table.col(by), table.col(measure)
    acc: Dict[Any, List[float]] = defaultdict(list)
    for k, v in zip(keys, vals):
        acc[k].append(v)
    return {k: _round(kind, math.fsum(v)) if kind != "int" else sum(v) for k, v in acc.items()}


def total(table: Table, measure: str) -> float:
    vals = table.col(measure)
    return sum(vals) if table.kinds[measure] == "int" else round(math.fsum(vals), 2)


def fmt_amount(x: float, style: str, kind: str) -> str:
    """One number in a deck's chosen style: 1,234,567 / 1,234,567.89 / $1.23M / 45.2k / 1234567.89."""
    if style == "short":
        a = abs(x)
        s = (f"{x / 1e9:.2f}B" if a >= 1e9 else f"{x / 1e6:.2f}M" if a >= 1e6 else f"{x / 1e3:.1f}k" if a >= 1e4
             else f"{x / 1e3:.2f}k" if a >= 1e3 else str(int(x)) if kind == "int" else f"{x:.1f}")
    elif style == "comma2" and kind != "int":
        s = f"{x:,.2f}"
    elif style == "plain":
        s = f"{x:.2f}" if kind != "int" else str(int(x))
    else:
        s = f"{x:,.0f}"
    return f"${s}" if kind == "money" and style in ("short", "comma") else s


def fmt_share(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "0.0%"


# --------------------------------------------------------------------------
# Format writers: one per file format, no corpus logic
# --------------------------------------------------------------------------


@dataclass
class Slide:
    title: str
    bullets: Sequence[str] = ()
    table: Optional[Tuple[Sequence[str], Sequence[Sequence[str]]]] = None
    notes: str = ""
    subtitle: Optional[str] = None  # set on the title slide only


def save_zip(path: Path, save: Callable[[io.BytesIO], None], when: datetime) -> None:
    """Save an OOXML package with every zip entry stamped `when`.

    zipfile stamps entries with the wall clock; rewriting the 4 timestamp
    bytes of each local and central header in place keeps the compressed
    data untouched (re-compressing doubled the cost of writing a file).
    """
    buf = io.BytesIO()
    save(buf)
    data = bytearray(buf.getvalue())
    dos_time = (when.hour << 11) | (when.minute << 5) | (when.second // 2)
    dos_date = ((when.year - 1980) << 9) | (when.month << 5) | when.day
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        infos, pos = zf.infolist(), zf.start_dir
    for info in infos:
        struct.pack_into("<HH", data, info.header_offset + 10, dos_time, dos_date)
    for _ in infos:  # central directory entries, in order
        if data[pos:pos + 4] != b"PK\x01\x02":
            raise ValueError("unexpected zip layout")
        struct.pack_into("<HH", data, pos + 12, dos_time, dos_date)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        pos += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))


@dataclass
class Sheet:
    name: str
    rows: List[list]  # everything written, top to bottom (titles, header, body, totals)


def save_xlsx(path: Path, sheets: Sequence[Sheet], meta: Meta) -> None:
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        for row in sheet.rows:
            ws.append(row)
    props = wb.properties
    props.creator, props.lastModifiedBy, props.title = meta.author, meta.author, meta.title
    props.created, props.modified = meta.created, meta.modified
    # ExcelWriter directly: openpyxl's save_workbook stamps `modified` with now().
    save_zip(path, lambda buf: ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save(), meta.modified)


def _set_core(props: Any, meta: Meta, revision: int) -> None:
    props.author, props.last_modified_by, props.title = meta.author, meta.author, meta.title
    props.created, props.modified, props.revision = meta.created, meta.modified, revision


def save_pptx(path: Path, slides: Sequence[Slide], meta: Meta, footer: str, revision: int = 1) -> None:
    prs = pptx.Presentation()
    for s in slides:
        if s.subtitle is not None:
            slide = prs.slides.add_slide(prs.slide_layouts[0])
            slide.placeholders[1].text = s.subtitle
        elif s.table is not None:
            slide = prs.slides.add_slide(prs.slide_layouts[5])
            header, body = s.table
            shape = slide.shapes.add_table(len(body) + 1, len(header), Inches(0.5), Inches(1.5), Inches(9),
                                           Inches(0.35 * (len(body) + 1)))
            for r, values in enumerate([header, *body]):
                for c, value in enumerate(values):
                    shape.table.cell(r, c).text = str(value)
        else:
            slide = prs.slides.add_slide(prs.slide_layouts[1])
            frame = slide.placeholders[1].text_frame
            for i, bullet in enumerate(s.bullets):
                para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
                para.text = bullet
        slide.shapes.title.text = s.title
        box = slide.shapes.add_textbox(Inches(0.5), Inches(7.0), Inches(9), Inches(0.4))
        box.text_frame.text = footer
        box.text_frame.paragraphs[0].runs[0].font.size = Pt(9)
        if s.notes:
            slide.notes_slide.notes_text_frame.text = s.notes
    _set_core(prs.core_properties, meta, revision)
    save_zip(path, prs.save, meta.modified)


# Narrative blocks: ("title", text) ("h", text) ("p", text) ("bullets", [..])
# ("numbered", [..]) ("table", header, rows). One content model, three renderers.
Block = Tuple[Any, ...]


# Style ids of python-docx's default template. Setting ids directly skips
# python-docx's by-name style lookup, which dominated generation time.
DOCX_STYLE_IDS = {"title": "Title", "h": "Heading1", "bullets": "ListBullet", "numbered": "ListNumber"}


def _docx_paragraph(d: Any, text: str, style_id: Optional[str]) -> None:
    para = d.add_paragraph(text)
    if style_id:
        para._p.style = style_id


def save_docx(path: Path, blocks: Sequence[Block], meta: Meta, footer: str, revision: int = 1) -> None:
    d = docx.Document()
    for block in blocks:
        kind = block[0]
        if kind in ("title", "h", "p"):
            _docx_paragraph(d, block[1], DOCX_STYLE_IDS.get(kind))
        elif kind in ("bullets", "numbered"):
            for item in block[1]:
                _docx_paragraph(d, item, DOCX_STYLE_IDS[kind])
        elif kind == "table":
            header, body = block[1], block[2]
            table = d.add_table(rows=len(body) + 1, cols=len(header))
            table._tbl.tblPr.style = "TableGrid"
            for row, values in zip(table.rows, [header, *body]):
                for cell, value in zip(row.cells, values):
                    cell.text = str(value)
    d.sections[0].footer.paragraphs[0].text = footer
    _set_core(d.core_properties, meta, revision)
    save_zip(path, d.save, meta.modified)


def render_markdown(blocks: Sequence[Block], footer: str) -> str:
    out: List[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "title":
            out += [f"# {block[1]}", ""]
        elif kind == "h":
            out += [f"## {block[1]}", ""]
        elif kind == "p":
            out += [block[1], ""]
        elif kind == "bullets":
            out += [f"- {item}" for item in block[1]] + [""]
        elif kind == "numbered":
            out += [f"{i}. {item}" for i, item in enumerate(block[1], 1)] + [""]
        elif kind == "table":
            header, body = block[1], block[2]
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "|".join("---" for _ in header) + "|")
            out += ["| " + " | ".join(str(v) for v in row) + " |" for row in body]
            out.append("")
    out += ["---", f"_{footer}_", ""]
    return "\n".join(out)


def render_text(blocks: Sequence[Block], footer: str) -> str:
    out: List[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "title":
            out += [block[1], "=" * len(block[1]), ""]
        elif kind == "h":
            out += [block[1], "-" * len(block[1])]
        elif kind == "p":
            out += [block[1], ""]
        elif kind in ("bullets", "numbered"):
            out += [f"  * {item}" if kind == "bullets" else f"  {i}. {item}" for i, item in enumerate(block[1], 1)]
            out.append("")
        elif kind == "table":
            rows = [list(map(str, block[1]))] + [list(map(str, r)) for r in block[2]]
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows] + [""]
    out += [footer, ""]
    return "\n".join(out)


def save_narrative(path: Path, blocks: Sequence[Block], meta: Meta, footer: str, revision: int = 1) -> None:
    ext = path.suffix.lower()
    if ext == ".docx":
        save_docx(path, blocks, meta, footer, revision)
    elif ext == ".md":
        path.write_text(render_markdown(blocks, footer), encoding="utf-8")
    else:
        path.write_text(render_text(blocks, footer), encoding="utf-8")


def save_csv(path: Path, table: Table) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(table.columns)
        for row in table.rows:
            w.writerow([cell_text(v, table.kinds.get(c, "")) for c, v in zip(table.columns, row)])


def _json_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def save_json(path: Path, table: Table, layout: str) -> None:
    """layout: list (a JSON array), envelope ({"data": [...]}) or jsonl."""
    records = [{c: _json_value(v) for c, v in zip(table.columns, row)} for row in table.rows]
    if layout == "jsonl":
        text = "".join(json.dumps(r, sort_keys=False) + "\n" for r in records)
    elif layout == "envelope":
        text = json.dumps({"data": records, "count": len(records), "next": None}, indent=2) + "\n"
    else:
        text = json.dumps(records, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")


def _sql_type(kind: str, sample: Any) -> str:
    if isinstance(sample, int) and kind in ("key", "fk", "int"):
        return "INTEGER"
    return "REAL" if kind in ("money", "float") else "TEXT"


def save_sqlite(path: Path, tables: Sequence[Table]) -> None:
    """Tables in a fixed order with declared keys; same input, same bytes."""
    if path.exists():
        path.unlink()
    con = sqlite3.connect(str(path))
    try:
        for t in tables:
            cols = [f'"{c}" {_sql_type(t.kinds.get(c, ""), t.rows[0][i] if t.rows else None)}'
                    + (" PRIMARY KEY" if c == t.key else "") for i, c in enumerate(t.columns)]
            cols += [f'FOREIGN KEY ("{fk.column}") REFERENCES "{fk.target_table}" ("{fk.target_column}")'
                     for fk in t.fks]
            con.execute(f'CREATE TABLE "{t.name}" ({", ".join(cols)})')
            marks = ", ".join("?" for _ in t.columns)
            con.executemany(f'INSERT INTO "{t.name}" VALUES ({marks})',
                            [[_json_value(v) for v in row] for row in t.rows])
        con.commit()
    finally:
        con.close()


# --------------------------------------------------------------------------
# Truth collector
# --------------------------------------------------------------------------


class Truth:
    """Files written and edges between them; key containment resolved per project."""

    def __init__(self) -> None:
        self.files: List[str] = []
        self.edges: Dict[frozenset, dict] = {}
        self._holders: Dict[str, List[Tuple[str, str, set]]] = defaultdict(list)
        self._refs: List[Tuple[str, ForeignKey, set]] = []

    def add_file(self, rel: str) -> None:
        self.files.append(rel)

    def edge(self, source: str, target: str, kind: str, note: str, **extra: Any) -> None:
        pair = frozenset((source, target))
        if source == target or pair in self.edges:
            raise ValueError(f"duplicate or self edge {kind}: {source} / {target}")
        a, b = sorted((source, target))
        self.edges[pair] = {"a": a, "b": b, "type": kind, "source": source, "note": note, **extra}

    def hold(self, rel: str, table: Table) -> None:
        if table.key:
            self._holders[table.uid].append((rel, table.key, set(table.col(table.key))))

    def refer(self, rel: str, table: Table) -> None:
        for fk in table.fks:
            self._refs.append((rel, fk, set(table.col(fk.column))))

    def versions(self, rels_old_to_new: Sequence[str], what: str) -> None:
        for j, newer in enumerate(rels_old_to_new):
            for older in rels_old_to_new[:j]:
                self.edge(newer, older, "VERSION_OF",
                          f"{what}: {PurePosixPath(newer).name} is a later version of {PurePosixPath(older).name}")

    def finish_project(self, p: Project) -> None:
        """Resolve this project's foreign keys, then relate its narratives."""
        for src, fk, values in self._refs:
            holders = self._holders.get(fk.target_uid, [])
            found = False
            for tgt, key, keys in holders:
                share = len(values & keys) / len(values) if values else 0.0
                if tgt == src:
                    found = True
                    continue
                if share >= 0.5:
                    found = True
                    self.edge(src, tgt, "REFERENCES",
                              f"{fk.column} -> {key} ({fk.target_table}): {share:.0%} of {len(values)} distinct values found",
                              columns=[fk.column, key])
            if not found:
                raise AssertionError(f"foreign key {fk.column} of {src} resolved to no file")
        self._holders.clear()
        self._refs.clear()
        narr = sorted(p.narratives)
        for i, a in enumerate(narr):
            for b in narr[i + 1:]:
                if frozenset((a, b)) not in self.edges:
                    self.edge(a, b, "RELATED_TO", f"narrative files of project {p.code} ({p.name})")

    def merge(self, files: List[str], edges: List[dict]) -> None:
        """Take over another collector's files and edges (a built project)."""
        self.files.extend(files)
        for e in edges:
            pair = frozenset((e["a"], e["b"]))
            if pair in self.edges:
                raise ValueError(f"duplicate edge {e['a']} / {e['b']}")
            self.edges[pair] = e

    def to_dict(self, seed: int, projects: int, about: str) -> dict:
        edges = sorted(self.edges.values(), key=lambda e: (e["a"], e["b"], e["type"]))
        return {"about": about, "seed": seed, "projects": projects, "files": sorted(self.files), "edges": edges}


class Drive:
    """The output root: creates folders, stamps mtimes, registers files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.truth = Truth()
        self._paths: set = set()

    def put(self, rel: str, write: Callable[[Path], None], when: datetime) -> str:
        if rel in self._paths:
            raise ValueError(f"path written twice: {rel}")
        self._paths.add(rel)
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
        stamp = calendar.timegm(when.timetuple())
        os.utime(path, (stamp, stamp))
        self.truth.add_file(rel)
        return rel


def _name_of(rel: str) -> str:
    return PurePosixPath(rel).name


# --------------------------------------------------------------------------
# Data files
# --------------------------------------------------------------------------


@dataclass
class DataFile:
    rel: str
    tables: List[Table]
    kind: str  # workbook | csv | json | sqlite
    notes: Dict[str, Any] = field(default_factory=dict)  # header row, extra sheets, layout

    def register(self, truth: Truth) -> None:
        for t in self.tables:
            truth.hold(self.rel, t)
            truth.refer(self.rel, t)


def workbook_sheets(p: Project, table: Table, sheet_name: str, layout: Dict[str, Any]) -> List[Sheet]:
    """A data sheet with optional title rows and formula total row, plus an
    optional lookup or notes sheet."""
    rows: List[list] = []
    for i in range(layout["title_rows"]):
        rows.append([(f"{_pretty(table.name)} extract - {p.name}", f"Generated {p.base:%Y-%m-%d} from the {p.domain.system}",
                      "Figures are provisional until month-end close")[i]])
    header_row = len(rows) + 1
    rows.append(list(table.columns))
    rows += [list(r) for r in table.rows]
    if layout["total_row"]:
        last = header_row + len(table.rows)
        rows.append(["Total"] + [f"=SUM({get_column_letter(i + 1)}{header_row + 1}:{get_column_letter(i + 1)}{last})"
                                 if table.kinds[c] in MEASURE_KINDS else None for i, c in enumerate(table.columns)][1:])
    sheets = [Sheet(sheet_name, rows)]
    extra = layout["extra_sheet"]
    if extra == "lookup":
        dim = next((c for c in table.columns if table.kinds[c] == "label"), None)
        if dim:
            labels = sorted(set(table.col(dim)))
            sheets.append(Sheet("Lookup", [[dim, "description", "owner"]] +
                                [[lbl, f"{_pretty(dim)} {lbl}", _person(p.rng)] for lbl in labels]))
    elif extra == "notes":
        sheets.append(Sheet("Notes", [["Notes"], [f"Source: {p.domain.system}"],
                                      [f"Owner: {p.lead} ({p.email(p.lead)})"],
                                      ["Do not edit the data sheet by hand."]]))
    return sheets


def write_workbook(drive: Drive, p: Project, rel: str, table: Table, meta: Meta, layout: Dict[str, Any]) -> DataFile:
    sheet_name = p.rng.choice(("Data", _pretty(table.name)[:31], "Sheet1", "raw"))
    sheets = workbook_sheets(p, table, sheet_name, layout)
    drive.put(rel, lambda path: save_xlsx(path, sheets, meta), meta.modified)
    lookup = next((s.rows[0] for s in sheets if s.name == "Lookup"), None)
    return DataFile(rel, [table], "workbook", {**layout, "sheets": [s.name for s in sheets], "data_sheet": sheet_name,
                                               "lookup_columns": lookup})


def random_layout(rng: random.Random) -> Dict[str, Any]:
    return {"title_rows": rng.choice((0, 0, 1, 2, 3)), "total_row": rng.random() < 0.3,
            "extra_sheet": rng.choice((None, None, "lookup", "notes"))}


def write_csv_file(drive: Drive, p: Project, rel: str, table: Table, day: float) -> DataFile:
    drive.put(rel, lambda path: save_csv(path, table), p.meta(table.name, day).modified)
    return DataFile(rel, [table], "csv")


def write_json_dump(drive: Drive, p: Project, table: Table, day: float) -> DataFile:
    layout = p.rng.choice(("list", "envelope", "jsonl"))
    ext = "jsonl" if layout == "jsonl" else "json"
    words = p.domain.api_name.split() + [p.rng.choice(("dump", "export", "page 1", "sync"))]
    if p.rng.random() < 0.5:
        words.append(f"{p.base:%Y%m%d}")
    rel = p.path("data", p.fname(words, ext, "snake" if p.rng.random() < 0.6 else p.style))
    drive.put(rel, lambda path: save_json(path, table, layout), p.meta(table.name, day).modified)
    return DataFile(rel, [table], "json", {"layout": layout})


def write_mart(drive: Drive, p: Project, tables: List[Table], day: float) -> DataFile:
    name = p.rng.choice((f"{p.domain.key}_mart.sqlite", "mart.sqlite", "warehouse.db", f"{p.domain.key}.db"))
    rel = p.path("data", name)
    drive.put(rel, lambda path: save_sqlite(path, tables), p.meta("mart", day).modified)
    return DataFile(rel, tables, "sqlite")


# Version naming schemes: tokens oldest -> newest.
def version_tokens(rng: random.Random, scheme: str, k: int, start: datetime) -> List[str]:
    if scheme == "v":
        tokens = [f"v{i}" for i in range(1, k + 1)]
        if rng.random() < 0.5:
            tokens[-1] = "final"
        return tokens
    if scheme == "date":
        day, out = start, []
        for _ in range(k):
            out.append(f"{day:%Y-%m}")
            day += timedelta(days=rng.randint(32, 70))
        return out
    if scheme == "rev":
        return [f"rev {c}" for c in "ABC"[:k]]
    return [""] + [f"({i})" for i in range(2, k + 1)]  # "copy": File.xlsx, File (2).xlsx


def family_names(p: Project, words: Sequence[str], ext: str, scheme: str, k: int) -> List[str]:
    tokens = version_tokens(p.rng, scheme, k, p.base - timedelta(days=60))
    if scheme == "copy":  # the "(2)" copies a desktop sync client makes
        base = styled(words, "title")
        return [f"{base}{' ' + t if t else ''}.{ext}" for t in tokens]
    return [p.fname(list(words) + t.split(), ext) for t in tokens]


def write_versioned_workbooks(drive: Drive, p: Project, tables: List[Table], words: Sequence[str], scheme: str,
                              day: float, what: str) -> List[DataFile]:
    """A data family oldest -> newest; older copies sometimes in archive/."""
    names = family_names(p, words, "xlsx", scheme, len(tables))
    layout = random_layout(p.rng)
    files = []
    for i, (table, name) in enumerate(zip(tables, names)):
        older = i < len(tables) - 1
        rel = p.path("archive" if older and p.rng.random() < 0.6 else "data", name)
        meta = p.meta(f"{_pretty(table.name)} ({what})", day + 25 * i)
        files.append(write_workbook(drive, p, rel, table, meta, layout))
    drive.truth.versions([f.rel for f in files], f"{what}, {len(tables)} versions with edited values")
    return files


# --------------------------------------------------------------------------
# Narrative builders
# --------------------------------------------------------------------------


def context_paragraph(p: Project) -> str:
    d = p.domain
    return p.rng.choice((
        f"{p.cite()} is the {d.department} initiative to {d.goal}.",
        f"This work sits under {p.cite()} and supports the {d.department} goal to {d.goal}.",
        f"{p.cite()}: the team's aim this quarter is to {d.goal}.",
    ))


def contact_line(p: Project, person: Optional[str] = None) -> str:
    person = person or p.lead
    return f"Contact: {person} ({p.email(person)}, {_phone(p.rng)})"


def summary_slides(p: Project, table: Table, source_name: str) -> Tuple[List[Slide], str]:
    """A deck of real aggregates of `table`: totals, average, count, totals
    by dimension with shares, top-N, sometimes a monthly series."""
    rng, d = p.rng, p.domain
    measures = [c for c in table.columns if table.kinds[c] in MEASURE_KINDS]
    dims = [c for c in table.columns if table.kinds[c] == "label"]
    main = measures[0]
    second = measures[1] if len(measures) > 1 else main
    style = rng.choice(NUMBER_STYLES)
    kind = table.kinds[main]
    n = len(table.rows)
    tot = total(table, main)
    figures = [f"Total {_pretty(main).lower()}: {fmt_amount(tot, style, kind)}",
               f"Average {_pretty(main).lower()} per {d.row_noun}: {tot / n:,.2f}",
               f"{d.row_noun.capitalize()}s in scope: {n:,}"]
    if second != main:
        figures.append(f"Total {_pretty(second).lower()}: {fmt_amount(total(table, second), style, table.kinds[second])}")
    content = [Slide("Key figures", figures)]
    used = ["total", "average", "count"]
    options: List[Tuple[str, str, str]] = [("breakdown", dim, rng.choice(measures)) for dim in dims]
    fk = next((c for c in table.columns if table.kinds[c] == "fk"), None)
    top_by = fk if fk and rng.random() < 0.5 else max(dims, key=lambda c: len(set(table.col(c))))
    options.append(("top", top_by, second))
    options.append(("monthly", table.columns[1], main))
    for what, by, m in rng.sample(options, rng.randint(1, min(4, len(options)))):
        mkind = table.kinds[m]
        if what == "monthly":
            months = defaultdict(list)
            for day, v in zip(table.col(by), table.col(m)):
                months[day.strftime("%Y-%m")].append(v)
            series = [f"{k}: {fmt_amount(sum(v) if mkind == 'int' else round(math.fsum(v), 2), style, mkind)}"
                      for k, v in sorted(months.items())][-8:]
            content.append(Slide(f"{_pretty(m)} by month", series))
            used.append(f"{m} by month")
            continue
        sums = sorted(group_sum(table, by, m).items(), key=lambda kv: (-kv[1], str(kv[0])))
        if what == "top":
            top = sums[:5]
            content.append(Slide(f"Top {len(top)} {_pretty(by).lower()} by {_pretty(m).lower()}",
                                 [f"{i}. {k} - {fmt_amount(v, style, mkind)}" for i, (k, v) in enumerate(top, 1)]))
            used.append(f"top {len(top)} {by} by {m}")
            continue
        whole = total(table, m)
        if rng.random() < 0.5:
            body = [[str(k), fmt_amount(v, style, mkind), fmt_share(v, whole)] for k, v in sums]
            content.append(Slide(f"{_pretty(m)} by {_pretty(by).lower()}",
                                 table=([_pretty(by), f"Total {_pretty(m).lower()}", "Share"], body)))
        else:
            content.append(Slide(f"{_pretty(m)} by {_pretty(by).lower()}",
                                 [f"{k}: {fmt_amount(v, style, mkind)} ({fmt_share(v, whole)})" for k, v in sums]))
        used.append(f"{m} by {by}")
    period = f"{min(table.col(table.columns[1])):%b %Y} - {max(table.col(table.columns[1])):%b %Y}"
    slides = [Slide(f"{p.name}: {rng.choice(('review', 'update', 'performance summary', 'readout'))}",
                    subtitle=f"{p.code} | {period} | {p.lead}"),
              Slide("Agenda", DECK_AGENDA), *content,
              Slide("Next steps", rng.sample(NEXT_STEPS, 3)), Slide("Questions?", [f"{p.cite()}", contact_line(p)])]
    if rng.random() < 0.5:
        slides[2].notes = rng.choice((f"Figures computed from {source_name}.",
                                      "Numbers are from the latest extract; talk through the drivers.",
                                      f"Remind the room that {p.code} figures are provisional."))
    return slides, f"aggregates of {source_name}: " + ", ".join(used)


def write_summary_deck(drive: Drive, p: Project, source: DataFile, day: float) -> str:
    slides, note = summary_slides(p, source.tables[0], _name_of(source.rel))
    words = p.rng.choice(([p.domain.topics[0], "review"], ["summary"], [p.plan.code.split("/")[0].split("-")[0],
                                                                        "readout"], ["leadership", "update"]))
    if p.rng.random() < 0.3:
        words = words + [f"{p.base:%Y-%m}"]
    rel = p.path("decks", p.fname(words, "pptx"))
    meta = p.meta(f"{p.name} review", day)
    drive.put(rel, lambda path: save_pptx(path, slides, meta, p.footer()), meta.modified)
    drive.truth.edge(rel, source.rel, "SUMMARIZES", f"deck shows {note}")
    p.narratives.append(rel)
    return rel


def write_summary_report(drive: Drive, p: Project, source: DataFile, day: float) -> str:
    """A short doc with headline aggregates of a data file's rows."""
    table = source.tables[0]
    label = next(c for c in table.columns if table.kinds[c] == "label")
    measure = next(c for c in table.columns if table.kinds[c] in MEASURE_KINDS)
    kind = table.kinds[measure]
    style = p.rng.choice(NUMBER_STYLES)
    counts: Dict[Any, int] = defaultdict(int)
    for v in table.col(label):
        counts[v] += 1
    sums = group_sum(table, label, measure)
    tot = total(table, measure)
    noun = p.domain.events.noun if table.name == p.domain.events.table else p.domain.row_noun
    blocks: List[Block] = [
        ("title", f"{p.name} - {noun} summary"),
        ("p", context_paragraph(p)),
        ("h", "Headline figures"),
        ("bullets", [f"{noun.capitalize()}s recorded: {len(table.rows):,}",
                     f"Total {_pretty(measure).lower()}: {fmt_amount(tot, style, kind)}",
                     f"Average {_pretty(measure).lower()}: {tot / len(table.rows):,.2f}"]),
        ("h", f"By {_pretty(label).lower()}"),
        ("table", [_pretty(label), "Count", f"Total {_pretty(measure).lower()}"],
         [[str(k), str(counts[k]), fmt_amount(v, style, kind)] for k, v in sorted(sums.items(), key=lambda kv: -kv[1])]),
        ("h", "Commentary"),
        ("p", p.rng.choice(("Volumes are in line with the previous period.",
                            "The mix shifted noticeably; see the breakdown above.",
                            "Two categories drive most of the total; we will look at them first."))),
        ("p", about_paragraph(p.company)),
    ]
    ext = p.rng.choice(("docx", "docx", "md"))
    rel = p.path("", p.fname([noun, "summary", f"{p.base:%Y-%m}"], ext))
    meta = p.meta(f"{p.name} {noun} summary", day)
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    drive.truth.edge(rel, source.rel, "SUMMARIZES",
                     f"report shows count, total and average of {measure} and totals by {label} of {_name_of(source.rel)}")
    p.narratives.append(rel)
    return rel


def write_supporting_file(drive: Drive, p: Project, source: DataFile, day: float) -> str:
    """A doc or deck quoting a few records verbatim (ids, labels, values and
    column names) with no aggregates: the data SUPPORTS it."""
    rng = p.rng
    table = source.tables[0]
    others = [c for c in table.columns if c != table.key and table.kinds[c] not in ("ssn",)]
    cols = [table.key] + [c for c in table.columns if c in rng.sample(others, min(len(others), rng.randint(2, 4)))]
    picked = sorted(rng.sample(range(len(table.rows)), min(len(table.rows), rng.randint(3, 6))))
    idx = [table.columns.index(c) for c in cols]
    body = [[cell_text(table.rows[r][i], table.kinds[table.columns[i]]) for i in idx] for r in picked]
    noun = {p.domain.entity.table: p.domain.entity.noun, p.domain.events.table: p.domain.events.noun}.get(
        table.name, p.domain.row_noun)
    purpose = rng.choice(("flagged for follow-up", "selected for the case review", "to be checked with the owners",
                          "quoted in the escalation"))
    ids = [row[0] for row in body]
    prose = [f"{row[0]}: " + ", ".join(f"{c} = {v}" for c, v in zip(cols[1:], row[1:])) for row in body]
    source_line = f"Records taken from {_name_of(source.rel)}." if rng.random() < 0.5 else "Records taken from the latest export."
    if rng.random() < 0.35:
        ext = "pptx"
        slides = [Slide(f"{p.name}: {noun} review", subtitle=f"{p.code} | {p.lead}"),
                  Slide(f"{noun.capitalize()}s {purpose}", table=(cols, body), notes=source_line),
                  Slide("Details", prose[:5]), Slide("Questions?", [p.cite(), contact_line(p)])]
    else:
        ext = rng.choice(("docx", "docx", "md"))
        blocks: List[Block] = [("title", f"{_pretty(noun)}s {purpose}"), ("p", context_paragraph(p)),
                               ("p", f"The {noun}s below were {purpose}. {source_line}"),
                               ("table", cols, body), ("h", "Notes per record"), ("bullets", prose),
                               ("p", contact_line(p)), ("p", about_paragraph(p.company))]
    rel = p.path("decks" if ext == "pptx" else "", p.fname([noun, rng.choice(("follow up", "review", "cases", "list"))], ext))
    meta = p.meta(f"{noun} {purpose}", day)
    if ext == "pptx":
        drive.put(rel, lambda path: save_pptx(path, slides, meta, p.footer()), meta.modified)
    else:
        drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    drive.truth.edge(source.rel, rel, "SUPPORTS",
                     f"quotes {len(ids)} records of {_name_of(source.rel)} ({', '.join(map(str, ids[:3]))}...) "
                     f"with columns {', '.join(cols)}")
    p.narratives.append(rel)
    return rel


TYPE_WORDS = {"key": "identifier", "fk": "reference", "date": "date", "label": "category", "money": "amount (USD)",
              "int": "integer", "float": "decimal", "text": "text"}


def dictionary_blocks(target: DataFile) -> List[Block]:
    blocks: List[Block] = []
    for t in target.tables:
        if len(target.tables) > 1 or target.kind == "workbook":
            where = "Table" if target.kind == "sqlite" else "Sheet" if target.kind == "workbook" else "Records"
            label = target.notes.get("data_sheet", t.name) if target.kind == "workbook" else t.name
            blocks.append(("p", f"{where} `{label}`:"))
        rows = [[c, TYPE_WORDS.get(t.kinds.get(c, ""), "text"), t.descs.get(c, "")] for c in t.columns]
        blocks.append(("table", ["Column", "Type", "Description"], rows))
    lookup = target.notes.get("lookup_columns")
    if lookup:  # a workbook's second sheet is part of its structure too
        dim = lookup[0]
        blocks += [("p", "Sheet `Lookup`:"),
                   ("table", ["Column", "Type", "Description"],
                    [[dim, "category", f"Distinct {_pretty(dim).lower()} values used on the data sheet"],
                     [lookup[1], "text", "Plain-language description of the value"],
                     [lookup[2], "text", "Person accountable for the value"]])]
    return blocks


def method_sentences(p: Project, target: DataFile) -> List[str]:
    d = p.domain
    out = [f"Rows are extracted from the {d.system} on a {p.rng.choice(('nightly', 'weekly', 'monthly'))} schedule "
           f"and loaded without manual edits."]
    notes = target.notes
    if target.kind == "workbook":
        out.append(f"The workbook has the sheets {', '.join(notes['sheets'])}; the header is on row "
                   f"{notes['title_rows'] + 1} of {notes['data_sheet']}.")
        if notes["total_row"]:
            out.append("The last row holds SUM formulas over the measure columns.")
    elif target.kind == "json":
        out.append({"list": "The file is one JSON array of records.",
                    "envelope": 'Records are nested under the "data" key of the response.',
                    "jsonl": "The file holds one JSON record per line."}[notes["layout"]])
    elif target.kind == "sqlite":
        out.append("Primary and foreign keys are declared in the schema; the fact table joins to the dimensions.")
    for t in target.tables:
        for fk in t.fks:
            out.append(f"{fk.column} in {t.name} points at {fk.target_column} in {fk.target_table}.")
    out.append("Amounts are in USD and dates are ISO 8601.")
    return out


def write_memo(drive: Drive, p: Project, target: DataFile, day: float) -> str:
    """A data note that DOCUMENTS one file: names it, data dictionary, method, sources."""
    rng = p.rng
    name = _name_of(target.rel)
    blocks: List[Block] = [("title", rng.choice((f"Data note: {name}", f"About the {name} file", f"{name} - documentation"))),
                           ("p", context_paragraph(p)),
                           ("p", f"This note describes {name}: what each column holds and how the file is produced."),
                           ("h", "Data dictionary"), *dictionary_blocks(target),
                           ("h", "Method"), ("bullets", method_sentences(p, target)),
                           ("h", "Sources"),
                           ("p", f"Owner: {p.lead}. Source system: {p.domain.system}. Refreshed before each review."),
                           ("p", contact_line(p))]
    if p.domain.key == "hr" and rng.random() < 0.7:  # realistic PII slip in an HR memo
        blocks.append(("p", f"Note: one record in the raw export carried an unmasked SSN ({_ssn(rng)}); "
                            f"it must be removed before sharing."))
    blocks.append(("p", about_paragraph(p.company)))
    ext = "docx" if rng.random() < 0.7 else "md"
    words = rng.choice((["data", "note", PurePosixPath(name).stem], ["notes"], ["readme", PurePosixPath(name).stem],
                        ["data dictionary"]))
    rel = p.path("", p.fname(words, ext) if words != ["notes"] else f"notes.{ext}")
    meta = p.meta(f"Data note {name}", day)
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    cols = sum(len(t.columns) for t in target.tables)
    drive.truth.edge(rel, target.rel, "DOCUMENTS",
                     f"names {name}; data dictionary of its {cols} columns, method and sources sections")
    p.narratives.append(rel)
    return rel


def evolve_blocks(blocks: List[Block], rng: random.Random) -> List[Block]:
    """Next draft: a couple of paragraphs reworded, one bullet added."""
    out = list(blocks)
    # Only prose is reworded: labelled lines (Project:, Attendees:, Contact:)
    # and the corporate boilerplate stay as they were.
    prose = [i for i, b in enumerate(out) if b[0] == "p" and b[1].endswith(".")
             and not b[1].startswith(("Project", "Attendees", "Contact", "About", "Owner"))]
    for i in rng.sample(prose, min(2, len(prose))):
        out[i] = ("p", f"{out[i][1]} {rng.choice(REVISION_SENTENCES)}")
    if not prose:
        first_heading = next((i for i, b in enumerate(out) if b[0] == "h"), len(out))
        out.insert(first_heading, ("p", rng.choice(REVISION_SENTENCES)))
    lists = [i for i, b in enumerate(out) if b[0] in ("bullets", "numbered")]
    if lists:
        i = rng.choice(lists)
        out[i] = (out[i][0], list(out[i][1]) + [rng.choice(NEXT_STEPS + RISKS)])
    return out


def plan_blocks(p: Project) -> List[Block]:
    rng, d = p.rng, p.domain
    start = p.base.date()
    milestones = [f"M{i} - {rng.choice(('Kick-off', 'Data review', 'Pilot', 'Go/no-go', 'Rollout', 'Retrospective'))} "
                  f"- due {start + timedelta(days=21 * i):%d %b %Y}" for i in range(1, rng.randint(3, 6))]
    return [("title", f"{p.name} - {d.plan_name}"), ("p", context_paragraph(p)),
            ("h", "Objectives"), ("bullets", [d.goal.capitalize(), rng.choice(NEXT_STEPS), rng.choice(NEXT_STEPS)]),
            ("h", "Scope"), ("p", f"In scope: {', '.join(p.labels[p.fact_dims[0].name][:3])}. Out of scope: "
                                  f"changes to the {d.system}."),
            ("h", "Milestones"), ("bullets", milestones),
            ("h", "Risks"), ("bullets", rng.sample(RISKS, 3)),
            ("h", "Owners"), ("p", f"Sponsor: {rng.choice(AUTHORS)}. Lead: {p.lead}. {contact_line(p)}"),
            ("p", about_paragraph(p.company))]


def write_doc_family(drive: Drive, p: Project, first: List[Block], words: Sequence[str], scheme: str, k: int,
                     day: float, what: str, area: str = "") -> List[str]:
    names = family_names(p, words, "docx", scheme, k)
    rels, blocks = [], first
    for i, name in enumerate(names):
        if i:
            blocks = evolve_blocks(blocks, p.rng)
        older = i < k - 1
        rel = p.path("archive" if older and p.rng.random() < 0.4 else area, name)
        meta = p.meta(f"{p.name} {what}", day + 12 * i)
        drive.put(rel, lambda path, b=blocks, m=meta, r=i + 1: save_docx(path, b, m, p.footer(), r), meta.modified)
        rels.append(rel)
        p.narratives.append(rel)
    drive.truth.versions(rels, what)
    return rels


def meeting_blocks(p: Project, when: date) -> List[Block]:
    rng, d = p.rng, p.domain
    people = rng.sample(AUTHORS, rng.randint(3, 5))
    actions = [f"{rng.choice(people)} - {rng.choice(NEXT_STEPS).lower()} - by {when + timedelta(days=rng.randint(3, 14)):%d %b}"
               for _ in range(rng.randint(2, 4))]
    blocks: List[Block] = [("title", f"{_pretty(d.meeting_name)} - {when:%d %b %Y}"),
                           ("p", f"Project: {p.cite()}"), ("p", f"Attendees: {', '.join(people)}"),
                           ("h", "Agenda"), ("numbered", list(MEETING_AGENDA)),
                           ("h", "Discussion"), ("bullets", rng.sample(d.discussion, rng.randint(2, len(d.discussion)))),
                           ("h", "Actions"), ("bullets", actions)]
    if d.key == "finance" and rng.random() < 0.6:  # realistic PII slip in a finance note
        blocks.append(("p", f"Card {_card_number(rng)} was used for the vendor prepayment; request a re-issue."))
    return blocks


def write_meetings(drive: Drive, p: Project, count: int, day: float) -> None:
    """A series of meetings (different content: RELATED_TO), some of which
    exist as draft and final (VERSION_OF)."""
    when = p.base.date() - timedelta(days=40)
    for _ in range(count):
        when += timedelta(days=p.rng.randint(7, 21))
        blocks = meeting_blocks(p, when)
        words = [f"{when:%Y-%m-%d}", p.domain.meeting_name, "notes"]
        if p.rng.random() < 0.5:
            names = [p.fname(words + ["draft"], "docx"), p.fname(words + ["final"], "docx")]
            rels = []
            for i, name in enumerate(names):
                b = blocks if i == 0 else evolve_blocks(blocks, p.rng) + [("h", "Decisions"),
                                                                           ("bullets", [p.rng.choice(NEXT_STEPS)])]
                # Four days apart: the final is always saved after the draft.
                meta = p.meta(f"{p.domain.meeting_name} notes", day + (when - p.base.date()).days + 4 * i)
                rel = p.path("meetings", name)
                drive.put(rel, lambda path, b=b, m=meta, r=i + 1: save_docx(path, b, m, p.footer(), r), meta.modified)
                rels.append(rel)
                p.narratives.append(rel)
            drive.truth.versions(rels, f"draft and final notes of the {when:%d %b %Y} {p.domain.meeting_name}")
        else:
            ext = p.rng.choice(("docx", "md"))
            rel = p.path("meetings", p.fname(words, ext))
            meta = p.meta(f"{p.domain.meeting_name} notes", day + (when - p.base.date()).days)
            drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
            p.narratives.append(rel)


def write_status_report(drive: Drive, p: Project, day: float) -> str:
    rng, d = p.rng, p.domain
    week = p.base.date() + timedelta(days=int(day))
    blocks: List[Block] = [("title", f"Status report - {p.name}"), ("p", f"Project code: {p.code}"),
                           ("p", f"Week ending {week:%d %B %Y}. Overall status: {rng.choice(RAG)}."),
                           ("h", "Progress"), ("bullets", rng.sample(NEXT_STEPS, 3)),
                           ("h", "Risks"), ("bullets", rng.sample(RISKS, 2))]
    if d.ops_log:
        stamp = datetime.combine(week, datetime.min.time())
        lines = [f"{stamp + timedelta(minutes=rng.randint(0, 1440)):%Y-%m-%d %H:%M} "
                 f"{rng.choice(('gateway', 'collector', 'sync-job', 'api-edge'))} {_ip(rng)} "
                 f"{rng.choice(('timeout after 30s', 'reconnected', 'TLS handshake failed', 'queue backlog 1200'))}"
                 for _ in range(rng.randint(2, 4))]
        blocks += [("h", "Ops log excerpt"), ("bullets", sorted(lines))]
    if d.key == "finance":  # realistic PII in a finance note
        blocks.append(("p", f"Corporate card {_card_number(rng)} was blocked after the audit finding."))
        if rng.random() < 0.5:
            blocks.append(("p", f"Vendor refund due to IBAN {_iban(rng)} once the dispute is closed."))
    blocks.append(("p", contact_line(p)))
    ext = rng.choice(("txt", "md"))
    words = rng.choice((["status"], ["status report", f"{week:%Y-%m-%d}"], ["weekly status"]))
    rel = p.path("", p.fname(words, ext))
    meta = p.meta(f"{p.name} status", day)
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    p.narratives.append(rel)
    return rel


# --------------------------------------------------------------------------
# One project
# --------------------------------------------------------------------------


@dataclass
class ProjectData:
    """The data files a project wrote, for its narratives to point at."""

    entity: DataFile
    facts: List[DataFile]  # the fact workbook's versions, oldest first
    events: Optional[DataFile]
    api: Optional[DataFile]

    @property
    def fact(self) -> Optional[DataFile]:
        return self.facts[-1] if self.facts else None


def build_data(drive: Drive, p: Project) -> ProjectData:
    rng, d, truth = p.rng, p.domain, drive.truth
    uid = f"{p.plan.index}:"
    data_style = "snake" if rng.random() < 0.5 else p.style

    # The entity (dimension) table lives in a CSV, a workbook or a SQLite mart.
    entity = make_entity_table(p, uid + "entity")
    store = rng.choice(("csv", "csv", "xlsx", "sqlite"))
    if store == "sqlite":
        dim = make_mart_dim(p, uid + "dim")
        tables = [entity, dim] + ([make_mart_fact(p, uid + "martfact", entity, dim)] if rng.random() < 0.6 else [])
        entity_file = write_mart(drive, p, tables, 0)
    elif store == "xlsx":
        rel = p.path("data", p.fname([d.entity.noun, rng.choice(("master", "list", "register"))], "xlsx", data_style))
        entity_file = write_workbook(drive, p, rel, entity, p.meta(f"{d.entity.noun} master", 0),
                                     {"title_rows": 0, "total_row": False, "extra_sheet": None})
    else:
        rel = p.path("data", p.fname([d.entity.table], "csv", data_style))
        entity_file = write_csv_file(drive, p, rel, entity, 0)
    entity_file.register(truth)

    # The fact workbook, sometimes as a version family. Facts point at the
    # entity when it lives in a mart, and often otherwise.
    facts: List[DataFile] = []
    if rng.random() < 0.9:
        fk_col = rng.choice(d.entity.fk_names) if store == "sqlite" or rng.random() < 0.6 else None
        table, factory = make_fact_table(p, uid + "fact", entity, fk_col)
        generic = rng.random() < 0.2
        words = ["data"] if generic else d.fact_names[rng.randrange(len(d.fact_names))].split()
        if rng.random() < 0.3 and not generic:
            chain = [table]
            for _ in range(rng.randint(1, 2)):
                chain.append(evolve_table(chain[-1], rng, factory.row))
            facts = write_versioned_workbooks(drive, p, chain, words, rng.choice(("date", "v", "copy")), 3,
                                              f"{d.row_noun} data")
        else:
            rel = p.path("data", p.fname(words, "xlsx", data_style))
            facts = [write_workbook(drive, p, rel, table, p.meta(f"{_pretty(table.name)} extract", 3),
                                    random_layout(rng))]
        for f in facts:
            f.register(truth)

    # Secondary facts: an events CSV and an API dump pointing at the entity
    # (or, for a single-version workbook with coded ids, at the workbook).
    events = None
    if rng.random() < 0.7:
        table = make_events_table(p, uid + "events", entity, rng.choice(d.entity.fk_names))
        rel = p.path("data", p.fname(d.events.table.split("_"), "csv", data_style))
        events = write_csv_file(drive, p, rel, table, 5)
        events.register(truth)
    api = None
    if rng.random() < 0.55:
        target = entity
        coded_ids = len(facts) == 1 and not isinstance(facts[0].tables[0].rows[0][0], int)
        if coded_ids and rng.random() < 0.4:
            target = facts[0].tables[0]
        fk_col = target.key if rng.random() < 0.5 else rng.choice(
            d.entity.fk_names if target is entity else (d.row_noun.replace(" ", "_").replace("-", "_") + "_ref",))
        if rng.random() < 0.3:  # camelCase keys, as APIs often have
            head, *tail = fk_col.split("_")
            fk_col = head + "".join(w.capitalize() for w in tail)
        api = write_json_dump(drive, p, make_api_table(p, uid + "api", target, fk_col), 6)
        api.register(truth)

    # A budget/forecast family: data versions nothing else points at.
    if rng.random() < 0.35:
        chain = [make_forecast_table(p, uid + "forecast")]
        for _ in range(rng.randint(1, 2)):
            chain.append(evolve_table(chain[-1], rng, None))
        words = d.forecast_name.split() if rng.random() < 0.6 else [f"Q{rng.randint(1, 4)}", "forecast"]
        write_versioned_workbooks(drive, p, chain, words, rng.choice(("date", "copy", "rev", "v")), 4,
                                  d.forecast_name)
    return ProjectData(entity_file, facts, events, api)


def build_narratives(drive: Drive, p: Project, data: ProjectData) -> None:
    rng, d = p.rng, p.domain
    fact = data.fact
    if fact is not None and rng.random() < 0.85:
        write_summary_deck(drive, p, fact, 20)
    if rng.random() < 0.3 and (data.events or fact):
        write_summary_report(drive, p, data.events or fact, 22)
    # SUPPORTS sources never have versions, so quoted records match one file.
    single_fact = fact if len(data.facts) == 1 else None
    quotable = [f for f in (data.entity, data.events, single_fact) if f and f.kind != "sqlite"]
    if quotable and rng.random() < 0.7:
        write_supporting_file(drive, p, rng.choice(quotable), 24)
    documentable = [f for f in (fact, data.events, data.api, data.entity) if f]
    if rng.random() < 0.75:
        write_memo(drive, p, rng.choice(documentable), 8)
    if rng.random() < 0.5:
        write_doc_family(drive, p, plan_blocks(p), d.plan_name.split(), rng.choice(("v", "date", "copy")),
                         rng.randint(2, 3), 10, d.plan_name)
    write_meetings(drive, p, rng.choice((0, 1, 1, 2, 3)), 0)
    if rng.random() < 0.8 or len(p.narratives) < 2 or d.key == "finance":  # finance always reports
        write_status_report(drive, p, 30)
    if len(p.narratives) < 2:  # RELATED_TO needs two narratives
        write_status_report_extra(drive, p)


def build_project(drive: Drive, p: Project) -> None:
    """All files of one project, then its truth (keys resolved, narratives related)."""
    build_narratives(drive, p, build_data(drive, p))
    drive.truth.finish_project(p)


def write_status_report_extra(drive: Drive, p: Project) -> None:
    """Guarantee two narratives per project with a dated weekly status."""
    when = p.base.date() + timedelta(days=37)
    blocks: List[Block] = [("title", f"Weekly status {when:%Y-%m-%d}"), ("p", f"{p.cite()}"),
                           ("bullets", p.rng.sample(NEXT_STEPS, 2)), ("p", contact_line(p))]
    rel = p.path("", p.fname(["weekly status", f"{when:%Y-%m-%d}"], "md"))
    meta = p.meta("weekly status", 37)
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    p.narratives.append(rel)


# --------------------------------------------------------------------------
# Shared, unrelated files
# --------------------------------------------------------------------------


def write_shared_files(drive: Drive, rng: random.Random, company: str) -> None:
    """Standalone files that reference nothing and mention no project."""
    when = datetime(2024, 2, 1, 10, 0) + timedelta(days=rng.randint(0, 200))
    meta = Meta("Remote work policy", rng.choice(AUTHORS), when, when + timedelta(days=2))
    hr_contact = rng.choice(AUTHORS)
    policy: List[Block] = [("title", "Remote work policy"),
                           ("p", "This policy applies to all employees and contractors."),
                           ("h", "Eligibility"), ("bullets", ["Roles approved by the line manager",
                                                              "Completion of the security training"]),
                           ("h", "Equipment"), ("p", "Laptops are issued by IT; home office allowance is paid monthly."),
                           ("h", "Contact"), ("p", f"People team: {hr_contact} ({_email_for(hr_contact, company_domain(company))}, "
                                                   f"{_phone(rng)})"),
                           ("p", about_paragraph(company))]
    drive.put("shared/HR/Remote work policy.docx",
              lambda path: save_docx(path, policy, meta, boilerplate_footer(company)), meta.modified)

    dishes = ("Lentil soup", "Chicken curry", "Falafel wrap", "Caesar salad", "Mushroom risotto", "Fish tacos",
              "Vegetable lasagne", "Beef chili", "Tofu stir-fry")
    menu = [f"{day}: {', '.join(rng.sample(dishes, 2))}" for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")]
    drive.put(f"shared/Facilities/lunch_menu_week_{rng.randint(10, 40)}.txt",
              lambda path: path.write_text("CANTEEN MENU\n\n" + "\n".join(menu) + "\n", encoding="utf-8"), when)

    inv = Table("shared:inventory", "office_inventory", ["id", "name", "status", "date", "amount"],
                {"id": "key", "name": "text", "status": "label", "date": "date", "amount": "money"}, {},
                [[i, rng.choice(("Monitor", "Desk chair", "Headset", "Dock", "Projector", "Whiteboard")),
                  rng.choice(("in use", "spare", "broken")), date(2023, 1, 1) + timedelta(days=rng.randint(0, 500)),
                  round(rng.uniform(20, 900), 2)] for i in range(1, 41)])
    drive.put("shared/Facilities/office_inventory.csv", lambda path: save_csv(path, inv), when)

    tmpl_meta = Meta("Quarterly review template", rng.choice(AUTHORS), when, when + timedelta(days=1))
    slides = [Slide("Quarterly review", subtitle="Template"), Slide("Agenda", DECK_AGENDA),
              Slide("Key figures", ["Replace with your figures"]), Slide("Questions?", ["Thank you"])]
    drive.put("shared/Templates/Quarterly review template.pptx",
              lambda path: save_pptx(path, slides, tmpl_meta, boilerplate_footer(company)), tmpl_meta.modified)


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------

ABOUT = ("Generated company drive (filegraph.beam_pipeline.sample_corpus, rows_scale={scale}). files: every file "
         "written except this truth.json. edges: one per unordered pair, a < b; 'source' is the source end "
         "(SUMMARIZES deck/doc -> data, SUPPORTS data -> deck/doc, DOCUMENTS memo -> data, REFERENCES fk file -> key "
         "file with 'columns' [fk, key], VERSION_OF newer -> older, RELATED_TO undirected with source = a). Pairs "
         "not listed are unrelated; files under shared/ relate to nothing.")


def _build_one(job: Tuple[str, ProjectPlan, int, float, str]) -> Tuple[List[str], List[dict]]:
    """Build one project into its own Drive; return its files and edges.

    Projects share nothing but the output root, so they can be built in any
    process and merged in plan order with identical results."""
    root, plan, seed, rows_scale, company = job
    drive = Drive(Path(root))
    build_project(drive, make_project(plan, seed, rows_scale, company))
    return drive.truth.files, list(drive.truth.edges.values())


def generate_corpus(out_dir: str, projects: int = 8, seed: int = 0, rows_scale: float = 1.0, *,
                    workers: int = 1) -> dict:
    """Write a seeded company drive into `out_dir`; return (and write to
    out_dir/truth.json) the truth dict. Same arguments, same bytes.

    Cost is linear in `projects` (about 0.2 s per project at rows_scale=0.02
    on one core); `workers` > 1 builds projects in that many processes and
    gives the same output."""
    if projects < 1:
        raise ValueError("projects must be at least 1")
    if rows_scale <= 0:
        raise ValueError("rows_scale must be positive")
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    drive = Drive(root)
    rng = random.Random(f"corpus:{seed}")
    company = rng.choice(COMPANIES)
    write_shared_files(drive, rng, company)
    jobs = ((str(root), plan, seed, rows_scale, company) for plan in plan_projects(projects, seed))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = pool.map(_build_one, jobs, chunksize=8)
            for files, edges in results:
                drive.truth.merge(files, edges)
    else:
        for files, edges in map(_build_one, jobs):
            drive.truth.merge(files, edges)
    truth = drive.truth.to_dict(seed, projects, ABOUT.format(scale=rows_scale))
    (root / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return truth


DRIVE_FOLDER = "drive"


def write_sample_corpus(directory: str, projects: int = 8, seed: int = 0, rows_scale: float = 1.0) -> Tuple[dict, str]:
    """The CLI layout: the drive in DIRECTORY/drive, its truth in DIRECTORY/truth.json.

    Keeping truth.json outside the drive means a run over the drive never
    ingests the answers. The truth's "root" names the drive folder.
    """
    drive = os.path.join(directory, DRIVE_FOLDER)
    truth = generate_corpus(drive, projects=projects, seed=seed, rows_scale=rows_scale)
    os.remove(os.path.join(drive, "truth.json"))
    truth = {**truth, "root": DRIVE_FOLDER}
    with open(os.path.join(directory, "truth.json"), "w", encoding="utf-8") as handle:
        handle.write(json.dumps(truth, indent=1) + "\n")
    return truth, drive
