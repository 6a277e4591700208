"""Rules in YAML: which metric to watch, the condition, for how long, and what to do.

A rules file (``rules/*.yaml`` in a workspace; the article's defaults ship in
``luopan/decisions/default_rules.yaml``) is parsed once into strict models; an error names the
file, the line and the key. Example::

    rules:
      - name: health_recall
        label: {zh: 用户健康度连续3周低于65, en: Health index below 65 for 3 weeks}
        metric: health_index
        grain: week
        condition: {kind: threshold, op: lt, value: 65}
        for: 3
        cooldown: 4
        severity: high
        actions:
          - {kind: open_incident}
          - {kind: playbook, playbook: user_recall}

Condition kinds: ``threshold`` (value op number), ``change`` (relative change against the
previous period, the mean of the same weekday in the last four ordinary weeks (known events and
flagged days skipped, at most eight weeks back), or the expected value of
the anomaly model, op ``abs_gt``/``gt``/``lt``), ``target`` (value against the metric's target
per grain, as a ratio), ``benchmark`` (value op a benchmark number). ``freshness`` rules watch
the sources instead of a metric.

``metric`` names a catalog metric or an engine series (``luopan.decisions.series``: the user
health index, a per-customer score over each customer's own history, which a catalog
aggregation cannot express). A
``playbook`` action names a playbook of ``luopan.decisions.playbooks`` (shipped, or in the
workspace's ``playbooks/``); an unknown name is reported with the rules file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from luopan.config import load_model

__all__ = ["Action", "Condition", "Rule", "RuleSet", "default_rules", "load_rules"]

DEFAULT_RULES = Path(__file__).with_name("default_rules.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Condition(_Strict):
    kind: Literal["threshold", "change", "target", "benchmark", "freshness"]
    op: Literal["lt", "le", "gt", "ge", "abs_gt"] = "lt"
    value: float = Field(default=0.0, description="number; a fraction for change and target")
    baseline: Literal["previous", "same_weekday_4w", "expected"] = Field(
        default="previous", description="reference of a change condition"
    )
    min_z: float = Field(
        default=0.0,
        ge=0,
        description="change conditions: the change must also exceed min_z robust standard "
        "deviations of the past changes (keeps noise of small series from firing)",
    )

    @model_validator(mode="after")
    def _check(self) -> Condition:
        if self.op == "abs_gt" and self.kind != "change":
            raise ValueError("op abs_gt applies to change conditions only")
        return self


class Action(_Strict):
    kind: Literal["open_incident", "diagnose", "notify", "playbook", "task", "pause_campaign"]
    channels: tuple[str, ...] = ()
    playbook: str | None = None
    title: Label | None = None
    owner: str | None = None
    due_hours: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Action:
        if self.kind == "playbook" and not self.playbook:
            raise ValueError("a playbook action names its playbook")
        if self.kind == "task" and not (self.title and self.owner and self.due_hours):
            raise ValueError("a task action needs title, owner and due_hours")
        if self.kind == "notify" and not self.channels:
            raise ValueError("a notify action lists its channels")
        return self


class Rule(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Label
    metric: str | None = None
    grain: Literal["day", "week", "month", "quarter", "year"] = "day"
    by: tuple[str, ...] = Field(default=(), description="dimensions to slice by")
    top_k: int = Field(default=5, ge=1, le=100, description="largest slices watched")
    condition: Condition
    for_: int = Field(default=1, ge=1, alias="for", description="consecutive periods")
    cooldown: int = Field(default=1, ge=1, description="periods before the rule may fire again")
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    actions: tuple[Action, ...] = (Action(kind="open_incident"),)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if self.condition.kind != "freshness" and not self.metric:
            raise ValueError("a metric rule names its metric")
        return self


class RuleSet(_Strict):
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        seen: set[str] = set()
        for r in self.rules:
            if r.name in seen:
                raise ValueError(f"rule name {r.name!r} is used twice")
            seen.add(r.name)
        return self


def load_rules(path: Path) -> RuleSet:
    """Parse one rules file. Raises ConfigError naming file, line and key."""
    return load_model(path, RuleSet, first_key="rules")


def default_rules() -> RuleSet:
    """The article's rules, shipped with the package."""
    return load_rules(DEFAULT_RULES)
