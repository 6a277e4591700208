"""Recommendation for outreach: reorder lists (own history) and discover lists (new items).

Pure engines with a scikit-learn-style contract (``fit(transactions, customers)`` returns self,
learned attributes end in ``_``, ``recommend_rows`` gives top-k), honest baselines, and a
leak-free evaluation. ``recommend()`` is the one call other engines (recall lists) use.
"""

from luopan.engines.recommend.base import Recommender, top_k
from luopan.engines.recommend.baselines import OwnHistoryRecommender, PopularityRecommender
from luopan.engines.recommend.collaborative import AlsRecommender, ItemKnnRecommender
from luopan.engines.recommend.discover import DiscoverRecommender
from luopan.engines.recommend.evaluate import (
    EvaluationReport,
    ModelScore,
    evaluate_models,
    time_split,
)
from luopan.engines.recommend.interactions import Columns, Interactions, build_interactions
from luopan.engines.recommend.recommend import recommend
from luopan.engines.recommend.reorder import ReorderRecommender
from luopan.engines.recommend.result import REASONS, Recommendations
from luopan.engines.recommend.rules import BusinessRules, apply_rules

__all__ = [
    "REASONS",
    "AlsRecommender",
    "BusinessRules",
    "Columns",
    "DiscoverRecommender",
    "EvaluationReport",
    "Interactions",
    "ItemKnnRecommender",
    "ModelScore",
    "OwnHistoryRecommender",
    "PopularityRecommender",
    "Recommendations",
    "Recommender",
    "ReorderRecommender",
    "apply_rules",
    "build_interactions",
    "evaluate_models",
    "recommend",
    "time_split",
    "top_k",
]
