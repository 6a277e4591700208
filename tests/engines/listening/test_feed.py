"""Feed records: validation with reasons, Chinese counts, time zones, reposts, reach tiers."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from luopan.engines.listening import reach_tier, validate_mentions
from luopan.engines.listening.feed import dedup_reposts, parse_count, repost_key

COMPLAINT = "鲜丰的鸡蛋变质了，吃完肚子疼，大家小心"


def _rec(i: int, **kw: object) -> dict[str, object]:
    base = {
        "id": f"M{i}",
        "platform": "weibo",
        "published_at": f"2026-10-27 10:{i:02d}:00",
        "text": f"第{i}条：排队有点久但还行",
    }
    return {**base, **kw}


def test_counts_in_chinese_display_forms() -> None:
    assert [parse_count(x) for x in ("1.2万", "3w", "1,200", "1亿", 7, None, "")] == [
        12000,
        30000,
        1200,
        100_000_000,
        7,
        None,
        None,
    ]
    for bad in ("-3", "很多", True, float("nan")):
        with pytest.raises(ValueError):
            parse_count(bad)


def test_bad_records_are_listed_with_field_and_reason() -> None:
    b = validate_mentions(
        [
            _rec(1),
            _rec(2, published_at="昨天"),
            _rec(3, likes="很多"),
            {"platform": "抖音", "text": "x", "published_at": "2026-10-27"},
            "not an object",
            _rec(6, verified="yes"),
        ]
    )
    assert list(b.frame["mention_id"]) == ["M1"]
    assert [(r.index, r.field) for r in b.rejected] == [
        (1, "published_at"),
        (2, "likes"),
        (3, "mention_id"),
        (4, ""),
        (5, "verified"),
    ]
    assert "required" in b.rejected[2].reason and b.rejected[1].value == "很多"


def test_platform_names_time_zones_and_duplicate_ids() -> None:
    b = validate_mentions(
        [
            _rec(1, platform="XHS", published_at="2026-10-27T01:52:00Z", followers="2.5万"),
            _rec(2, platform="点评", published_at=1_793_065_920_000),  # epoch ms
            _rec(1, text="same id again"),
        ],
        tz="Asia/Shanghai",
    )
    f = b.frame.set_index("mention_id")
    assert f.loc["M1", "platform"] == "小红书" and f.loc["M2", "platform"] == "大众点评"
    assert f.loc["M1", "published_at"] == pd.Timestamp("2026-10-27 09:52:00")
    assert f.loc["M2", "published_at"] == pd.Timestamp("2026-10-27 09:52:00")
    assert f.loc["M1", "author_followers"] == 25_000 and f.loc["M1", "reach_tier"] == "micro"
    assert b.duplicates == 1 and f.loc["M1", "text"] != "same id again"


def test_reposts_fold_into_the_original_but_amplifiers_stay() -> None:
    b = validate_mentions(
        [
            _rec(1, text=COMPLAINT, shares=5),
            _rec(2, text=f"转发微博//@用户甲:{COMPLAINT}"),  # a forward of the same text
            _rec(3, text=f"{COMPLAINT} http://t.cn/abc"),  # a copy with a link
            _rec(4, text="太可怕了", repost_of="M1"),  # an explicit repost
            _rec(5, text=COMPLAINT, followers=2_000_000),  # a KOL forwarding: kept
            _rec(6, text=COMPLAINT, platform="抖音"),  # another platform: its own mention
            _rec(7, text="好吃", author="甲"),
            _rec(8, text="好吃", author="乙"),  # short: not copies
        ]
    )
    f = b.frame.set_index("mention_id")
    assert b.reposts == 3 and sorted(f.index) == ["M1", "M5", "M6", "M7", "M8"]
    assert f.loc["M1", "shares"] == 8 and f.loc["M5", "reach_tier"] == "top"


def test_copies_a_day_apart_are_new_mentions() -> None:
    b = validate_mentions(
        [_rec(1, text=COMPLAINT), _rec(2, text=COMPLAINT, published_at="2026-10-28 10:02:00")]
    )
    assert b.reposts == 0 and len(b.frame) == 2


def test_reach_tiers() -> None:
    assert [reach_tier(n) for n in (None, 9_999, 10_000, 150_000, 1_000_000)] == [
        "regular",
        "regular",
        "micro",
        "mid",
        "top",
    ]
    assert reach_tier(20_000, verified=True) == "mid" and reach_tier(5, author_type="媒体") == "top"


def test_not_a_list() -> None:
    with pytest.raises(ValueError, match="array"):
        validate_mentions({"id": 1})  # type: ignore[arg-type]


@given(st.text(max_size=60))
def test_repost_key_ignores_forward_markers(text: str) -> None:
    assert repost_key(f"转发微博//@某人:{text}") == repost_key(text)


def test_dedup_keeps_every_id_once() -> None:
    frame = validate_mentions(
        [_rec(i, text=COMPLAINT if i % 2 else f"独立内容第{i}条评论很长") for i in range(10)]
    ).frame
    again, n = dedup_reposts(frame)
    assert n == 0 and len(again) == len(frame) == 6
