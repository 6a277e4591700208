"""The demo workspace's ``luopan.yaml`` and the assembly of the ground truth."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import yaml

from luopan.demo.exports import Ledger, write_parquet
from luopan.demo.truth import Btyd, GroundTruth, Ingest, LateSource

CRM_COLUMNS = {
    "customer_id": "会员编号",
    "first_seen_at": "注册时间",
    "phone_hash": "手机号",
    "name_hash": "姓名",
    "city": "城市",
    "region": "大区",
    "acquisition_channel": "注册渠道",
    "member_level": "会员等级",
    "gender": "性别",
    "birth_year": "出生年份",
}

SOURCES: list[dict] = [
    {"name": "pos_orders", "path": "exports/pos/pos_orders_*.parquet", "table": "orders"},
    {
        "name": "pos_order_lines",
        "path": "exports/pos/pos_order_lines_*.parquet",
        "table": "order_lines",
    },
    {
        "name": "tmall_orders",
        "path": "exports/tmall/ExportOrderList_*.csv",
        "preset": "tmall_orders",
        "late_after_hours": 48,
    },
    {
        "name": "tmall_items",
        "path": "exports/tmall/ExportOrderDetailList_*.csv",
        "preset": "tmall_items",
    },
    {"name": "jd_orders", "path": "exports/jd/jd_orders_*.xlsx", "preset": "jd_orders"},
    {
        "name": "douyin_orders",
        "path": "exports/douyin/douyin_orders_*.csv",
        "preset": "douyin_orders",
    },
    {
        "name": "youzan_orders",
        "path": "exports/youzan/youzan_orders_*.csv",
        "preset": "youzan_orders",
    },
    {
        "name": "meituan_orders",
        "path": "exports/meituan/meituan_*.xlsx",
        "preset": "meituan_orders",
        "late_after_hours": 48,
    },
    {
        "name": "crm_members",
        "path": "exports/crm/members.csv",
        "table": "customers",
        "columns": CRM_COLUMNS,
    },
    {
        "name": "erp_products",
        "path": "exports/erp/products.xlsx",
        "table": "products",
        "columns": {
            "sku": "商品编码",
            "name": "商品名称",
            "category": "品类",
            "subcategory": "子品类",
            "brand": "品牌",
            "unit_cost": "成本价",
            "list_price": "零售价",
            "shelf_life_days": "保质期(天)",
        },
    },
    {
        "name": "erp_stores",
        "path": "exports/erp/stores.xlsx",
        "table": "stores",
        "columns": {
            "store_id": "门店编号",
            "name": "门店名称",
            "city": "城市",
            "region": "大区",
            "format": "业态",
            "opened_at": "开业日期",
        },
    },
    {
        "name": "erp_inventory",
        "path": "exports/erp/inventory_*.xlsx",
        "table": "inventory",
        "columns": {
            "date": "日期",
            "store_id": "门店编号",
            "sku": "商品编码",
            "on_hand": "在库数量",
            "on_order": "在途数量",
        },
    },
    {
        "name": "inventory_events",
        "path": "exports/erp/inventory_events.csv",
        "table": "inventory_events",
    },
    {"name": "prices", "path": "exports/prices/prices.parquet", "table": "prices"},
    {"name": "campaigns", "path": "exports/marketing/campaigns.csv", "table": "campaigns"},
    {
        "name": "marketing_spend",
        "path": "exports/marketing/marketing_spend.csv",
        "table": "marketing_spend",
    },
    {"name": "events", "path": "exports/events/events_*.jsonl", "table": "events"},
    {"name": "experiments", "path": "exports/experiments/experiments.csv", "table": "experiments"},
    {"name": "assignments", "path": "exports/experiments/assignments.csv", "table": "assignments"},
    {"name": "mentions", "path": "exports/social/mentions.csv", "table": "mentions"},
    {"name": "communities", "path": "exports/community/communities.csv", "table": "communities"},
    {"name": "content", "path": "exports/content/content.csv", "table": "content"},
    {"name": "tickets", "path": "exports/service/tickets.csv", "table": "tickets"},
]


def write_yaml(ledger: Ledger, as_of: str) -> None:
    doc = {
        "name": "鲜丰demo生鲜",
        "timezone": "Asia/Shanghai",
        "currency": "CNY",
        "warehouse": "duckdb:///warehouse.duckdb",
        "as_of": as_of,
        "sources": SOURCES,
    }
    (ledger.root / "luopan.yaml").write_text(
        yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
    )


def finish(
    ledger: Ledger,
    *,
    w,
    cal,
    prices,
    base_rate,
    plan,
    ident,
    seed,
    sizes,
    late,
    inv_truth,
    ev_truth,
    roi_truth,
    crisis,
    com_truth,
    con_truth,
    extras,
) -> GroundTruth:
    write_yaml(ledger, f"{cal.end.isoformat()} 23:59:59")
    truth_dir = ledger.root / "truth"
    cu = w.customers
    cust = cu[
        [
            "customer_id",
            "first_seen_at",
            "region",
            "home_store",
            "home_channel",
            "second_channel",
            "acquisition_channel",
            "lam",
            "p_drop",
            "nu",
        ]
    ].copy()
    for plat, ids in ident.items():
        cust[f"{plat}_buyer_id"] = ids
    cust["churned_in_wave"] = cust["customer_id"].isin(plan.churn["churned_ids"])
    write_parquet(truth_dir / "customers.parquet", cust)
    p = w.products
    write_parquet(
        truth_dir / "elasticities.parquet",
        p[
            [
                "sku",
                "category",
                "elasticity",
                "weight",
                "list_price",
                "unit_cost",
                "shelf_life_days",
            ]
        ].reset_index(drop=True),
    )
    n_st, n_sku = base_rate.shape
    write_parquet(
        truth_dir / "demand.parquet",
        pd.DataFrame(
            {
                "store_id": np.repeat(w.stores["store_id"].to_numpy(), n_sku),
                "sku": np.tile(p["sku"].to_numpy(), n_st),
                "base_rate": base_rate.ravel(),
            }
        ),
    )
    lag, cutoff = late
    ingest = Ingest.model_validate(
        {
            "expected_rows": dict(sorted(ledger.rows.items())),
            "quarantined": ledger.quarantined,
            "duplicate_rows": len(ledger.duplicates),
            "duplicates": ledger.duplicates,
            "hostile": ledger.hostile,
            "platform_customers": {
                k: len({i for i in v if i is not None}) for k, v in sorted(ledger.buyers.items())
            },
        }
    )
    churn = {k: v for k, v in plan.churn.items() if k != "churned_ids"}
    churn["recall_response_rate"] = plan.recall["true_response_treated"]
    recall = {
        k: v
        for k, v in plan.recall.items()
        if k not in ("treated_ids", "holdout_ids", "responders")
    }
    recall["experiment_id"] = "EXP-RECALL"
    recall["campaign_id"] = "CP-RECALL"
    recall["true_effect"] = recall["true_response_treated"] - recall["true_response_holdout"]
    recall["window_days"] = 30
    festivals = [
        {
            "name": f.name,
            "start": f.start.isoformat(),
            "end": f.end.isoformat(),
            "multipliers": f.multipliers,
        }
        for f in cal.festivals
    ]
    truth = GroundTruth(
        seed=seed,
        start=cal.start,
        end=cal.end,
        customers=sizes["customers"],
        stores=sizes["stores"],
        skus=sizes["skus"],
        ingest=ingest,
        late_source=LateSource(
            **{
                "source": "meituan_orders",
                "lag_days": lag,
                "newest_date": (cutoff - pd.Timedelta(days=1)).date(),
                "others_newest_date": cal.end,
            }
        ),
        btyd=Btyd(**extras["btyd"], customers_file="truth/customers.parquet"),
        elasticity_mean=float(p["elasticity"].mean()),
        elasticities_file="truth/elasticities.parquet",
        demand_file="truth/demand.parquet",
        weekly_profile={k: list(v) for k, v in extras["weekly"].items()},
        festivals=festivals,
        public_holidays={d.isoformat(): n for d, n in cal.holidays.items()},
        promotions=len(prices.promotions),
        price_changes=len(prices.price_changes),
        dau_drop=ev_truth["dau_drop"],
        dau_by_day=ev_truth["dau_by_day"],
        churn_wave=churn,
        recall=recall,
        experiments=ev_truth["experiments"],
        low_roi_campaign=roi_truth,
        crisis=crisis,
        overpromoted_group=com_truth,
        content=con_truth,
        category_affinity=extras["affinity"],
        inventory={
            **inv_truth,
            "days_written": inv_truth["days"],
            "note": "positions for the last days only; demand beyond stock is lost",
        },
    )
    _ = timedelta
    return truth
