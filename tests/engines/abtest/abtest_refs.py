"""Builders of sufficient statistics from the reference cases' JSON."""

from __future__ import annotations

from typing import Any

from luopan.engines.abtest import CupedStats, MeanStats, ProportionStats, RatioStats


def prop(d: dict[str, Any]) -> ProportionStats:
    return ProportionStats(d["n"], d["conversions"])


def mean(d: dict[str, Any]) -> MeanStats:
    return MeanStats(d["n"], d["sum"], d["sum_squares"])


def ratio(d: dict[str, Any]) -> RatioStats:
    return RatioStats(
        d["n_users"],
        mean(d["numerator_revenue"]),
        mean(d["denominator_orders"]),
        d["sum_revenue_x_orders"],
    )


def cuped(d: dict[str, Any]) -> CupedStats:
    return CupedStats(d["post"]["n"], mean(d["post"]), mean(d["pre"]), d["sum_post_x_pre"])
