"""Configuration of pricing: a promotion plan and the price rules file (strict pydantic).

Both are read with ``luopan.config.load_model`` so a mistake is reported as file:line: key.

Example plan (``plans/双11零食.yaml``)::

    name: 双11 零食节
    campaign_id: CP-SNACK-1111
    start: 2026-11-01
    end: 2026-11-11
    mechanic: feature          # tpr | feature | display | feature_display
    discount: 0.2
    skus: [SX00012, SX00013]
    channels: [tmall, store]
    budget: 3000
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ItemRule", "PriceRulesFile", "PromoPlan"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PromoPlan(_Strict):
    """One promotion plan."""

    name: str
    campaign_id: str | None = None
    start: dt.date
    end: dt.date
    mechanic: Literal["tpr", "feature", "display", "feature_display"] = "tpr"
    discount: float = Field(ge=0.0, lt=0.9)
    skus: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    budget: float = Field(default=0.0, ge=0.0)
    vendor_funding: float = Field(default=0.0, ge=0.0, le=1.0)
    post_days: int = Field(default=7, ge=0, le=60)
    stock_check: bool = True

    @model_validator(mode="after")
    def _check(self) -> PromoPlan:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if not self.skus and not self.categories:
            raise ValueError("give the promoted `skus` or `categories`")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class ItemRule(_Strict):
    """Per-SKU bounds."""

    sku: str
    min_price: float | None = Field(default=None, gt=0)
    max_price: float | None = Field(default=None, gt=0)
    competitor_price: float | None = Field(default=None, gt=0)


class PriceRulesFile(_Strict):
    """``--rules`` file of ``luopan pricing suggest``."""

    max_step: float = Field(default=0.15, gt=0, le=1)
    endings: list[int] | None = Field(default_factory=lambda: [9, 8])
    price_unit: float = Field(default=0.1, gt=0)
    min_margin: float = Field(default=0.0, ge=0, lt=1)
    max_above_competitor: float = Field(default=0.05, ge=0)
    max_below_competitor: float = Field(default=0.20, ge=0, le=1)
    ladder_gap: float = Field(default=0.05, ge=0)
    items: list[ItemRule] = Field(default_factory=list)
    ladders: list[list[str]] = Field(default_factory=list)
