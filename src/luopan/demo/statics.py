"""Everything written after the order months: master data, operations sources, truth files."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from luopan.demo import campaigns, events, social, workspace
from luopan.demo.baskets import AFFINITY_CATEGORY, AFFINITY_MULTIPLIER, AFFINITY_SEGMENT
from luopan.demo.calendar import WEEKLY
from luopan.demo.exports import HOSTILE, Ledger, write_csv, write_parquet
from luopan.demo.truth import GroundTruth
from luopan.demo.world import BTYD
from luopan.demo.xlsx import write_xlsx


def _crm(ledger: Ledger, rng: np.random.Generator, cu: pd.DataFrame) -> None:
    df = pd.DataFrame(
        {
            "会员编号": cu["customer_id"],
            "注册时间": cu["first_seen_at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "手机号": cu["phone"],
            "姓名": cu["name"],
            "城市": cu["city"],
            "大区": cu["region"],
            "注册渠道": cu["acquisition_channel"],
            "会员等级": cu["member_level"],
            "性别": cu["gender"],
            "出生年份": cu["birth_year"],
        }
    )
    path = ledger.root / "exports" / "crm" / "members.csv"
    n = len(df)
    dups = sorted(rng.choice(n, size=2, replace=False).tolist())
    conflict = int(rng.integers(n))
    bad = df.iloc[[conflict]].copy()
    bad["会员等级"] = "黑金" if bad["会员等级"].iat[0] != "黑金" else "普通会员"
    bad["城市"] = "乌鲁木齐"
    out = pd.concat([df, df.iloc[dups], bad], ignore_index=True)
    write_csv(path, out, encoding="utf-8-sig")
    for k, r in enumerate(dups):
        ledger.duplicates.append(
            {
                "source": "crm_members",
                "file": ledger.rel(path),
                "line": n + 2 + k,
                "duplicate_of_line": r + 2,
            }
        )
    ledger.quarantine(
        "crm_members",
        path,
        n + 4,
        "duplicate_key",
        f"会员编号 {df['会员编号'].iat[conflict]} repeats line {conflict + 2} with a "
        "different 会员等级/城市; the first row is kept",
    )
    ledger.add("customers", n)


def _erp(ledger: Ledger, w, inv_flows: list[dict], cal) -> dict:
    ex = ledger.root / "exports" / "erp"
    p = w.products
    write_xlsx(
        ex / "products.xlsx",
        pd.DataFrame(
            {
                "商品编码": p["sku"],
                "商品名称": p["name"],
                "品类": p["category"],
                "子品类": p["subcategory"],
                "品牌": p["brand"],
                "成本价": p["unit_cost"],
                "零售价": p["list_price"],
                "保质期(天)": p["shelf_life_days"],
            }
        ),
        numeric={"成本价", "零售价", "保质期(天)"},
        sheet="商品档案",
    )
    ledger.add("products", len(p))
    s = w.stores
    write_xlsx(
        ex / "stores.xlsx",
        pd.DataFrame(
            {
                "门店编号": s["store_id"],
                "门店名称": s["name"],
                "城市": s["city"],
                "大区": s["region"],
                "业态": s["format"],
                "开业日期": pd.to_datetime(s["opened_at"]).dt.strftime("%Y-%m-%d"),
            }
        ),
        sheet="门店",
    )
    ledger.add("stores", len(s))
    n_sku, n_st = len(p), len(s)
    store_col = np.repeat(s["store_id"].to_numpy(), n_sku)
    sku_col = np.tile(p["sku"].to_numpy(), n_st)
    frames, evs = [], []
    waste_total = lost_total = 0
    for f in inv_flows:
        day = cal.day(f["day"])
        frames.append(
            pd.DataFrame(
                {
                    "日期": f"{day:%Y-%m-%d}",
                    "门店编号": store_col,
                    "商品编码": sku_col,
                    "在库数量": f["on_hand"],
                    "在途数量": f["on_order"],
                }
            )
        )
        lost_total += int((f["demand"] - f["sold"]).sum())
        for kind, col, reason in (
            ("receipt", "received", "采购入库"),
            ("waste", "waste", "过期报损"),
            ("loss", "loss", "损耗"),
        ):
            m = np.flatnonzero(f[col] > 0)
            waste_total += int(f[col][m].sum()) if kind == "waste" else 0
            secs = {"receipt": 6 * 3600, "waste": 7 * 3600, "loss": 21 * 3600}[kind]
            evs.append(
                pd.DataFrame(
                    {
                        "occurred_at": f"{day:%Y-%m-%d} " + str(timedelta(seconds=secs)).zfill(8),
                        "store_id": store_col[m],
                        "sku": sku_col[m],
                        "event_type": kind,
                        "quantity": f[col][m] if kind == "receipt" else -f[col][m],
                        "reason": reason,
                    }
                )
            )
    inv = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for key, part in inv.groupby(inv["日期"].str.slice(0, 7), sort=True) if len(inv) else []:
        write_xlsx(
            ex / f"inventory_{key.replace('-', '')}.xlsx",
            part,
            numeric={"在库数量", "在途数量"},
            sheet="库存日报",
        )
    ledger.add("inventory", len(inv))
    ev = (
        pd.concat(evs, ignore_index=True)
        if evs
        else pd.DataFrame(
            columns=["occurred_at", "store_id", "sku", "event_type", "quantity", "reason"]
        )
    )
    ev.insert(0, "event_id", ["IE" + str(i + 1).zfill(9) for i in range(len(ev))])
    write_csv(ex / "inventory_events.csv", ev)
    ledger.add("inventory_events", len(ev))
    return {
        "days": len(inv_flows),
        "first_date": cal.day(inv_flows[0]["day"]) if inv_flows else None,
        "waste_units": waste_total,
        "lost_sales_units": lost_total,
        "rows": len(inv),
    }


def write_all(
    ledger: Ledger,
    rng: np.random.Generator,
    *,
    w,
    cal,
    prices,
    camp,
    landed,
    inv_flows,
    base_rate,
    plan,
    ident,
    seed,
    sizes,
    late,
    events_rng,
    report,
) -> GroundTruth:
    ex = ledger.root / "exports"
    cu = w.customers
    _crm(ledger, rng, cu)
    inv_truth = _erp(ledger, w, inv_flows, cal)
    report("operations", 0.75)
    # prices: one national price list per SKU and day
    n_days, n_sku = prices.price.shape
    pr = pd.DataFrame(
        {
            "date": np.repeat([cal.start + timedelta(days=i) for i in range(n_days)], n_sku),
            "sku": np.tile(w.products["sku"].to_numpy(), n_days),
            "store_id": "ALL",
            "price": prices.price.ravel(),
            "is_promo": prices.promo.ravel(),
        }
    )
    write_parquet(ex / "prices" / "prices.parquet", pr)
    ledger.add("prices", len(pr))
    spend, camp_table, roi_truth = campaigns.spend(rng, camp, landed, cal)
    write_csv(ex / "marketing" / "campaigns.csv", camp_table)
    write_csv(ex / "marketing" / "marketing_spend.csv", spend)
    ledger.add("campaigns", len(camp_table))
    ledger.add("marketing_spend", len(spend))
    # events and experiments
    report("events", 0.8)
    member = plan.orders["cust"].to_numpy()
    last = np.full(len(cu), -1, dtype=np.int64)
    np.maximum.at(last, member[member >= 0], plan.orders["day"].to_numpy()[member >= 0])
    window = min(180, (cal.end - cal.start).days + 1)
    ev_truth, exps, assigns, n_events, ev_files = events.simulate_events(
        events_rng, cu, last, cal, window, ex / "events", w.products["sku"].to_numpy(), prices.price
    )
    recall_assign = pd.DataFrame(
        {
            "experiment_id": "EXP-RECALL",
            "unit_id": plan.recall["treated_ids"] + plan.recall["holdout_ids"],
            "variant": ["treatment"] * len(plan.recall["treated_ids"])
            + ["holdout"] * len(plan.recall["holdout_ids"]),
            "assigned_at": pd.Timestamp(plan.recall["recall_date"]) + pd.Timedelta(hours=10),
        }
    )
    exps = pd.concat(
        [
            exps,
            pd.DataFrame(
                [
                    {
                        "experiment_id": "EXP-RECALL",
                        "name": "流失会员召回留出组",
                        "hypothesis": "召回短信+券让流失会员30天内回购",
                        "primary_metric": "return_within_30d",
                        "guardrails": "[]",
                        "start_date": plan.recall["recall_date"],
                        "end_date": plan.recall["recall_date"] + timedelta(days=30),
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    assigns = pd.concat([assigns, recall_assign], ignore_index=True)
    write_csv(ex / "experiments" / "experiments.csv", exps)
    write_csv(ex / "experiments" / "assignments.csv", assigns)
    ledger.add("experiments", len(exps))
    ledger.add("assignments", len(assigns))
    ledger.add("events", n_events)
    report("social", 0.9)
    # mentions (hostile texts, duplicates)
    mdf, crisis, hostile_rows, dup_src = social.mentions(
        rng, cal, len(cu), list(w.stores["name"]), list(w.products["name"].str.split(" ").str[0])
    )
    burst = mdf.pop("burst")
    crisis["n_mentions"] = int(burst.sum())
    path = ex / "social" / "mentions.csv"
    out = pd.concat([mdf, mdf.iloc[dup_src]], ignore_index=True)
    write_csv(path, out)
    ledger.add("mentions", len(mdf))
    for k, r in enumerate(dup_src):
        ledger.duplicates.append(
            {
                "source": "mentions",
                "file": ledger.rel(path),
                "line": len(mdf) + 2 + k,
                "duplicate_of_line": r + 2,
            }
        )
    for r in hostile_rows:
        ledger.hostile.append(
            {
                "source": "mentions",
                "file": ledger.rel(path),
                "line": r + 2,
                "field": "text",
                "value": mdf["text"].iat[r],
                "expected": "loaded verbatim as text, never executed",
            }
        )
    com, com_truth = social.communities(rng, cal, w.stores)
    write_csv(ex / "community" / "communities.csv", com)
    ledger.add("communities", len(com))
    con, con_truth = social.content(rng, cal)
    con[HOSTILE[0]] = ""
    write_csv(ex / "content" / "content.csv", con)
    ledger.hostile.append(
        {
            "source": "content",
            "file": "exports/content/content.csv",
            "line": 1,
            "field": "<header>",
            "value": HOSTILE[0],
            "expected": "an unmapped extra column: ignored, never in SQL text",
        }
    )
    ledger.add("content", len(con))
    crisis_day = (crisis["start"].date() - cal.start).days
    tk = social.tickets(rng, landed, cu["customer_id"].to_numpy(), cal, crisis_day)
    tpath = ex / "service" / "tickets.csv"
    tdup = sorted(rng.choice(len(tk), size=2, replace=False).tolist())
    write_csv(tpath, pd.concat([tk, tk.iloc[tdup]], ignore_index=True))
    for k, r in enumerate(tdup):
        ledger.duplicates.append(
            {
                "source": "tickets",
                "file": ledger.rel(tpath),
                "line": len(tk) + 2 + k,
                "duplicate_of_line": r + 2,
            }
        )
    ledger.add("tickets", len(tk))
    # customers created from platform buyers
    for ids in ledger.buyers.values():
        ledger.add("customers", len({i for i in ids if i is not None}))
    return workspace.finish(
        ledger,
        w=w,
        cal=cal,
        prices=prices,
        base_rate=base_rate,
        plan=plan,
        ident=ident,
        seed=seed,
        sizes=sizes,
        late=late,
        inv_truth=inv_truth,
        ev_truth=ev_truth,
        roi_truth=roi_truth,
        crisis=crisis,
        com_truth=com_truth,
        con_truth=con_truth,
        extras={
            "btyd": BTYD,
            "weekly": WEEKLY,
            "affinity": {
                "segment": AFFINITY_SEGMENT,
                "category": AFFINITY_CATEGORY,
                "multiplier": AFFINITY_MULTIPLIER,
                "n_customers": int((cu["acquisition_channel"] == "小红书").sum()),
            },
        },
    )
