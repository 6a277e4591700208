"""The metric system (指标体系): one catalog, compiled to Ibis, for DuckDB and Spark alike.

Public surface::

    catalog = load_catalog(ws)                       # default retail catalog + ws/metrics/*.yaml
    con = connect(ws)                                # read-only Ibis DuckDB backend
    query_metric(con, catalog, "gmv", grain="week", by=["store__region"],
                 start=date(2026, 10, 1), end=date(2026, 11, 1), compare="yoy")
    scorecard(con, catalog, "2026-W45")              # balanced scorecard with RAG status
    attribute_tree(con, catalog, "gmv", "2026-W45", "2026-W44")   # LMDI driver attribution
    check_north_star(con, catalog)                   # the three north-star criteria
"""

from __future__ import annotations

from luopan.metrics.attribute import TreeAttribution, attribute_tree, tree_for
from luopan.metrics.catalog import Catalog, default_catalog, load_catalog, load_catalog_files
from luopan.metrics.check import NorthStarCheck, check_north_star, connect
from luopan.metrics.compiler import compile_metric
from luopan.metrics.evaluate import evaluate_metrics
from luopan.metrics.grains import festival_windows, parse_period, period_label
from luopan.metrics.query import COMPARISONS, metric_value, query_metric
from luopan.metrics.scorecard import PERSPECTIVES, Scorecard, ScoreRow, rag_status, scorecard
from luopan.metrics.spec import GRAINS, Condition, Metric, SemanticModel, TreeSpec
from luopan.metrics.tree import Contribution, decompose

__all__ = [
    "COMPARISONS",
    "GRAINS",
    "PERSPECTIVES",
    "Catalog",
    "Condition",
    "Contribution",
    "Metric",
    "NorthStarCheck",
    "ScoreRow",
    "Scorecard",
    "SemanticModel",
    "TreeAttribution",
    "TreeSpec",
    "attribute_tree",
    "check_north_star",
    "compile_metric",
    "connect",
    "decompose",
    "default_catalog",
    "evaluate_metrics",
    "festival_windows",
    "load_catalog",
    "load_catalog_files",
    "metric_value",
    "parse_period",
    "period_label",
    "query_metric",
    "rag_status",
    "scorecard",
    "tree_for",
]
