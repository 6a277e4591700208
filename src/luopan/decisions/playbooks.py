"""Playbooks in YAML: the steps a rule's ``playbook:`` action runs, validated with file:line errors.

A playbooks file (``playbooks/*.yaml`` in a workspace; the shipped ones are in
``luopan/decisions/default_playbooks.yaml``) is parsed once into strict models. Example::

    playbooks:
      - name: user_recall
        label: {zh: 用户召回, en: User recall}
        expected_impact: {metric: return_rate, direction: up, window_days: 30}
        steps:
          - {kind: recall_list, holdout_share: 0.2, p_respond: 0.2, contact_cost: 0.5}
          - kind: task
            title: {zh: 按召回名单联系客户, en: Contact the customers on the recall list}
            owner: crm
            due_hours: 48
          - {kind: notify, channels: [ops_wecom]}

Step kinds:

- ``recall_list``: rank the incident's customers (its slice, e.g. one region) by expected
  recovered value with the customer engine (CLV × P(churn) × P(respond) − cost) and set a
  seeded random holdout aside; the list is written to ``actions/recall-<action id>.csv`` and
  the action records it as its holdout, so the outcome is later measured against it;
- ``task``: an action with a title, an owner and a due time;
- ``pause_campaign``: an action to pause the incident's campaign (its ``campaign_id`` slice);
- ``notify``: send the incident to ``channels`` of ``notify.yaml`` (all of them when none
  are listed; nothing when the workspace has no ``notify.yaml``).

``expected_impact`` says which metric the playbook should move, in which direction and over
how many days: outcome verification (``luopan.decisions.outcomes``) measures it afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from luopan.config import _line_of, load_model
from luopan.decisions.rules import Label
from luopan.errors import ConfigError

__all__ = [
    "ExpectedImpact",
    "Playbook",
    "PlaybookSet",
    "Step",
    "check_rule_playbooks",
    "default_playbooks",
    "load_playbooks",
    "workspace_playbooks",
]

DEFAULT_PLAYBOOKS = Path(__file__).with_name("default_playbooks.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedImpact(_Strict):
    metric: str
    direction: Literal["up", "down"] = "up"
    window_days: int = Field(default=30, ge=1, le=365)
    change: float | None = Field(default=None, description="expected change, in metric units")


class Step(_Strict):
    kind: Literal["recall_list", "task", "pause_campaign", "notify"]
    title: Label | None = None
    owner: str | None = None
    due_hours: float | None = Field(default=None, gt=0)
    channels: tuple[str, ...] = ()
    holdout_share: float = Field(default=0.2, ge=0, lt=1)
    p_respond: float = Field(default=0.2, gt=0, le=1)
    contact_cost: float = Field(default=0.0, ge=0)
    horizon_days: int = Field(default=45, ge=7, le=365)
    seed: int = 0

    @model_validator(mode="after")
    def _check(self) -> Step:
        if self.kind == "task" and not (self.title and self.owner and self.due_hours):
            raise ValueError("a task step needs title, owner and due_hours")
        recall_keys = {"holdout_share", "p_respond", "contact_cost", "horizon_days", "seed"}
        if self.kind != "recall_list" and recall_keys & self.model_fields_set:
            raise ValueError(
                f"{sorted(recall_keys & self.model_fields_set)} apply to recall_list steps only"
            )
        if self.kind != "notify" and self.channels:
            raise ValueError("channels apply to notify steps only")
        return self


class Playbook(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Label
    expected_impact: ExpectedImpact | None = None
    steps: tuple[Step, ...] = Field(min_length=1)


class PlaybookSet(_Strict):
    playbooks: tuple[Playbook, ...]

    @model_validator(mode="after")
    def _unique(self) -> PlaybookSet:
        seen: set[str] = set()
        for p in self.playbooks:
            if p.name in seen:
                raise ValueError(f"playbook name {p.name!r} is used twice")
            seen.add(p.name)
        return self

    def get(self, name: str) -> Playbook | None:
        return next((p for p in self.playbooks if p.name == name), None)


def load_playbooks(path: Path) -> PlaybookSet:
    """Parse one playbooks file. Raises ConfigError naming file, line and key."""
    return load_model(path, PlaybookSet, first_key="playbooks")


def default_playbooks() -> PlaybookSet:
    """The playbooks of the shipped rules."""
    return load_playbooks(DEFAULT_PLAYBOOKS)


def workspace_playbooks(root: Path) -> PlaybookSet:
    """The shipped playbooks, overridden or extended by ``playbooks/*.yaml`` under ``root``."""
    merged = {p.name: p for p in default_playbooks().playbooks}
    folder = root / "playbooks"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        merged.update({p.name: p for p in load_playbooks(path).playbooks})
    return PlaybookSet(playbooks=tuple(merged.values()))


def check_rule_playbooks(path: Path, playbooks: PlaybookSet) -> None:
    """Every ``playbook:`` a rules file names must exist.

    Raises:
        ConfigError: ``file:line`` of the first action naming an unknown playbook.
    """
    text = path.read_text(encoding="utf-8-sig")
    node = yaml.compose(text)
    data = yaml.safe_load(text) or {}
    if node is None or not isinstance(data, dict):
        return
    known = sorted(p.name for p in playbooks.playbooks)
    for i, rule in enumerate(data.get("rules") or []):
        for j, action in enumerate((rule or {}).get("actions") or []):
            name = (action or {}).get("playbook")
            if name is not None and playbooks.get(str(name)) is None:
                line = _line_of(node, ("rules", i, "actions", j, "playbook"))
                raise ConfigError(
                    f"{path}:{line}: key `rules.{i}.actions.{j}.playbook`: unknown playbook "
                    f"{name!r}",
                    fix=f"use one of {known} or add it to playbooks/*.yaml",
                )
