"""Scoring of root-cause answers: exact match of canonicalised elements, micro-F1.

The rules are those of the public RCA benchmarks (RiskLoc's ``utils/evaluation.py``):
an element is a conjunction ``dim=value&dim=value``; the terms of an element are sorted
and duplicates removed; a parent or a child of the true element counts as a miss.

References:
    Kalander, M. *RiskLoc: Localization of Multi-dimensional Root Causes by Weighted Risk*,
    arXiv:2205.10004 (2022), section 5 (evaluation) and its ``utils/evaluation.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["CaseScore", "canonical_element", "micro_f1", "parse_elements", "score_case"]


def canonical_element(element: str) -> str:
    """``b=2&a=1`` → ``a=1&b=2`` (terms sorted, surrounding blanks removed)."""
    terms = sorted({t.strip() for t in element.split("&") if t.strip()})
    return "&".join(terms)


def parse_elements(label: str) -> frozenset[str]:
    """A ``;``-separated label (``a=a1&b=b2;c=c3``) as a set of canonical elements."""
    return frozenset(canonical_element(e) for e in label.split(";") if e.strip())


@dataclass(frozen=True)
class CaseScore:
    """True positives, false positives and false negatives of one case."""

    tp: int
    fp: int
    fn: int

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 1.0 if denominator == 0 else 2 * self.tp / denominator


def score_case(predicted: Iterable[str], truth: Iterable[str]) -> CaseScore:
    """Score one case: TP = true elements predicted exactly, FP = max(#predicted − TP, 0)."""
    pred = {canonical_element(p) for p in predicted}
    true = {canonical_element(t) for t in truth}
    tp = len(pred & true)
    return CaseScore(tp=tp, fp=max(len(pred) - tp, 0), fn=len(true) - tp)


def micro_f1(scores: Sequence[CaseScore]) -> float:
    """2ΣTP / (2ΣTP + ΣFP + ΣFN) over the cases of one dataset or setting."""
    return CaseScore(
        tp=sum(s.tp for s in scores), fp=sum(s.fp for s in scores), fn=sum(s.fn for s in scores)
    ).f1
