"""Typing, direction and evidence of pairs built from small in-memory files."""

import random

from tests.records import data_record, text_record
from transforms.config import Config
from transforms.detect import strategies
from transforms.detect.corpus import PairContext
from transforms.detect.relationships import active_strategies, candidate_pairs, detect
from transforms.detect.scoring import ConfidenceModel, classify, score_pair

CONFIG = Config()
MODEL = ConfidenceModel.load()


def _results(a, b):
    return strategies.run_strategies(a, b, active_strategies(CONFIG))


def _sales(rows=120, seed=1):
    rng = random.Random(seed)
    regions = ["North", "South", "East", "West"]
    data = [[i + 1, f"2024-01-{(i % 28) + 1:02d}", regions[i % 4], round(rng.uniform(100, 5000), 2),
             rng.randint(1, 40)] for i in range(rows)]
    return ["order_id", "order_date", "region", "revenue", "units"], data


def test_deck_showing_group_totals_summarizes_the_workbook():
    header, rows = _sales()
    workbook = data_record("/d/sales.xlsx", {"Orders": (header, rows)})
    totals = {}
    for row in rows:
        totals[row[2]] = totals.get(row[2], 0) + row[3]
    text = "Revenue by region\n" + "\n".join(f"- {k}: {v:,.2f}" for k, v in sorted(totals.items()))
    text += f"\nTotal revenue: ${sum(totals.values()) / 1e6:.3f}M"
    deck = text_record("/d/review.pptx", text)
    typing = classify(deck, workbook, _results(deck, workbook))
    assert typing.relationship_type == "SUMMARIZES"
    assert typing.source is deck and typing.target is workbook


def test_foreign_key_inclusion_is_references_from_the_referencing_file():
    customers = data_record("/d/customers.csv", {"": (["customer_id", "name"],
                                                       [[f"C-{1000 + i}", f"n{i}"] for i in range(200)])})
    orders = data_record("/d/orders.csv", {"": (["order_id", "customer_id", "amount"],
                                                [[i, f"C-{1000 + (i * 7) % 150}", i * 3.5] for i in range(400)])})
    edge = score_pair(customers, orders, _results(customers, orders), MODEL)
    assert edge.relationship_type == "REFERENCES"
    assert edge.source == orders.file_id and edge.target == customers.file_id
    assert edge.evidence_details["inclusion"]["source_column"] == "customer_id"


def test_small_integer_ids_alone_do_not_make_a_reference():
    a = data_record("/d/stock.csv", {"": (["row", "item", "qty"], [[i + 1, f"item{i}", i % 7] for i in range(50)])})
    b = data_record("/d/staff.csv", {"": (["row", "person"], [[i + 1, f"p{i}"] for i in range(60)])})
    typing = classify(a, b, _results(a, b))
    assert typing is None or typing.relationship_type != "REFERENCES"


def test_successive_plans_are_versions_newer_to_older():
    body = " ".join(f"Section {i}: the rollout plan covers warehouse {i} and staffing." for i in range(40))
    old = text_record("/d/plan_v1.docx", body)
    new = text_record("/d/plan_v2.docx", body + " Added: a risk register.")
    typing = classify(old, new, _results(old, new))
    assert typing.relationship_type == "VERSION_OF"
    assert typing.source is new and typing.target is old


def test_memo_naming_the_file_and_its_columns_documents_it():
    header, rows = _sales()
    workbook = data_record("/d/sales.xlsx", {"Orders": (header, rows)})
    memo = text_record("/d/memo.docx", "Data dictionary for sales.xlsx. order_id: the order. order_date: when. "
                                      "region: sales region. revenue: net revenue. units: items sold.",
                       headings=["Data dictionary", "Method"])
    typing = classify(memo, workbook, _results(memo, workbook))
    assert typing.relationship_type == "DOCUMENTS"
    assert typing.source is memo


def _in_corpus(a, b, *others):
    """Strategy results for (a, b) scored as one pair of a run holding a, b and others."""
    records = [a, b, *others]
    pairs, _, stats = candidate_pairs(records, CONFIG)
    pair = (a.file_id, b.file_id) if a.file_id < b.file_id else (b.file_id, a.file_id)
    context = PairContext(shared=pairs.get(pair, {}), stats=stats)
    return strategies.run_strategies(a, b, active_strategies(CONFIG), context)


_FILLER = [text_record(f"/other/note{i}.txt", f"Canteen note {i}: the menu changes on Monday.") for i in range(12)]


def test_memos_sharing_only_one_public_code_are_not_related():
    a = text_record("/hr/leave.md", "Leave policy update: staff who test positive for COVID-19 may work from home.")
    b = text_record("/plant/safety.docx", "Boiler inspection: the COVID-19 rules no longer apply to contractors.")
    typing = classify(a, b, _in_corpus(a, b, *_FILLER))
    assert typing is None


def test_project_files_sharing_a_rare_code_and_their_project_terms_are_related():
    a = text_record("/p/status.md", "Atlas rollout status for project PRJ-4821: warehouse scanners on track.")
    b = text_record("/p/kickoff.docx", "Atlas rollout kick-off, PRJ-4821: scanners, budget and timeline.")
    typing = classify(a, b, _in_corpus(a, b, *_FILLER))
    assert typing.relationship_type == "RELATED_TO"


def test_unrelated_files_get_no_edge():
    a = text_record("/d/menu.txt", "Lunch menu: soup, salad and a sandwich of the day.")
    header, rows = _sales()
    b = data_record("/d/sales.xlsx", {"Orders": (header, rows)})
    assert score_pair(a, b, _results(a, b), MODEL) is None


def test_detect_returns_one_edge_per_pair_sorted():
    body = " ".join(f"Paragraph {i} about the annual warehouse audit." for i in range(30))
    records = [text_record("/d/audit_v1.docx", body), text_record("/d/audit_v2.docx", body + " Revised."),
               text_record("/d/menu.txt", "Lunch menu: soup.")]
    edges = detect(records, CONFIG)
    assert len(edges) == 1 and edges[0].relationship_type == "VERSION_OF"
    assert 0.6 <= edges[0].confidence <= 1.0
