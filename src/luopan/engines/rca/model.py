"""Typed, frozen results of root-cause localisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

__all__ = ["Cause", "Localization", "RcaParams"]

KpiKind = Literal["additive", "ratio"]


@dataclass(frozen=True)
class RcaParams:
    """Search parameters: one setting for every dataset and every new case.

    Attributes:
        risk_threshold: additive KPIs: an element is a cause when its risk (high − low)
            reaches this (RiskLoc's 0.5); ratio KPIs: when its contrast reaches it.
        pep: additive KPIs: stop when the abnormal leaves left hold less than this share of
            the change (RiskLoc's 2%).
        n_remove: the cutoff between normal and abnormal leaves skips this many extreme
            deviations on the quiet side (RiskLoc's 5).
        sibling_share: ratio KPIs: a slice is narrowed to its child (one condition more)
            while the child's siblings moved, in aggregate, by less than this share of the
            child's ratio deviation (0.1; set on the RS benchmark, see benchmarks/RESULTS.md).
        min_share: a ratio cause, or the single-leaf fallback of the additive search, must
            hold at least this share of the change (0.1; set on RS as above).
        noise_alpha: significance level of the noise gates, Bonferroni-corrected: ratio
            KPIs: a slice's ratio deviation under leaf noise ~ N(0, s²/volume) over about
            leaves × dimensions elements; additive KPIs: a one-leaf cause's relative change
            against the leaves' robust spread, over the leaves.
    """

    risk_threshold: float = 0.5
    pep: float = 0.02
    n_remove: int = 5
    sibling_share: float = 0.1
    min_share: float = 0.1
    noise_alpha: float = 0.05


@dataclass(frozen=True)
class Cause:
    """One root-cause element: a conjunction of ``dimension = value`` terms.

    Attributes:
        conditions: the terms, in the order of the input's dimensions.
        real, expected: the element's KPI (sum, or ratio of sums) observed and expected.
        contribution: the element's part of the total KPI change (leaves counted once, in
            the order the causes were found); the contributions and ``Localization.residual``
            add up to the total change.
        share: contribution / total change.
        confidence: in [0, 1]; additive KPIs: the element's weighted risk (share of weighted
            abnormal leaves inside it minus its departure from a uniform ripple); ratio KPIs:
            its contrast (1 − the rest's ratio deviation / the element's). A score, not a
            probability.
        leaves: number of leaves in the element.
    """

    conditions: tuple[tuple[str, str], ...]
    real: float
    expected: float
    contribution: float
    share: float
    confidence: float
    leaves: int

    @property
    def element(self) -> str:
        """The canonical string ``dim=value&dim=value`` (terms sorted)."""
        return "&".join(sorted(f"{d}={v}" for d, v in self.conditions))

    @property
    def layer(self) -> int:
        """The number of dimensions fixed by the element."""
        return len(self.conditions)

    @property
    def relative_change(self) -> float:
        """(real − expected) / expected inside the element; NaN when nothing was expected."""
        return float("nan") if self.expected == 0 else (self.real - self.expected) / self.expected


@dataclass(frozen=True)
class Localization:
    """The answer: the causes, best first, and how much of the change they leave unexplained.

    Attributes:
        kind: "additive" (the KPI is a sum over leaves) or "ratio" (a sum over a sum).
        dimensions: the dimensions searched.
        real, expected: the total KPI observed and expected.
        causes: the root-cause elements in the order found (largest explained part first).
        residual: total change minus the causes' contributions.
        leaves: number of leaves searched.
    """

    kind: KpiKind
    dimensions: tuple[str, ...]
    real: float
    expected: float
    causes: tuple[Cause, ...]
    residual: float
    leaves: int

    @property
    def change(self) -> float:
        """real − expected of the KPI."""
        return self.real - self.expected

    @property
    def relative_change(self) -> float:
        """(real − expected) / expected; NaN when nothing was expected."""
        return float("nan") if self.expected == 0 else self.change / self.expected

    @property
    def elements(self) -> tuple[str, ...]:
        """The causes as canonical ``dim=value&dim=value`` strings."""
        return tuple(c.element for c in self.causes)

    def to_table(self) -> pd.DataFrame:
        """One row per cause: element, layer, real, expected, contribution, share, confidence."""
        return pd.DataFrame(
            [
                {
                    "element": c.element,
                    "layer": c.layer,
                    "real": c.real,
                    "expected": c.expected,
                    "contribution": c.contribution,
                    "share": c.share,
                    "confidence": c.confidence,
                    "leaves": c.leaves,
                }
                for c in self.causes
            ],
            columns=[
                "element",
                "layer",
                "real",
                "expected",
                "contribution",
                "share",
                "confidence",
                "leaves",
            ],
        )

    def summary(self) -> dict[str, object]:
        """A JSON-ready dictionary of the whole result."""
        return {
            "kind": self.kind,
            "dimensions": list(self.dimensions),
            "real": self.real,
            "expected": self.expected,
            "change": self.change,
            "relative_change": self.relative_change,
            "residual": self.residual,
            "leaves": self.leaves,
            "causes": self.to_table().to_dict(orient="records"),
        }
