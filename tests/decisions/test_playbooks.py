"""Playbooks: the shipped ones, file:line errors, and rules naming unknown playbooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from luopan.decisions.playbooks import (
    check_rule_playbooks,
    default_playbooks,
    load_playbooks,
    workspace_playbooks,
)
from luopan.decisions.rules import DEFAULT_RULES, default_rules
from luopan.errors import ConfigError


def test_the_shipped_playbooks_and_rules_agree() -> None:
    books = default_playbooks()
    recall = books.get("user_recall")
    pause = books.get("pause_and_optimise")
    assert recall is not None and pause is not None
    assert (recall.label.zh, recall.label.en) == ("用户召回", "User recall")
    assert [s.kind for s in recall.steps] == ["recall_list", "task", "task", "notify"]
    assert recall.steps[0].holdout_share == 0.2
    assert recall.expected_impact is not None
    assert (recall.expected_impact.metric, recall.expected_impact.window_days) == (
        "return_rate",
        30,
    )
    assert [s.kind for s in pause.steps] == ["pause_campaign", "task", "notify"]
    assert all(s.title.zh != s.title.en for b in books.playbooks for s in b.steps if s.title)
    named = {a.playbook for r in default_rules().rules for a in r.actions if a.playbook}
    assert named == {"user_recall", "pause_and_optimise"}
    check_rule_playbooks(DEFAULT_RULES, books)  # no error


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_task_without_owner_is_rejected_with_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "pb.yaml",
        (
            "playbooks:\n"
            "  - name: call_back\n"
            "    label: {zh: 回访, en: Call back}\n"
            "    steps:\n"
            "      - kind: notify\n"
            "      - kind: task\n"
            "        title: {zh: 回访客户, en: Call the customers}\n"
            "        due_hours: 24\n"
        ),
    )
    with pytest.raises(ConfigError) as err:
        load_playbooks(path)
    assert f"{path}:6:" in err.value.message
    assert "steps.1" in err.value.message and "owner" in err.value.message


def test_unknown_keys_and_misplaced_options_are_rejected(tmp_path: Path) -> None:
    typo = _write(
        tmp_path,
        "typo.yaml",
        (
            "playbooks:\n"
            "  - name: r\n"
            "    label: {zh: 召回, en: recall}\n"
            "    steps:\n"
            "      - {kind: recall_list, holdout: 0.3}\n"
        ),
    )
    with pytest.raises(ConfigError, match=r"typo.yaml:5: key `playbooks.0.steps.0.holdout`"):
        load_playbooks(typo)
    misplaced = _write(
        tmp_path,
        "misplaced.yaml",
        (
            "playbooks:\n"
            "  - name: r\n"
            "    label: {zh: 召回, en: recall}\n"
            "    steps:\n"
            "      - kind: task\n"
            "        title: {zh: 打电话, en: call}\n"
            "        owner: crm\n"
            "        due_hours: 4\n"
            "        holdout_share: 0.1\n"
        ),
    )
    with pytest.raises(ConfigError, match="recall_list steps only"):
        load_playbooks(misplaced)
    no_label = _write(
        tmp_path,
        "nolabel.yaml",
        ("playbooks:\n  - name: r\n    label: {zh: 召回}\n    steps: [{kind: notify}]\n"),
    )
    with pytest.raises(ConfigError, match=r"nolabel.yaml:3: key `playbooks.0.label.en`"):
        load_playbooks(no_label)


def test_a_rule_naming_an_unknown_playbook_points_at_its_line(tmp_path: Path) -> None:
    rules = _write(
        tmp_path,
        "rules.yaml",
        (
            "rules:\n"
            "  - name: gmv_low\n"
            "    label: {zh: GMV低, en: GMV low}\n"
            "    metric: gmv\n"
            "    condition: {kind: threshold, op: lt, value: 100}\n"
            "    actions:\n"
            "      - {kind: open_incident}\n"
            "      - kind: playbook\n"
            "        playbook: win_back\n"
        ),
    )
    with pytest.raises(ConfigError) as err:
        check_rule_playbooks(rules, default_playbooks())
    assert err.value.message.startswith(f"{rules}:9: key `rules.0.actions.1.playbook`")
    assert "win_back" in err.value.message and "user_recall" in (err.value.fix or "")
    # defined in the workspace's playbooks/, it is found
    (tmp_path / "playbooks").mkdir()
    _write(
        tmp_path / "playbooks",
        "extra.yaml",
        (
            "playbooks:\n"
            "  - name: win_back\n"
            "    label: {zh: 赢回, en: Win back}\n"
            "    steps: [{kind: notify, channels: [ops]}]\n"
        ),
    )
    books = workspace_playbooks(tmp_path)
    check_rule_playbooks(rules, books)
    assert {p.name for p in books.playbooks} == {"user_recall", "pause_and_optimise", "win_back"}
