"""``generate``: build the demo world, write its exports, luopan.yaml and ground_truth.json."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from luopan.demo import baskets, campaigns, exports, statics, world
from luopan.demo.calendar import build_calendar
from luopan.demo.exports import DirtPlan, Ledger
from luopan.demo.inventory import InventorySim
from luopan.demo.orders import plan_orders
from luopan.demo.sales import censor, settle
from luopan.demo.truth import GroundTruth

HISTORY_DAYS = 540
INVENTORY_DAYS = 120
LATE_DAYS = 4
Progress = Callable[[str, float], None]


def _ids(rng: np.random.Generator, n: int, prefix: int, digits: int) -> np.ndarray:
    gaps = rng.integers(1, 10 ** max(digits - 8, 2), n)
    vals = prefix * 10 ** (digits - len(str(prefix))) + np.cumsum(gaps)
    return vals.astype(str)


def _identities(rng: np.random.Generator, cu: pd.DataFrame) -> dict[str, np.ndarray]:
    n = len(cu)
    perm = rng.permutation(n)
    return {
        "tmall": ("tb" + pd.Series(10**8 + perm * 37 + 11).astype(str)).to_numpy(),
        "jd": (
            "jd_" + pd.Series(rng.permutation(n) * 7919 + 10**7).map(lambda v: f"{v:x}")
        ).to_numpy(),
        "douyin": ("用户" + pd.Series(rng.permutation(n) * 13 + 10**9).astype(str)).to_numpy(),
        "youzan": cu["phone"].to_numpy(),
        "meituan": pd.Series(rng.permutation(n) * 3 + 2 * 10**9).astype(str).to_numpy(),
    }


PLATFORM_OF = {
    "tmall": "tmall",
    "jd": "jd",
    "douyin": "douyin",
    "miniprogram": "youzan",
    "meituan": "meituan",
}
STREETS = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "文三路",
    "长江路",
    "滨江大道",
    "科技园路",
)
DISTRICTS = ("中心区", "高新区", "滨湖区", "新城区", "老城区")


def _decorate(
    rng: np.random.Generator,
    om: pd.DataFrame,
    w: world.World,
    ident: dict[str, np.ndarray],
    store_name: dict[str, str],
) -> pd.DataFrame:
    cu = w.customers
    c = np.maximum(om["cust"].to_numpy(), 0)
    member = np.where(om["cust"].to_numpy() >= 0, cu["customer_id"].to_numpy()[c], None)
    buyer = np.full(len(om), None, dtype=object)
    ch = om["channel"].to_numpy()
    for channel, plat in PLATFORM_OF.items():
        m = ch == channel
        buyer[m] = ident[plat][c[m]]
    other = rng.random(len(om)) < 0.1
    rname = np.where(other, "张*", cu["name"].to_numpy()[c])
    city = cu["city"].to_numpy()[c]
    addr = (
        pd.Series(np.asarray(DISTRICTS, dtype=object)[rng.integers(0, 5, len(om))])
        + pd.Series(np.asarray(STREETS, dtype=object)[rng.integers(0, 9, len(om))])
        + pd.Series(rng.integers(1, 999, len(om))).astype(str)
        + "号"
    )
    return om.assign(
        member_id=member,
        buyer=buyer,
        rname=rname,
        rphone=cu["phone"].to_numpy()[c],
        city=city,
        province=pd.Series(city).map(world.PROVINCE).to_numpy(),
        address=addr.to_numpy(),
        store_name=pd.Series(
            np.where(ch == "miniprogram", cu["home_store"].to_numpy()[c], om["store_id"].to_numpy())
        )
        .map(store_name)
        .to_numpy(),
    )


def _order_ids(rng: np.random.Generator, orders: pd.DataFrame) -> np.ndarray:
    out = np.empty(len(orders), dtype=object)
    ch = orders["channel"].to_numpy()
    spec: dict[str, tuple[int, int] | None] = {
        "store": None,
        "tmall": (5118, 19),
        "jd": (30, 13),
        "douyin": (69, 19),
        "meituan": (8, 19),
        "miniprogram": None,
    }
    for channel, s in spec.items():
        m = np.flatnonzero(ch == channel)
        if channel == "store":
            out[m] = ("P" + pd.Series(np.arange(m.size) + 1).astype(str).str.zfill(11)).to_numpy()
        elif channel == "miniprogram":
            t = orders["ordered_at"].iloc[m].dt.strftime("E%Y%m%d%H%M%S")
            out[m] = (
                t + pd.Series(np.arange(m.size) % 10**6, index=t.index).astype(str).str.zfill(6)
            ).to_numpy()
        elif s is not None:
            out[m] = _ids(rng, m.size, s[0], s[1])
    return out


def _month_keys(start: date, end: date) -> list[str]:
    return sorted({f"{start + timedelta(days=i):%Y%m}" for i in range((end - start).days + 1)})


def generate(
    out_dir: Path,
    *,
    seed: int = 7,
    customers: int = 50_000,
    days: int = 730,
    stores: int = 30,
    skus: int = 320,
    end: date = date(2026, 11, 15),
    progress: Progress | None = None,
) -> GroundTruth:
    """Generate the demo world into ``out_dir``; same arguments, same bytes.

    Args:
        out_dir: workspace folder to create (exports/, truth/, luopan.yaml, ground_truth.json).
        seed: random seed; every random draw descends from it.
        customers, days, stores, skus: world size; ``days`` ends at ``end`` (inclusive).
        progress: called as ``progress(stage, fraction)`` with fraction in [0, 1].

    Returns:
        The ground truth also written to ``ground_truth.json``.
    """
    report = progress or (lambda stage, frac: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(12)]
    start = end - timedelta(days=days - 1)
    report("world", 0.0)
    cal = build_calendar(start, end, history_days=HISTORY_DAYS)
    w = world.make_world(
        streams[0],
        customers=customers,
        stores=stores,
        skus=skus,
        start=start,
        end=end,
        history_days=HISTORY_DAYS,
    )
    report("orders", 0.05)
    plan = plan_orders(streams[1], w, cal)
    prices = baskets.plan_prices(streams[2], w.products, cal)
    camp = campaigns.plan_campaigns(cal)
    treated = set(
        int(i) for i in np.flatnonzero(w.customers["customer_id"].isin(plan.recall["treated_ids"]))
    )
    orders = plan.orders
    orders["campaign_id"] = campaigns.attribute(streams[3], orders, camp, cal, treated)
    orders["order_id"] = _order_ids(streams[3], orders)
    ident = _identities(streams[3], w.customers)
    store_name = dict(zip(w.stores["store_id"], w.stores["name"], strict=True))
    aff_ids = w.customers["acquisition_channel"].to_numpy() == "小红书"
    # inventory simulation from the expected store-fulfilled demand
    n_sku = len(w.products)
    day0 = cal.index(start)
    fulfil = orders["channel"].isin(["store", "meituan"]).to_numpy()
    store_idx = {s: i for i, s in enumerate(w.stores["store_id"])}
    mu = np.zeros(len(w.stores))
    np.add.at(
        mu,
        orders.loc[fulfil, "store_id"].map(store_idx).to_numpy(),
        orders.loc[fulfil, "spend"].to_numpy()
        / baskets.LINE_VALUE
        / cal.intensity["store"][orders.loc[fulfil, "day"].to_numpy()],
    )
    mu /= days
    base_rate = np.outer(mu, w.products["weight"].to_numpy()) * (1 + baskets.QTY_EXTRA)
    sim = InventorySim(
        streams[4], base_rate.ravel(), w.products["shelf_life_days"].to_numpy(), len(w.stores)
    )
    keys = _month_keys(start, end)
    pick = lambda i: keys[min(i, len(keys) - 1)]  # noqa: E731
    dirt = DirtPlan(
        tmall_bad_number=pick(1),
        tmall_bad_date=pick(2),
        tmall_duplicates=pick(3),
        tmall_orphan=pick(1),
        meituan_float_id=pick(2),
        douyin_truncated=pick(0),
    )
    ledger = Ledger(out_dir)
    late_cutoff = pd.Timestamp(end - timedelta(days=LATE_DAYS - 1))
    end_ts = pd.Timestamp(end) + pd.Timedelta(days=1)
    month_of = orders["ordered_at"].dt.strftime("%Y%m").to_numpy()
    keep_from = cal.n_days - INVENTORY_DAYS
    inv_flows: list[dict] = []
    sku_codes = w.products["sku"].to_numpy()
    for mi, key in enumerate(keys):
        report("orders", 0.05 + 0.6 * mi / len(keys))
        chunk = orders[month_of == key].reset_index(drop=True)
        aff = aff_ids[np.maximum(chunk["cust"].to_numpy(), 0)] & (chunk["cust"].to_numpy() >= 0)
        lines = baskets.build_lines(streams[5], chunk, w.products, prices, day0, aff)
        mdays = np.unique(chunk["day"].to_numpy())
        lines, flows = censor(chunk, lines, sim, store_idx, n_sku, mdays, keep_from)
        inv_flows += flows
        om, lm = settle(streams[6], chunk, lines, end_ts)
        om = _decorate(streams[6], om, w, ident, store_name)
        lm = lm.assign(
            order_id=om["order_id"].to_numpy()[lm["row"].to_numpy()],
            sku=sku_codes[lm["sku"].to_numpy()],
            name=w.products["name"].to_numpy()[lm["sku"].to_numpy()],
        )
        exports.export_month(ledger, streams[7], key, mi, om, lm, dirt, late_cutoff)
    report("operations", 0.7)
    landed = pd.concat(ledger.landed_orders, ignore_index=True)
    truth = statics.write_all(
        ledger,
        streams[8],
        w=w,
        cal=cal,
        prices=prices,
        camp=camp,
        landed=landed,
        inv_flows=inv_flows,
        base_rate=base_rate,
        plan=plan,
        ident=ident,
        seed=seed,
        sizes={"customers": customers, "stores": stores, "skus": skus},
        late=(LATE_DAYS, late_cutoff),
        events_rng=streams[9],
        report=report,
    )
    text = (
        json.dumps(truth.model_dump(mode="json"), ensure_ascii=False, indent=1, sort_keys=True)
        + "\n"
    )
    (out_dir / "ground_truth.json").write_text(text, encoding="utf-8")
    report("done", 1.0)
    return GroundTruth.model_validate_json(text)  # exactly what the file says


__all__ = ["generate"]
