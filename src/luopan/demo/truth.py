"""``ground_truth.json``: what the demo world planted, as a typed, documented model.

Every field is described in ``GROUND_TRUTH.md`` next to this module; the JSON schema is
``GroundTruth.model_json_schema()``. Large per-entity truths (customer parameters, the demand
process per SKU x store) live in Parquet files under ``truth/`` and are referenced by path.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuarantinedRow(_M):
    source: str = Field(description="source name in luopan.yaml")
    file: str = Field(description="path relative to the workspace")
    line: int = Field(description="1-based physical line (header = 1) or xlsx sheet row")
    reason_kind: str = Field(
        description="bad_number|bad_date|float_id|duplicate_key|orphan|truncated"
    )
    detail: str
    order_id: str | None = None


class DuplicateRow(_M):
    source: str
    file: str
    line: int = Field(description="the repeated line, an exact copy of duplicate_of_line")
    duplicate_of_line: int


class HostileValue(_M):
    source: str
    file: str
    line: int
    field: str
    value: str
    expected: str = Field(description="how ingest must treat it")


class Ingest(_M):
    expected_rows: dict[str, int] = Field(
        description="canonical table -> exact rows in the warehouse after ingesting every source"
    )
    quarantined: list[QuarantinedRow]
    duplicate_rows: int = Field(description="exact duplicate rows that must be loaded once")
    duplicates: list[DuplicateRow]
    hostile: list[HostileValue]
    platform_customers: dict[str, int] = Field(
        description="distinct buyer identities per platform (customers created at ingest)"
    )


class LateSource(_M):
    source: str
    lag_days: int
    newest_date: date
    others_newest_date: date


class Btyd(_M):
    r: float
    alpha: float
    a: float
    b: float
    p_gg: float = Field(description="Gamma-Gamma shape of per-order spend")
    q: float
    gamma: float
    time_unit: str = "day (operational time of the home channel)"
    customers_file: str = Field(
        description="parquet: customer_id, lam, p_drop, nu, home_channel, platform buyer ids, ..."
    )


class Experiment(_M):
    experiment_id: str
    kind: str = Field(description="null | positive | srm")
    delta: float = Field(description="P(extra converting session) per treated unit")
    true_lift: float = Field(description="absolute lift in pay conversion: delta x (1 - control)")
    start: date
    end: date
    intended_split: float
    n_treatment_true: int
    n_control_true: int
    n_treatment_logged: int
    n_control_logged: int
    control_conversion: float
    treatment_conversion: float


class GroundTruth(_M):
    """Everything the demo world planted, for modules to test against."""

    seed: int
    start: date
    end: date
    customers: int
    stores: int
    skus: int
    ingest: Ingest
    late_source: LateSource
    btyd: Btyd
    elasticity_mean: float
    elasticities_file: str = Field(description="parquet: sku, elasticity, weight, list_price")
    demand_file: str = Field(description="parquet: store_id, sku, base_rate (units/normal day)")
    weekly_profile: dict[str, list[float]] = Field(description="channel -> Mon..Sun multipliers")
    festivals: list[dict[str, Any]] = Field(description="name, start, end, multipliers per channel")
    public_holidays: dict[str, str]
    promotions: int
    price_changes: int
    dau_drop: dict[str, Any]
    dau_by_day: dict[str, int]
    churn_wave: dict[str, Any] = Field(
        description="segment, wave_start/end, share_churned, active_days, alert_periods (weeks "
        "in which the health rule should fire), n_churned, recall_response_rate"
    )
    recall: dict[str, Any]
    experiments: list[Experiment]
    low_roi_campaign: dict[str, Any]
    crisis: dict[str, Any]
    overpromoted_group: dict[str, Any]
    content: dict[str, Any]
    category_affinity: dict[str, Any]
    inventory: dict[str, Any]
    generated: datetime | None = Field(default=None, description="always null: no wall clock")
