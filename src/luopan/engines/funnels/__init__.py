"""Funnels, retention cohorts, lifecycle, stickiness, community health and the content matrix.

Each lens is one small module taking Ibis tables in and returning a frozen result out; heavy
aggregation runs in the warehouse (DuckDB or Spark), only small aggregates are materialized.
"""

from __future__ import annotations

from luopan.engines.funnels.community import CommunityResult, community_health
from luopan.engines.funnels.content import ContentResult, content_matrix
from luopan.engines.funnels.funnel import (
    Exclusion,
    FunnelResult,
    dropped_users,
    funnel,
    funnel_paths,
)
from luopan.engines.funnels.lifecycle import (
    LifecycleResult,
    StickinessResult,
    lifecycle,
    stickiness,
)
from luopan.engines.funnels.retention import RetentionResult, retention
from luopan.engines.funnels.sources import with_orders
from luopan.engines.funnels.window import parse_window

__all__ = [
    "CommunityResult",
    "ContentResult",
    "Exclusion",
    "FunnelResult",
    "LifecycleResult",
    "RetentionResult",
    "StickinessResult",
    "community_health",
    "content_matrix",
    "dropped_users",
    "funnel",
    "funnel_paths",
    "lifecycle",
    "parse_window",
    "retention",
    "stickiness",
    "with_orders",
]
