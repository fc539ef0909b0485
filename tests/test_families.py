from transforms.detect.families import family_of, keep_best_per_family, resolve
from transforms.detect.scoring import Edge


def edge(source, target, kind, confidence=0.9, **features):
    return Edge(source, target, kind, confidence, ["content_similarity"], {"features": features}, "d")


def test_families_are_connected_components_named_by_their_smallest_member():
    families = family_of([("v3", "v2"), ("v2", "v1"), ("b2", "b1")])
    assert families == {"v1": "v1", "v2": "v1", "v3": "v1", "b1": "b1", "b2": "b1"}


def test_a_report_keeps_only_its_strongest_link_into_a_version_family():
    edges = [
        edge("v2", "v1", "VERSION_OF"),
        edge("v1", "deck", "SUPPORTS", key_value_hits=1.0),
        edge("v2", "deck", "SUPPORTS", key_value_hits=2.0),
        edge("other", "deck", "SUPPORTS", key_value_hits=0.5),  # not in the family: kept
        edge("deck", "v1", "SUMMARIZES", aggregate_coherence=1.5),  # another type, same family
    ]
    kept = {(e.source, e.target, e.relationship_type) for e in resolve(edges)}
    assert kept == {("v2", "v1", "VERSION_OF"), ("v2", "deck", "SUPPORTS"), ("other", "deck", "SUPPORTS"),
                    ("deck", "v1", "SUMMARIZES")}


def test_edges_outside_families_pass_unchanged():
    edges = [edge("memo", "a", "DOCUMENTS", mentions=1.0), edge("memo", "b", "DOCUMENTS")]
    assert keep_best_per_family(edges, {}) == sorted(edges, key=lambda e: (e.source, e.target))
