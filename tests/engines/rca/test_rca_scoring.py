"""Scoring rules of ../shared/data/rca/README.md ("How to score", RiskLoc's evaluation.py)."""

from __future__ import annotations

import pytest

from luopan.engines.rca import CaseScore, canonical_element, micro_f1, parse_elements, score_case


def test_elements_are_canonicalised_and_deduplicated() -> None:
    assert canonical_element("b=b2&a=a1") == "a=a1&b=b2"
    # the README's own example of duplicates: b=b20;a=a5;a=a5
    assert parse_elements("b=b20;a=a5;a=a5") == frozenset({"a=a5", "b=b20"})


def test_a_parent_or_child_is_a_miss() -> None:
    truth = parse_elements("bitrate=4000")
    child = score_case(["bitrate=4000&cdn=5&device=adr"], truth)
    assert (child.tp, child.fp, child.fn) == (0, 1, 1)
    parent = score_case(["a=a1"], parse_elements("a=a1&b=b2"))
    assert (parent.tp, parent.fp, parent.fn) == (0, 1, 1)


def test_false_positives_are_predictions_beyond_the_hits() -> None:
    s = score_case(["p2p=1&bitrate=2000", "cdn=3", "cdn=3"], parse_elements("bitrate=2000&p2p=1"))
    assert (s.tp, s.fp, s.fn) == (1, 1, 0)
    assert s.f1 == pytest.approx(2 / 3)
    empty = score_case([], parse_elements("a=a1;b=b1"))
    assert (empty.tp, empty.fp, empty.fn, empty.f1) == (0, 0, 2, 0.0)


def test_micro_f1_sums_counts_before_dividing() -> None:
    scores = [CaseScore(tp=1, fp=0, fn=0), CaseScore(tp=0, fp=2, fn=1), CaseScore(2, 1, 1)]
    # 2·3 / (2·3 + 3 + 2) = 6/11, not the mean of the per-case F1s
    assert micro_f1(scores) == pytest.approx(6 / 11)


def test_public_names_resolve() -> None:
    import luopan.engines.rca as rca

    assert sorted(rca.__all__) == sorted(
        [
            "Cause",
            "CaseScore",
            "Localization",
            "RcaParams",
            "canonical_element",
            "explain",
            "leaves_from_periods",
            "localize",
            "micro_f1",
            "parse_elements",
            "score_case",
        ]
    )
    assert all(getattr(rca, name) is not None for name in rca.__all__)
