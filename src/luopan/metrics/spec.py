"""The catalog format: semantic models, metrics and trees, parsed from YAML into strict models.

The shape follows dbt MetricFlow's latest spec (type_params promoted onto the metric,
``simple`` metrics carrying ``agg``/``expr`` over a semantic model, entities joining models,
``entity__dimension`` references), plus a ``meta`` block for the operating layer: zh/en label,
unit, direction, balanced-scorecard perspective, owner, targets and the north star.

References:
    dbt Labs, "MetricFlow: latest metrics spec" (docs.getdbt.com, 2025).
    Kaplan, R. S. & Norton, D. P. (1992). The Balanced Scorecard — Measures that Drive
    Performance. Harvard Business Review 70(1), 71-79.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "GRAINS",
    "Agg",
    "Condition",
    "ConversionSpec",
    "Dimension",
    "Entity",
    "Grain",
    "Label",
    "Meta",
    "Metric",
    "MetricInput",
    "SemanticModel",
    "TreeSpec",
    "parse_window",
]

Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
Agg = Literal["sum", "count", "count_distinct", "average", "min", "max", "sum_boolean"]
Op = Literal["eq", "ne", "in", "not_in", "gt", "ge", "lt", "le", "is_null", "not_null", "between"]
Perspective = Literal["financial", "customer", "internal_process", "learning_growth"]
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_WINDOW = re.compile(r"^\s*(\d+)\s*(day|week|month|quarter|year)s?\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_window(text: str) -> tuple[int, str]:
    """``"7 days"`` → ``(7, "day")``; raises ValueError on anything else."""
    m = _WINDOW.match(text)
    if m is None:
        raise ValueError(f"window {text!r} must look like '7 days', '1 month' or '1 year'")
    return int(m.group(1)), m.group(2)


class Label(_Strict):
    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Entity(_Strict):
    """A key that joins semantic models: ``primary`` on its own model, ``foreign`` elsewhere.

    ``key`` names a BIGINT column stored one-to-one with ``expr`` (luopan's ingest writes
    ``_order_key`` and ``_customer_key``: ``luopan.tables.join_key_sql``). Two models join on
    it when both entities declare one and both tables hold it, and a row number partitioned
    by ``expr`` groups on it: the same rows as the text, hashed as one integer.
    """

    name: str
    type: Literal["primary", "foreign", "unique", "natural"]
    expr: str
    key: str | None = None


class Dimension(_Strict):
    name: str
    type: Literal["categorical", "time"] = "categorical"
    expr: str | None = None
    label: Label | None = None

    @property
    def column(self) -> str:
        return self.expr or self.name


class RowNumber(_Strict):
    """1-based position of a row within its partition (rows failing ``filter`` apart)."""

    partition_by: tuple[str, ...]
    order_by: tuple[str, ...]
    filter: tuple[Condition, ...] = ()


class Computed(_Strict):
    """A column computed on the whole table before any time filter (e.g. order sequence)."""

    name: str
    row_number: RowNumber
    label: Label | None = None


class SemanticModel(_Strict):
    """A warehouse table with its entities, dimensions and default time dimension."""

    name: str
    table: str
    label: Label | None = None
    agg_time_dimension: str | None = None
    entities: tuple[Entity, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    computed: tuple[Computed, ...] = ()

    def primary(self) -> Entity | None:
        return next((e for e in self.entities if e.type in ("primary", "unique")), None)


class Condition(_Strict):
    """One node of the structured filter grammar.

    A leaf ``{field, op, value}`` or a combinator ``{all: [...]}``, ``{any: [...]}``,
    ``{not: {...}}``. ``field`` is a column, a dimension or ``entity__column``; values are
    literals only, never SQL.
    """

    field: str | None = None
    op: Op | None = None
    value: Any = None
    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [
            self.field is not None,
            self.all is not None,
            self.any is not None,
            self.not_ is not None,
        ]
        if sum(forms) != 1:
            raise ValueError("a condition is one of {field, op, value}, {all}, {any} or {not}")
        if self.field is not None:
            if self.op is None:
                raise ValueError(f"condition on {self.field!r} needs an op")
            needs_list = self.op in ("in", "not_in", "between")
            if self.op in ("is_null", "not_null"):
                if self.value is not None:
                    raise ValueError(f"op {self.op} takes no value")
            elif needs_list != isinstance(self.value, list):
                raise ValueError(
                    f"op {self.op} takes {'a list' if needs_list else 'one literal'} as value"
                )
            elif self.op == "between" and len(self.value) != 2:
                raise ValueError("op between takes [low, high]")
            literals = self.value if isinstance(self.value, list) else [self.value]
            if not all(v is None or isinstance(v, str | int | float | bool) for v in literals):
                raise ValueError("filter values are strings, numbers or booleans")
        return self


class MetricInput(_Strict):
    """An input of a derived metric, optionally shifted in time (period-over-period)."""

    name: str
    alias: str | None = None
    offset_window: str | None = None
    filter: tuple[Condition, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> MetricInput:
        if self.offset_window is not None:
            parse_window(self.offset_window)
        return self

    @property
    def ref(self) -> str:
        return self.alias or self.name


class ConversionSpec(_Strict):
    """Funnel-style metric: share of entities doing the base event that convert in a window."""

    entity: str
    base_metric: str
    conversion_metric: str
    window: str = "1 day"
    calculation: Literal["conversion_rate", "conversions"] = "conversion_rate"


class Meta(_Strict):
    """The operating layer of a metric: labels, unit, direction, perspective, targets."""

    label: Label
    description: Label | None = None
    unit: str = ""
    format: Literal["number", "integer", "money", "percent", "ratio"] = "number"
    direction: Literal["higher", "lower"] = "higher"
    perspective: Perspective
    owner: str | None = None
    north_star: bool = False
    strategic_goal: Label | None = None
    targets: dict[Grain, float] = {}
    amber_within: float = Field(default=0.10, ge=0, le=1)
    scorecard: bool = True


class Metric(_Strict):
    """One metric; type-specific keys are promoted onto it as in MetricFlow's latest spec."""

    name: str
    type: Literal["simple", "ratio", "derived", "cumulative", "conversion"]
    meta: Meta
    model: str | None = None
    agg: Agg | None = None
    expr: str | None = None
    filter: tuple[Condition, ...] = ()
    agg_time_dimension: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    input_metrics: tuple[MetricInput, ...] = ()
    input_metric: str | None = None
    window: str | None = None
    grain_to_date: Grain | None = None
    conversion: ConversionSpec | None = None
    grains: tuple[Grain, ...] = GRAINS  # type: ignore[assignment]

    @model_validator(mode="after")
    def _check(self) -> Metric:
        if not _NAME.match(self.name):
            raise ValueError("metric name must be lowercase letters, digits and _")
        need: dict[str, tuple[str, ...]] = {
            "simple": ("model", "agg"),
            "ratio": ("numerator", "denominator"),
            "derived": ("expr", "input_metrics"),
            "cumulative": ("input_metric",),
            "conversion": ("conversion",),
        }
        missing = [k for k in need[self.type] if not getattr(self, k)]
        if missing:
            raise ValueError(f"a {self.type} metric needs {', '.join(missing)}")
        if self.type == "simple" and self.agg != "count" and not self.expr:
            raise ValueError(f"agg {self.agg} needs expr (the column or expression)")
        if self.type == "cumulative":
            if self.window is not None and self.grain_to_date is not None:
                raise ValueError("a cumulative metric takes window or grain_to_date, not both")
            if self.window is not None:
                parse_window(self.window)
        return self


class TreeSpec(_Strict):
    """A declared decomposition of a metric.

    ``multiplicative``: root = Π drivers (e.g. GMV = buyers × orders per buyer × AOV).
    ``additive``: root = Σ drivers, or Σ over the members of dimension ``by``.
    """

    name: str
    root: str
    kind: Literal["multiplicative", "additive"]
    drivers: tuple[str, ...] = ()
    by: str | None = None
    label: Label | None = None

    @model_validator(mode="after")
    def _check(self) -> TreeSpec:
        if self.kind == "multiplicative" and (len(self.drivers) < 2 or self.by is not None):
            raise ValueError("a multiplicative tree needs two or more drivers and no by")
        if self.kind == "additive" and (bool(self.drivers) == (self.by is not None)):
            raise ValueError("an additive tree needs either drivers or by")
        return self


RowNumber.model_rebuild()
Computed.model_rebuild()
SemanticModel.model_rebuild()
