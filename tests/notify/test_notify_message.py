"""The channel-neutral message: templates in zh and en, UTF-8 truncation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luopan.errors import DecisionError
from luopan.notify.message import TEMPLATES, TRUNCATION_NOTE, Message, render, truncate_utf8

INCIDENT = {
    "metric": "DAU",
    "slice": "华东 · 小程序",
    "period": "2026-W47",
    "value": "41,200",
    "expected": "52,000 ± 2,100",
    "rule": "DAU 波动超过 15%",
    "action": "运行根因分析",
}


def test_every_template_exists_in_both_languages() -> None:
    for kind, by_lang in TEMPLATES.items():
        assert set(by_lang) == {"zh", "en"}, kind


def test_render_incident_zh_and_en() -> None:
    zh = render(
        "incident", "zh", key="rule:dau:east:2026-W47", severity="critical", params=INCIDENT
    )
    assert zh.title == "【严重】DAU异常：DAU 波动超过 15%"
    assert (
        zh.body.splitlines()[0]
        == "指标 DAU（华东 · 小程序）在 2026-W47 为 41,200，预期 52,000 ± 2,100。"
    )
    assert zh.lang == "zh" and zh.key == "rule:dau:east:2026-W47"
    en = render("incident", "en", key="k", severity="warning", params=INCIDENT)
    assert en.title == "[Warning] DAU anomaly: DAU 波动超过 15%"
    assert en.body.endswith("Suggested action: 运行根因分析")


def test_render_names_missing_placeholders() -> None:
    with pytest.raises(DecisionError, match="needs values for: expected, period, value"):
        render(
            "incident",
            "zh",
            key="k",
            params={k: v for k, v in INCIDENT.items() if k not in ("expected", "period", "value")},
        )
    with pytest.raises(DecisionError, match="unknown message template 'nope'"):
        render("nope", "zh", key="k")


def test_message_rejects_empty_key_and_bad_severity() -> None:
    with pytest.raises(DecisionError, match="non-empty key"):
        Message(key=" ", title="t", body="b")
    with pytest.raises(DecisionError, match="unknown severity"):
        Message(key="k", title="t", body="b", severity="fatal")  # type: ignore[arg-type]


def test_plain_text_has_fields_and_link_label_in_language() -> None:
    m = Message(
        key="k", title="标题", body="正文", fields=(("负责人", "王芳"),), link="http://cockpit/i/7"
    )
    assert m.plain_text() == "标题\n\n正文\n负责人: 王芳\n在驾驶舱中查看: http://cockpit/i/7"


def test_truncate_keeps_short_text_and_cuts_long_text_at_char_boundary() -> None:
    assert truncate_utf8("短文本", 100) == ("短文本", False)
    text = "销" * 2000  # 6000 bytes
    cut, was_cut = truncate_utf8(text, 4096)
    assert was_cut
    data = cut.encode("utf-8")
    assert len(data) <= 4096
    assert cut.endswith(TRUNCATION_NOTE["zh"])
    head = cut[: -len("\n" + TRUNCATION_NOTE["zh"])]
    assert (
        set(head) == {"销"}
        and len(head) == (4096 - len(("\n" + TRUNCATION_NOTE["zh"]).encode())) // 3
    )


@given(st.text(max_size=3000), st.integers(min_value=200, max_value=5000))
def test_truncate_never_exceeds_limit_and_is_a_prefix(text: str, limit: int) -> None:
    cut, was_cut = truncate_utf8(text, limit, lang="en")
    assert len(cut.encode("utf-8")) <= limit
    assert was_cut == (len(text.encode("utf-8")) > limit)
    if was_cut:
        assert text.startswith(cut[: -len("\n" + TRUNCATION_NOTE["en"])])
    else:
        assert cut == text
