"""The demo world's entities: stores, products and customers with their true behaviour.

Customers follow the BG/NBD buy-till-you-die process (purchase rate ``lambda ~ Gamma(r, alpha)``
per day, dropout after each repeat purchase with ``p ~ Beta(a, b)``) and the Gamma-Gamma spend
model (per-order spend ``z ~ Gamma(p_gg, nu)``, ``nu ~ Gamma(q, gamma)``).

References:
    Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
    Pareto/NBD Model", Marketing Science 24(2). Fader & Hardie (2013), "The Gamma-Gamma Model of
    Monetary Value".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from luopan.demo.calendar import CHANNELS

REGIONS: dict[str, tuple[float, tuple[str, ...]]] = {
    "华东": (0.34, ("上海", "杭州", "南京", "苏州", "宁波")),
    "华南": (0.22, ("广州", "深圳", "东莞", "佛山")),
    "华北": (0.18, ("北京", "天津", "石家庄")),
    "华中": (0.14, ("武汉", "长沙", "郑州")),
    "西南": (0.12, ("成都", "重庆", "昆明")),
}
PROVINCE = {
    "上海": "上海",
    "杭州": "浙江省",
    "南京": "江苏省",
    "苏州": "江苏省",
    "宁波": "浙江省",
    "广州": "广东省",
    "深圳": "广东省",
    "东莞": "广东省",
    "佛山": "广东省",
    "北京": "北京",
    "天津": "天津",
    "石家庄": "河北省",
    "武汉": "湖北省",
    "长沙": "湖南省",
    "郑州": "河南省",
    "成都": "四川省",
    "重庆": "重庆",
    "昆明": "云南省",
}
FORMATS = {"社区店": 0.7, "标准店": 1.0, "旗舰店": 1.6}

# category: (share of lines, price range, shelf-life range, subcategory -> items)
CATEGORIES: dict[str, tuple[float, tuple[float, float], tuple[int, int], dict[str, str]]] = {
    "蔬菜": (
        0.20,
        (2.5, 18),
        (1, 7),
        {
            "叶菜": "上海青 菠菜 生菜 油麦菜 空心菜 小白菜 芹菜 韭菜",
            "根茎": "土豆 胡萝卜 白萝卜 山药 莲藕 红薯 洋葱 生姜",
            "菌菇": "香菇 金针菇 杏鲍菇 平菇 蟹味菇",
            "瓜果类": "黄瓜 西红柿 茄子 青椒 南瓜 西兰花 玉米 丝瓜",
        },
    ),
    "水果": (
        0.17,
        (6, 60),
        (3, 30),
        {
            "柑橘": "砂糖橘 脐橙 沃柑 柚子 柠檬",
            "浆果": "草莓 蓝莓 葡萄 车厘子 阳光玫瑰",
            "热带水果": "香蕉 芒果 菠萝 火龙果 榴莲 椰青",
            "仁果": "苹果 梨 猕猴桃 桃子 哈密瓜 西瓜",
        },
    ),
    "肉禽蛋": (
        0.15,
        (12, 90),
        (2, 30),
        {
            "猪肉": "五花肉 前腿肉 排骨 里脊 猪蹄",
            "牛羊肉": "牛腩 牛排 肥牛卷 羊肉卷 羊排",
            "禽肉": "鸡胸肉 鸡翅中 整鸡 鸭腿 鸡腿",
            "蛋类": "鲜鸡蛋 土鸡蛋 鹌鹑蛋 咸鸭蛋",
        },
    ),
    "水产": (
        0.08,
        (15, 150),
        (1, 5),
        {
            "鲜鱼": "鲈鱼 草鱼 黄花鱼 鲫鱼 三文鱼",
            "虾蟹": "基围虾 白虾 大闸蟹 小龙虾",
            "贝类": "花蛤 生蚝 扇贝 鲍鱼",
        },
    ),
    "乳品": (
        0.10,
        (5, 45),
        (3, 180),
        {
            "鲜奶": "鲜牛奶 低脂鲜奶 A2鲜奶",
            "酸奶": "原味酸奶 希腊酸奶 果粒酸奶",
            "奶酪": "奶酪棒 马苏里拉 切达奶酪",
            "常温奶": "纯牛奶 有机纯奶",
        },
    ),
    "烘焙": (
        0.07,
        (6, 48),
        (1, 7),
        {
            "面包": "吐司 牛角包 全麦面包 法棍 肉松面包",
            "蛋糕": "芝士蛋糕 千层蛋糕 戚风蛋糕",
            "点心": "蛋挞 瑞士卷 麻薯",
        },
    ),
    "粮油": (
        0.07,
        (8, 120),
        (180, 365),
        {
            "大米": "东北大米 泰国香米 五常大米",
            "食用油": "花生油 菜籽油 橄榄油",
            "调味": "生抽 老抽 香醋 食盐",
            "面食": "挂面 饺子粉",
        },
    ),
    "休闲零食": (
        0.07,
        (5, 60),
        (90, 365),
        {
            "坚果": "每日坚果 碧根果 开心果 巴旦木",
            "饼干": "苏打饼干 夹心饼干 薄脆",
            "糖果": "牛轧糖 巧克力 软糖",
            "膨化": "薯片 锅巴",
        },
    ),
    "酒水饮料": (
        0.06,
        (3, 150),
        (180, 365),
        {
            "饮用水": "矿泉水 苏打水",
            "果汁": "橙汁 NFC苹果汁",
            "茶饮": "乌龙茶 绿茶 柠檬茶",
            "酒类": "啤酒 黄酒 红酒 白酒",
        },
    ),
    "日化": (
        0.03,
        (8, 80),
        (365, 365),
        {"清洁": "洗洁精 洗衣液 厨房纸 垃圾袋", "个护": "牙膏 洗发水 沐浴露 纸巾"},
    ),
}
BRANDS = (
    "鲜丰自营",
    "鲜丰优选",
    "农夫山泉",
    "伊利",
    "光明",
    "金龙鱼",
    "三只松鼠",
    "良品铺子",
    "蓝月亮",
    "维达",
    "盒马同款",
    "本地农场",
    "海天",
    "百草味",
)
SPECS = ("500g", "250g", "1kg", "家庭装", "精品装", "有机", "2斤装", "特惠装")

ACQUISITION = {
    "store": "门店扫码",
    "miniprogram": "小程序",
    "meituan": "美团",
    "tmall": "天猫",
    "jd": "京东",
    "douyin": "抖音",
}
HOME_CHANNEL_WEIGHTS = {
    "store": 0.40,
    "miniprogram": 0.18,
    "meituan": 0.12,
    "tmall": 0.12,
    "jd": 0.08,
    "douyin": 0.10,
}
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红鹏辉丹欣怡梓涵子轩浩然雨桐")

BTYD = {"r": 0.9, "alpha": 12.0, "a": 0.75, "b": 5.5, "p_gg": 6.0, "q": 3.5, "gamma": 35.0}


@dataclass(frozen=True)
class World:
    stores: pd.DataFrame
    products: pd.DataFrame
    customers: pd.DataFrame  # includes true parameters (lam, p_drop, nu, home_channel, ...)


def make_stores(rng: np.random.Generator, n: int, start: date) -> pd.DataFrame:
    names = list(REGIONS)
    weights = np.array([REGIONS[r][0] for r in names])
    region = [names[i] for i in range(min(n, 5))]
    region += list(rng.choice(names, size=max(n - 5, 0), p=weights / weights.sum()))
    rows = []
    for i, reg in enumerate(region):
        cities = REGIONS[reg][1]
        city = cities[int(rng.integers(len(cities)))]
        fmt = str(rng.choice(list(FORMATS), p=[0.45, 0.4, 0.15]))
        opened = start - timedelta(days=int(rng.integers(200, 2500)))
        rows.append(
            {
                "store_id": f"S{i + 1:03d}",
                "name": f"鲜丰生鲜·{city}{i + 1:02d}{fmt}",
                "city": city,
                "region": reg,
                "format": fmt,
                "opened_at": opened,
                "size": FORMATS[fmt] * float(rng.lognormal(0, 0.2)),
            }
        )
    return pd.DataFrame(rows)


def make_products(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """``n`` SKUs over the ten categories, each with a true own-price elasticity."""
    base: list[tuple[str, str, str]] = []
    for cat, (_, _, _, subs) in CATEGORIES.items():
        for sub, items in subs.items():
            base += [(cat, sub, item) for item in items.split()]
    rows = []
    for i in range(n):
        cat, sub, item = base[i % len(base)]
        round_ = i // len(base)
        share, (lo, hi), (sl_lo, sl_hi), _ = CATEGORIES[cat]
        spec = SPECS[(round_ + i) % len(SPECS)] if round_ else SPECS[i % 3]
        price = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        price = round(price, 1) - 0.1 if price > 3 else round(price, 1)
        shelf = int(rng.integers(sl_lo, sl_hi + 1))
        if item in ("鲜鸡蛋", "土鸡蛋", "咸鸭蛋"):
            shelf = 30
        rows.append(
            {
                "sku": f"SX{i + 1:05d}",
                "name": f"{item} {spec}",
                "category": cat,
                "subcategory": sub,
                "brand": str(rng.choice(BRANDS)),
                "unit_cost": round(price * float(rng.uniform(0.52, 0.78)), 2),
                "list_price": round(price, 2),
                "shelf_life_days": shelf,
                "elasticity": float(np.clip(rng.normal(-2.6, 0.55), -4.6, -0.8)),
                "weight": float(rng.lognormal(0.0, 0.9)),
            }
        )
    df = pd.DataFrame(rows)
    if n >= 2:  # the shelf-life span the brief promises: 1 to 365 days
        df.loc[df.index[df["category"] == "烘焙"][:1], "shelf_life_days"] = 1
        df.loc[df.index[df["category"] == "日化"][:1], "shelf_life_days"] = 365
    # category weights sum to the category's share of lines
    cat_share = {c: v[0] for c, v in CATEGORIES.items()}
    df["weight"] = df["weight"] / df.groupby("category")["weight"].transform("sum")
    df["weight"] *= df["category"].map(cat_share)
    df["weight"] /= df["weight"].sum()
    return df


def make_customers(
    rng: np.random.Generator,
    n: int,
    stores: pd.DataFrame,
    start: date,
    end: date,
    history_days: int,
) -> pd.DataFrame:
    """Members with attributes, home channel/store and true BTYD parameters."""
    names = list(REGIONS)
    rw = np.array([REGIONS[r][0] for r in names])
    region_idx = rng.choice(len(names), size=n, p=rw / rw.sum())
    region = np.asarray(names, dtype=object)[region_idx]
    store_region = stores["region"].to_numpy()
    size = stores["size"].to_numpy()
    home_store = np.empty(n, dtype=object)
    city = np.empty(n, dtype=object)
    for r in names:
        mask = region == r
        cand = np.flatnonzero(store_region == r)
        if cand.size == 0:
            cand = np.arange(len(stores))
        pick = cand[rng.choice(cand.size, size=int(mask.sum()), p=size[cand] / size[cand].sum())]
        home_store[mask] = stores["store_id"].to_numpy()[pick]
        city[mask] = stores["city"].to_numpy()[pick]
    ch_names = list(HOME_CHANNEL_WEIGHTS)
    cw = np.array(list(HOME_CHANNEL_WEIGHTS.values()))
    home = np.asarray(ch_names, dtype=object)[rng.choice(len(ch_names), size=n, p=cw)]
    second = np.asarray(CHANNELS, dtype=object)[rng.integers(0, len(CHANNELS), size=n)]
    acq = np.array([ACQUISITION[h] for h in home], dtype=object)
    over = rng.random(n)
    acq[over < 0.08] = "小红书"
    acq[(over >= 0.08) & (over < 0.14)] = "朋友推荐"
    # first seen: 40% before the window, the rest spread over it with growth
    window = (end - start).days + 1
    pre = rng.random(n) < 0.4
    offset = np.where(
        pre,
        -rng.integers(1, history_days, size=n),
        np.floor(window * np.sqrt(rng.random(n)) * 0.98).astype(int),
    )
    seconds = rng.integers(7 * 3600, 22 * 3600, size=n)
    first_seen = (
        pd.Timestamp(start) + pd.to_timedelta(offset, unit="D") + pd.to_timedelta(seconds, "s")
    )
    b = BTYD
    lam = rng.gamma(b["r"], 1.0 / b["alpha"], size=n)
    p_drop = rng.beta(b["a"], b["b"], size=n)
    nu = rng.gamma(b["q"], 1.0 / b["gamma"], size=n)
    rank = pd.Series(lam + rng.normal(0, 0.01, size=n)).rank(pct=True).to_numpy()
    level = np.select([rank > 0.97, rank > 0.85, rank > 0.6], ["黑金", "金卡", "银卡"], "普通会员")
    surname = np.asarray(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.asarray(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), n)]
    g2 = np.asarray(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), n)]
    two = rng.random(n) < 0.6
    name = surname + g1 + np.where(two, g2, "")
    phone = (
        "1"
        + pd.Series(rng.choice(["35", "36", "37", "38", "39", "50", "58", "86", "88"], n))
        + pd.Series(rng.integers(0, 10**8, n)).astype(str).str.zfill(8)
    ).to_numpy()
    return pd.DataFrame(
        {
            "customer_id": [f"M{i + 1:08d}" for i in range(n)],
            "first_seen_at": first_seen,
            "phone": phone,
            "name": name,
            "city": city,
            "region": region,
            "acquisition_channel": acq,
            "member_level": level,
            "gender": np.where(rng.random(n) < 0.62, "女", "男"),
            "birth_year": rng.integers(1955, 2005, size=n),
            "home_store": home_store,
            "home_channel": home,
            "second_channel": second,
            "lam": lam,
            "p_drop": p_drop,
            "nu": nu,
        }
    )


def make_world(
    rng: np.random.Generator,
    *,
    customers: int,
    stores: int,
    skus: int,
    start: date,
    end: date,
    history_days: int,
) -> World:
    st = make_stores(rng, stores, start)
    pr = make_products(rng, skus)
    cu = make_customers(rng, customers, st, start, end, history_days)
    return World(st, pr, cu)
