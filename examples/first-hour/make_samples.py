"""Write the small sample exports of the first-hour tutorial (docs/first-hour.md).

A fresh-food shop on Youzan (有赞) for eight weeks, 2026-09-28 to 2026-11-22, and its ERP
product sheet. The last week's orders fall by about a third (fewer buyers), so the tutorial's
rule "GMV falls more than 20% week on week" fires on 2026-W47. Names, phones and addresses are
invented; luopan hashes them at ingest. Deterministic (seeded): rerunning rewrites the same
bytes. Standard library only, so it runs without luopan installed.

    python examples/first-hour/make_samples.py
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
START = dt.date(2026, 9, 28)  # a Monday
WEEKS = 8
DROP_WEEK = 7  # 0-based: 2026-W47, 16-22 November

# sku, name, category, subcategory, brand, cost, price, shelf life (days)
PRODUCTS = [
    ("FR-1001", "丹东草莓 500g", "水果", "浆果", "鲜丰", 18.0, 39.9, 5),
    ("FR-1002", "赣南脐橙 2.5kg", "水果", "柑橘", "鲜丰", 22.0, 49.9, 20),
    ("FR-1003", "海南香蕉 1kg", "水果", "热带水果", "鲜丰", 6.5, 15.9, 6),
    ("FR-1004", "阿克苏苹果 2kg", "水果", "仁果", "鲜丰", 15.0, 35.9, 30),
    ("FR-1005", "云南蓝莓 125g×2", "水果", "浆果", "鲜丰", 16.0, 36.9, 7),
    ("VG-2001", "有机小青菜 400g", "蔬菜", "叶菜", "禾田", 3.2, 8.9, 3),
    ("VG-2002", "山东大葱 1kg", "蔬菜", "葱姜蒜", "禾田", 3.8, 9.9, 14),
    ("VG-2003", "西红柿 1kg", "蔬菜", "茄果", "禾田", 5.1, 12.9, 7),
    ("VG-2004", "土豆 2.5kg", "蔬菜", "根茎", "禾田", 5.5, 13.9, 30),
    ("MT-3001", "冷鲜猪里脊 500g", "肉禽", "猪肉", "牧源", 14.0, 29.9, 4),
    ("MT-3002", "谷饲牛腩 500g", "肉禽", "牛肉", "牧源", 32.0, 59.9, 5),
    ("MT-3003", "三黄鸡 1只", "肉禽", "禽类", "牧源", 19.0, 39.9, 3),
    ("SF-4001", "鲜活基围虾 500g", "水产", "虾", "海湾", 28.0, 55.9, 2),
    ("SF-4002", "舟山带鱼段 500g", "水产", "鱼", "海湾", 17.0, 34.9, 60),
    ("DY-5001", "鲜牛奶 950ml", "乳品", "鲜奶", "晨光", 7.8, 15.8, 7),
    ("DY-5002", "原味酸奶 1kg", "乳品", "酸奶", "晨光", 8.5, 18.9, 21),
    ("EG-6001", "散养土鸡蛋 30枚", "蛋类", "鸡蛋", "禾田", 19.0, 36.9, 30),
    ("BK-7001", "全麦吐司 400g", "烘焙", "面包", "麦香", 6.0, 13.9, 4),
]

ORDER_HEADERS = [
    "订单号", "销售渠道", "归属店铺", "订单类型", "订单状态", "订单创建时间", "买家付款时间",
    "商品金额合计", "运费", "店铺优惠合计", "订单实付金额", "订单已退款金额", "收货人/提货人",
    "收货人手机号/提货人手机号", "收货人省份", "收货人城市", "详细收货地址/提货地址",
    "买家手机号", "商品名称", "商品编码", "商品数量", "商品单价", "商品实际成交金额",
]  # fmt: skip
PRODUCT_HEADERS = [
    "商品编码",
    "商品名称",
    "品类",
    "子品类",
    "品牌",
    "成本价",
    "零售价",
    "保质期(天)",
]
CITIES = [("浙江省", "杭州市"), ("浙江省", "宁波市"), ("上海市", "上海市"), ("江苏省", "苏州市")]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙"


def _money(x: float) -> str:
    return f"{x:.2f}"


def _orders(rng: random.Random) -> list[list[str]]:
    buyers = [f"13{rng.randint(0, 9)}{rng.randint(10**7, 10**8 - 1)}" for _ in range(260)]
    homes = {b: rng.choice(CITIES) for b in buyers}
    weights = [1.0 / (i + 1) ** 0.6 for i in range(len(buyers))]  # a few loyal buyers
    rows: list[list[str]] = []
    serial = 0
    for day_index in range(WEEKS * 7):
        day = START + dt.timedelta(days=day_index)
        base = 21 if day.weekday() >= 5 else 17
        n = max(0, round(rng.gauss(base, 1.5) * (0.55 if day_index // 7 == DROP_WEEK else 1.0)))
        for _ in range(n):
            serial += 1
            buyer = rng.choices(buyers, weights)[0]
            province, city = homes[buyer]
            at = dt.datetime.combine(day, dt.time(7)) + dt.timedelta(minutes=rng.randint(0, 900))
            paid_at = at + dt.timedelta(seconds=rng.randint(20, 300))
            items = rng.sample(PRODUCTS, k=rng.choice([1, 1, 2, 2, 3]))
            lines = [(p, rng.choice([1, 1, 1, 2])) for p in items]
            gross = sum(p[6] * q for p, q in lines)
            discount = 5.0 if gross >= 59 else 0.0
            state = rng.random()
            status = "交易完成" if state < 0.93 else ("已退款" if state < 0.97 else "交易关闭")
            paid = gross - discount if status != "交易关闭" else 0.0
            refund = paid if status == "已退款" else 0.0
            share = [p[6] * q / gross for p, q in lines]
            order_id = f"E2026{day:%m%d}{serial:06d}"
            for (p, q), s in zip(lines, share, strict=True):
                rows.append([
                    order_id, "微信小程序", "鲜丰社区店", "普通订单", status,
                    f"{at:%Y-%m-%d %H:%M:%S}",
                    "" if status == "交易关闭" else f"{paid_at:%Y-%m-%d %H:%M:%S}",
                    _money(gross), "0.00", _money(discount), _money(paid), _money(refund),
                    rng.choice(SURNAMES) + "先生", buyer, province, city,
                    f"{city}示例路{rng.randint(1, 300)}号", buyer, p[1], p[0], str(q),
                    _money(p[6]), _money(paid * s),
                ])  # fmt: skip
    return rows


def main() -> None:
    rng = random.Random(20261122)
    exports = HERE / "exports"
    exports.mkdir(exist_ok=True)
    with (exports / "youzan_orders_2026-11.csv").open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(ORDER_HEADERS)
        out.writerows(_orders(rng))
    with (exports / "erp_products.csv").open("w", encoding="gb18030", newline="") as f:
        out = csv.writer(f)
        out.writerow(PRODUCT_HEADERS)
        out.writerows([*p[:5], _money(p[5]), _money(p[6]), str(p[7])] for p in PRODUCTS)


if __name__ == "__main__":
    main()
