"""Domain definitions (data, not code): each domain's tables, columns and words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Tuple


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

# Key columns named after the role a row plays, not after the table they point at.
ROLE_KEYS = {
    "retail": ("billed_to", "ship_to", "referred_by"),
    "hr": ("approved_by", "reports_to", "line_manager"),
    "marketing": ("attributed_to", "follow_up_of", "spun_off_from"),
    "logistics": ("ship_from", "return_to", "fulfilled_by"),
    "support": ("assigned_to", "escalated_to", "reviewed_by"),
    "energy": ("replaced_by", "read_via", "backup_for"),
    "clinical": ("index_case", "paired_with", "transferred_from"),
    "finance": ("paid_to", "remit_to", "billed_by"),
    "manufacturing": ("fed_by", "backup_for", "replaced_by"),
    "saas": ("billed_to", "resold_by", "managed_by"),
}
# Short department codes some folder layouts use instead of department names.
DEPARTMENT_CODES = {"Sales": "SLS", "People": "PPL", "Marketing": "MKTG", "Operations": "OPRS",
                    "Customer Success": "CSX", "Facilities": "FAC", "R&D": "RND", "Finance": "FNC",
                    "Manufacturing": "MFG", "Product": "PRD"}
