from transforms.detect.evaluation import evaluate

ROOT = "/corpus"


def edge(src, dst, kind, confidence=0.9):
    return {"source_path": f"{ROOT}/{src}", "target_path": f"{ROOT}/{dst}", "relationship_type": kind,
            "confidence": confidence}


TRUTH = {"edges": [
    {"a": "deck.pptx", "b": "data.xlsx", "type": "SUMMARIZES", "source": "deck.pptx"},
    {"a": "orders.csv", "b": "customers.csv", "type": "REFERENCES", "source": "orders.csv"},
    {"a": "plan_v2.docx", "b": "plan_v1.docx", "type": "VERSION_OF", "source": "plan_v2.docx"},
    {"a": "a.md", "b": "b.md", "type": "RELATED_TO", "source": "a.md"},
]}


def test_perfect_run_scores_one():
    edges = [edge("deck.pptx", "data.xlsx", "SUMMARIZES"), edge("orders.csv", "customers.csv", "REFERENCES"),
             edge("plan_v2.docx", "plan_v1.docx", "VERSION_OF"), edge("b.md", "a.md", "RELATED_TO")]
    report = evaluate(TRUTH, edges, ROOT)
    assert (report["precision"], report["recall"], report["f1"]) == (1.0, 1.0, 1.0)
    assert report["type_accuracy"] == 1.0 and report["direction_accuracy"] == 1.0


def test_pairs_are_undirected_but_direction_is_scored():
    edges = [edge("customers.csv", "orders.csv", "REFERENCES")]
    report = evaluate(TRUTH, edges, ROOT)
    assert report["precision"] == 1.0 and report["recall"] == 0.25
    assert report["type_accuracy"] == 1.0 and report["direction_accuracy"] == 0.0


def test_wrong_type_and_false_positive_are_counted():
    edges = [edge("deck.pptx", "data.xlsx", "SUPPORTS"), edge("x.csv", "y.csv", "REFERENCES")]
    report = evaluate(TRUTH, edges, ROOT)
    assert report["precision"] == 0.5
    assert report["type_accuracy"] == 0.0
    assert report["per_type"]["SUMMARIZES"]["recall"] == 0.0
    assert report["false_positives"] == [{"a": "x.csv", "b": "y.csv", "type": "REFERENCES"}]
    assert report["confusion"] == {"SUMMARIZES": {"SUPPORTS": 1}}


def test_edges_outside_the_corpus_root_are_reported_not_matched():
    report = evaluate(TRUTH, [{"source_path": "/elsewhere/a", "target_path": f"{ROOT}/b.md",
                               "relationship_type": "RELATED_TO", "confidence": 1.0}], ROOT)
    assert report["edges_outside_root"] == 1 and report["found_pairs"] == 0


def test_precision_and_recall_at_confidence_levels_and_reliability_per_type():
    edges = [edge("deck.pptx", "data.xlsx", "SUMMARIZES", 0.95), edge("orders.csv", "customers.csv", "REFERENCES", 0.55),
             edge("x.csv", "y.csv", "REFERENCES", 0.65), edge("plan_v2.docx", "plan_v1.docx", "VERSION_OF", 0.92)]
    report = evaluate(TRUTH, edges, ROOT)
    assert report["at_confidence"]["0.5"] == {"edges": 4, "precision": 0.75, "recall": 0.75, "f1": 0.75}
    assert report["at_confidence"]["0.9"] == {"edges": 2, "precision": 1.0, "recall": 0.5, "f1": 0.6667}
    references = report["reliability"]["REFERENCES"]
    # One right edge at 0.55 and one wrong at 0.65: each bin's gap counts by its share of edges.
    assert references["bins"] == [{"bin": "0.5-0.6", "edges": 1, "mean_confidence": 0.55, "precision": 1.0},
                                  {"bin": "0.6-0.7", "edges": 1, "mean_confidence": 0.65, "precision": 0.0}]
    assert references["ece"] == round((0.45 + 0.65) / 2, 4)
