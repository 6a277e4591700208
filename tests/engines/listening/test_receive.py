"""Mentions in: the webhook receiver into a workspace, and platform export presets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from helpers import make_workspace, query, write_csv
from luopan.engines.listening.receive import ingest_mentions, load_mentions
from luopan.errors import DataContractError
from luopan.ingest.detect import detect_headers
from luopan.ingest.pipeline import ingest_workspace

NOW = dt.datetime(2026, 10, 27, 10, 0)
COMPLAINT = "鲜丰的鸡蛋变质了，吃完肚子疼，大家小心"


def _records() -> list[dict[str, object]]:
    return [
        {
            "id": "wb1",
            "platform": "weibo",
            "published_at": "2026-10-27T01:52:00Z",
            "text": COMPLAINT,
            "author": "用户甲",
            "followers": "1.2万",
            "likes": 120,
            "shares": 3,
            "verified": True,
            "channel": "api",
        },
        {
            "id": "wb2",
            "platform": "微博",
            "published_at": "2026-10-27 09:53:00",
            "text": f"转发微博//@用户甲:{COMPLAINT}",
            "followers": 80,
        },
        {
            "id": "dp1",
            "platform": "dianping",
            "published_at": "2026-10-27 09:58:10",
            "text": "买的草莓发霉了=cmd|' /C calc'!A0",
            "rating": 1,
        },
        {"id": "bad", "platform": "抖音", "published_at": "yesterday", "text": "x"},
    ]


def test_webhook_batch_is_validated_deduplicated_and_loaded_once(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", [], as_of="2026-11-01 00:00:00")
    r = ingest_mentions(ws, _records(), now=NOW)
    assert (r.status, r.received, r.accepted, r.loaded, r.reposts) == ("loaded", 4, 2, 2, 1)
    assert [(x.index, x.field) for x in r.rejected] == [(3, "published_at")]
    assert r.tiers == {"mid": 1, "regular": 1} and r.ignored_fields == ("channel",)
    rows = query(
        ws,
        "SELECT mention_id, platform, published_at, author_followers, shares, "
        "rating, _source FROM mentions ORDER BY mention_id",
    )
    assert rows == [
        (
            "dp1",
            "大众点评",
            dt.datetime(2026, 10, 27, 9, 58, 10),
            None,
            None,
            1.0,
            "mentions_webhook",
        ),
        ("wb1", "微博", dt.datetime(2026, 10, 27, 9, 52), 12000, 4, None, "mentions_webhook"),
    ]
    assert (ws.root / r.file).exists() if r.file else False
    again = ingest_mentions(ws, _records(), now=NOW + dt.timedelta(minutes=1))
    assert (again.status, again.loaded, again.file) == ("unchanged", 0, None)
    more = [*_records()[:1], {**_records()[2], "id": "dp2", "text": "第二条"}]
    third = ingest_mentions(ws, more, now=NOW + dt.timedelta(minutes=2))
    assert third.loaded == 2 and query(ws, "SELECT count(*) FROM mentions") == [(3,)]
    assert len(list((ws.root / "feeds" / "mentions").glob("*.csv"))) == 2
    m = load_mentions(ws, start=dt.datetime(2026, 10, 27, 9, 55))
    assert list(m["mention_id"]) == ["dp1", "dp2"] and "=cmd" in m["text"].iat[0]
    d = r.to_dict()
    assert d["rejected"][0]["reason"].startswith("published_at") and d["loaded"] == 2


def test_webhook_rejects_a_non_list_and_reports_an_empty_batch(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", [], as_of="2026-11-01 00:00:00")
    with pytest.raises(DataContractError, match="JSON array"):
        ingest_mentions(ws, {"id": "x"})  # type: ignore[arg-type]
    r = ingest_mentions(ws, [{"id": "x"}])
    assert r.status == "empty" and r.loaded == 0 and r.rejected[0].field == "platform"


WEIBO = [
    "id",
    "bid",
    "user_id",
    "用户昵称",
    "微博正文",
    "头条文章url",
    "发布位置",
    "艾特用户",
    "话题",
    "转发数",
    "评论数",
    "点赞数",
    "发布时间",
    "发布工具",
    "微博图片url",
    "微博视频url",
    "retweet_id",
    "ip",
    "user_authentication",
]


@pytest.mark.parametrize(
    ("preset", "headers", "row", "platform"),
    [
        (
            "weibo_mentions",
            WEIBO,
            [
                "4958",
                "Oabc",
                "17",
                "用户甲",
                COMPLAINT,
                "",
                "杭州",
                "",
                "",
                "12",
                "3",
                "45",
                "2026-10-27 09:52",
                "iPhone",
                "",
                "",
                "",
                "浙江",
                "黄V",
            ],
            "微博",
        ),
        (
            "xiaohongshu_mentions",
            [
                "笔记ID",
                "笔记标题",
                "笔记内容",
                "作者",
                "粉丝数",
                "点赞数",
                "评论数",
                "分享数",
                "发布时间",
            ],
            ["64f0", "避雷", COMPLAINT, "小红薯", "5200", "45", "3", "12", "2026/10/27 9:52"],
            "小红书",
        ),
        (
            "douyin_mentions",
            ["视频ID", "作品描述", "作者昵称", "粉丝数", "点赞数", "评论数", "分享数", "发布时间"],
            ["7301", COMPLAINT, "抖友", "5200", "45", "3", "12", "2026-10-27 09:52:00"],
            "抖音",
        ),
        (
            "dianping_mentions",
            ["评价ID", "用户昵称", "评价内容", "评分", "点赞数", "回应数", "评价时间"],
            ["r88", "吃货", COMPLAINT, "1", "45", "3", "2026-10-27 09:52"],
            "大众点评",
        ),
    ],
)
def test_platform_exports_load_with_their_preset(
    tmp_path: Path, preset: str, headers: list[str], row: list[str], platform: str
) -> None:
    assert detect_headers(tuple(headers))[0].name == preset
    write_csv(tmp_path / "ws" / "exports" / "m.csv", [headers, row], encoding="utf-8-sig")
    ws = make_workspace(
        tmp_path / "ws",
        [{"name": "m", "path": "exports/m.csv", "preset": preset}],
        as_of="2026-11-01 00:00:00",
    )
    assert [r.status for r in ingest_workspace(ws)] == ["loaded"]
    got = query(ws, "SELECT platform, published_at, text, likes FROM mentions")
    assert got == [(platform, dt.datetime(2026, 10, 27, 9, 52), COMPLAINT, 45)]
