"""Root-cause localisation of a KPI change over dimension-value combinations.

``localize(leaves, kind=...)`` returns a frozen ``Localization``; ``explain(result, lang)``
renders it as one paragraph; ``score_case``/``micro_f1`` score answers the way the public
benchmarks do; ``leaves_from_periods`` turns a per-period ratio table into a leaf table.
"""

from luopan.engines.rca.explain import explain
from luopan.engines.rca.leaves import leaves_from_periods
from luopan.engines.rca.model import Cause, Localization, RcaParams
from luopan.engines.rca.scoring import (
    CaseScore,
    canonical_element,
    micro_f1,
    parse_elements,
    score_case,
)
from luopan.engines.rca.search import localize

__all__ = [
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
