"""Social mentions with a crisis burst, WeCom community stats, content stats and tickets."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from luopan.demo.calendar import Calendar

PLATFORMS = ("微博", "小红书", "抖音", "大众点评")
POSITIVE = (
    "今天在{store}买的{item}好新鲜，价格也实惠，会回购！",
    "{item}品质不错，配送很快，点赞👍",
    "周末去{store}逛了一圈，{item}在打折，性价比很高",
    "小程序下单半小时就送到了，{item}很甜",
    "鲜丰的{item}一直稳定，全家都爱吃",
    "会员日{item}买一送一，太划算了",
)
NEUTRAL = (
    "{store}新开了，有人去过吗？",
    "请问鲜丰的{item}是哪里产的？",
    "{item}涨价了一点，还能接受",
    "今天排队的人有点多，{item}快卖完了",
)
NEGATIVE = (
    "{item}买回来就不新鲜，有点失望",
    "配送超时一个小时，{item}都化了",
    "{store}服务态度一般，结账排队太久",
    "{item}缺斤少两，投诉了还没回复",
    "价格比隔壁超市贵，{item}也一般",
)
CRISIS = (
    "在{store}买的{item}{topic}了！吃完肚子疼，大家小心",
    "鲜丰{item}{topic}，这是{safety}问题吧？必须给个说法",
    "刚看到有人说鲜丰{item}{topic}，我家昨天也买了，吓死",
    "#鲜丰{item}{topic}# 监管部门管管吧，{safety}不是小事",
    "{store}的{item}{topic}还在卖？已经打12315了",
)
TOPIC = "变质"
SAFETY = "食品安全"


def _fill(rng: np.random.Generator, templates, n: int, stores, items, topic="") -> list[str]:
    t = rng.integers(0, len(templates), n)
    s = rng.integers(0, len(stores), n)
    i = rng.integers(0, len(items), n)
    return [
        templates[a].format(store=stores[b], item=items[c], topic=topic, safety=SAFETY)
        for a, b, c in zip(t, s, i, strict=True)
    ]


def mentions(
    rng: np.random.Generator, cal: Calendar, customers: int, store_names, items
) -> tuple[pd.DataFrame, dict, list[int], list[int]]:
    """Mentions frame (hostile rows and duplicates inserted), crisis truth, hostile and dup rows."""
    n_days = (cal.end - cal.start).days + 1
    per_day = max(8.0, customers * 0.0005)
    counts = rng.poisson(per_day, n_days)
    day = np.repeat(np.arange(n_days), counts)
    n = day.size
    secs = rng.integers(7 * 3600, 24 * 3600, n)
    kind = rng.choice(3, size=n, p=[0.55, 0.27, 0.18])
    text = np.empty(n, dtype=object)
    for k, tpl in enumerate((POSITIVE, NEUTRAL, NEGATIVE)):
        m = kind == k
        text[m] = _fill(rng, tpl, int(m.sum()), store_names, items)
    # crisis burst: six hours of mostly negative mentions about one topic
    cday = n_days - 20
    cstart = int(rng.integers(9 * 60, 13 * 60))
    nb = int(per_day * 4)
    bsec = cstart * 60 + np.sort(rng.gamma(1.5, 3600 * 1.2, nb)).astype(np.int64)
    bsec = np.minimum(bsec, 86399)
    bsec[0] = cstart * 60
    btext = _fill(rng, CRISIS, nb, store_names, items, TOPIC)
    day = np.r_[day, np.full(nb, cday)]
    secs = np.r_[secs, bsec]
    text = np.r_[text, np.asarray(btext, dtype=object)]
    kind = np.r_[kind, np.full(nb, 2)]
    n = day.size
    plat = np.asarray(PLATFORMS, dtype=object)[rng.integers(0, 4, n)]
    ts = pd.Timestamp(cal.start) + pd.to_timedelta(day, "D") + pd.to_timedelta(secs, "s")
    burst = np.r_[np.zeros(n - nb, bool), np.ones(nb, bool)]
    followers = np.round(rng.lognormal(6, 1.8, n)).astype(np.int64)
    rating = np.where(plat == "大众点评", np.choose(kind, [5.0, 4.0, 2.0]) - (burst * 1.0), np.nan)
    df = pd.DataFrame(
        {
            "published_at": ts,
            "platform": plat,
            "text": text,
            "author": ["用户" + str(x) for x in rng.integers(10**6, 10**8, n)],
            "author_followers": followers,
            "likes": rng.poisson(np.where(burst, 120, 8)),
            "comments": rng.poisson(np.where(burst, 40, 2)),
            "shares": rng.poisson(np.where(burst, 60, 1)),
            "rating": rating,
            "burst": burst,
        }
    )
    df = df.sort_values("published_at", kind="stable", ignore_index=True)
    for j, h in enumerate(rng.choice(len(df), size=4, replace=False)):
        df.loc[h, "text"] = f"{df.loc[h, 'text']} {HOSTILE_TEXT[j]}"
    hostile_rows = sorted(
        int(x)
        for x in df.index[
            df["text"].str.contains(
                "|".join(["DROP TABLE", "<script>", "cmd\\|", "😡"]), regex=True
            )
        ]
    )
    df.insert(0, "mention_id", ["MN" + str(i + 1).zfill(8) for i in range(len(df))])
    crisis = {
        "start": (
            pd.Timestamp(cal.start) + pd.Timedelta(days=cday) + pd.Timedelta(minutes=cstart)
        ).to_pydatetime(),
        "start_minute": cstart,
        "topic": TOPIC,
        "topic_zh": SAFETY,
        "level": "重大",
        "n_mentions": nb,
        "duration_hours": 6,
        "baseline_per_day": per_day,
    }
    dup_src = sorted(rng.choice(len(df), size=3, replace=False).tolist())
    return df, crisis, hostile_rows, dup_src


HOSTILE_TEXT = (
    "'; DROP TABLE orders; --",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "🥬🍓😡🔥",
)


def communities(
    rng: np.random.Generator, cal: Calendar, stores: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    n_days = (cal.end - cal.start).days + 1
    groups = [f"WG{s[1:]}" for s in stores["store_id"]]
    bad = groups[int(rng.integers(len(groups)))]
    start = n_days - 90
    rows = []
    for g in groups:
        m0 = int(rng.integers(150, 480))
        members = np.round(m0 + np.cumsum(rng.normal(0.4, 1.2, n_days))).clip(50).astype(int)
        rate = rng.uniform(0.18, 0.3) * np.ones(n_days)
        promo_share = rng.uniform(0.12, 0.22) * np.ones(n_days)
        if g == bad:
            ramp = np.clip((np.arange(n_days) - start) / 56.0, 0, 1)
            rate = rate * (1 - 0.67 * ramp)
            promo_share = promo_share + (0.65 - promo_share) * np.clip(
                (np.arange(n_days) - start + 14) / 14.0, 0, 1
            )
        active = rng.binomial(members, np.clip(rate, 0, 1))
        msgs = rng.poisson(active * 2.2 + 3)
        promo = rng.binomial(msgs, np.clip(promo_share, 0, 1))
        rows.append(
            pd.DataFrame(
                {
                    "date": [cal.start + timedelta(days=i) for i in range(n_days)],
                    "group_id": g,
                    "members": members,
                    "active_members": active,
                    "messages": msgs,
                    "promo_messages": promo,
                }
            )
        )
    df = pd.concat(rows, ignore_index=True)
    b = df[df["group_id"] == bad]
    before = b["active_members"].iloc[max(0, start - 28) : start].mean()
    after = b["active_members"].iloc[-28:].mean()
    truth = {
        "group_id": bad,
        "promo_ramp_start": cal.start + timedelta(days=start - 14),
        "decline_start": cal.start + timedelta(days=start),
        "true_activity_drop": 0.67,
        "active_before": float(before),
        "active_after": float(after),
        "realized_drop": float(1 - after / before),
    }
    return df, truth


def content(rng: np.random.Generator, cal: Calendar) -> tuple[pd.DataFrame, dict]:
    n_days = (cal.end - cal.start).days + 1
    counts = rng.poisson(4, n_days)
    day = np.repeat(np.arange(n_days), counts)
    n = day.size
    share = 0.18 + (0.53 - 0.18) * day / max(n_days - 1, 1)
    views = np.round(rng.lognormal(7.5, 1.2, n)).astype(np.int64)
    natural = rng.binomial(views, share)
    df = pd.DataFrame(
        {
            "content_id": ["CT" + str(i + 1).zfill(7) for i in range(n)],
            "platform": np.asarray(["小红书", "抖音", "视频号", "公众号"], dtype=object)[
                rng.integers(0, 4, n)
            ],
            "published_at": pd.Timestamp(cal.start)
            + pd.to_timedelta(day, "D")
            + pd.to_timedelta(rng.integers(8 * 3600, 22 * 3600, n), "s"),
            "format": np.asarray(["图文", "短视频", "直播切片"], dtype=object)[
                rng.integers(0, 3, n)
            ],
            "views": views,
            "natural_views": natural,
            "engagements": rng.binomial(views, 0.04),
        }
    )
    return df, {"natural_share_start": 0.18, "natural_share_end": 0.53}


def tickets(
    rng: np.random.Generator,
    landed: pd.DataFrame,
    member_ids: np.ndarray,
    cal: Calendar,
    crisis_day: int,
) -> pd.DataFrame:
    k = max(20, int(len(landed) * 0.006))
    pick = landed.iloc[np.sort(rng.choice(len(landed), size=min(k, len(landed)), replace=False))]
    cats = np.asarray(
        ["商品变质", "缺斤少两", "配送超时", "退款问题", "服务态度", "包装破损"], dtype=object
    )
    cat = cats[rng.choice(6, size=len(pick), p=[0.2, 0.15, 0.3, 0.15, 0.1, 0.1])]
    created = pd.Timestamp(cal.first) + pd.to_timedelta(pick["day"].to_numpy() + 1, "D")
    created = created + pd.to_timedelta(rng.integers(8 * 3600, 21 * 3600, len(pick)), "s")
    cust = pick["cust"].to_numpy()
    cid = np.where(cust >= 0, member_ids[np.maximum(cust, 0)], None)
    extra = max(10, k // 10)
    xday = np.full(extra, cal.index(cal.start) + crisis_day)
    xc = (
        pd.Timestamp(cal.first)
        + pd.to_timedelta(xday, "D")
        + pd.to_timedelta(rng.integers(12 * 3600, 23 * 3600, extra), "s")
    )
    df = pd.DataFrame(
        {
            "customer_id": np.r_[cid, member_ids[rng.integers(0, member_ids.size, extra)]],
            "created_at": np.r_[created.to_numpy(), xc.to_numpy()],
            "category": np.r_[cat, np.full(extra, "商品变质", dtype=object)],
        }
    )
    df = df.sort_values("created_at", kind="stable", ignore_index=True)
    df["resolved_at"] = df["created_at"] + pd.to_timedelta(
        rng.integers(1800, 3 * 86400, len(df)), "s"
    )
    # The export is taken at the world's end: later tickets do not exist yet, later
    # resolutions have not happened (the ticket is still open).
    cutoff = pd.Timestamp(cal.end) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    df = df[df["created_at"] <= cutoff].reset_index(drop=True)
    df["resolved_at"] = df["resolved_at"].where(df["resolved_at"] <= cutoff)
    df.insert(0, "ticket_id", ["TK" + str(i + 1).zfill(8) for i in range(len(df))])
    return df
