"""``luopan recommend`` (reorder / discover lists on the workspace) and ``luopan recommend-eval``.

IO lives here: the warehouse is read through Ibis (DuckDB), the engine gets plain frames.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.clv import read_transactions
from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.engines.recommend import Columns, evaluate_models, recommend
from luopan.engines.recommend.baselines import OwnHistoryRecommender, PopularityRecommender
from luopan.engines.recommend.collaborative import AlsRecommender, ItemKnnRecommender
from luopan.engines.recommend.discover import DiscoverRecommender
from luopan.engines.recommend.reorder import ReorderRecommender
from luopan.engines.recommend.result import reason_label
from luopan.engines.recommend.rules import (
    BusinessRules,
    consumables_from_products,
    margins_from_products,
    promoted_from_prices,
    unavailable_from_inventory,
)
from luopan.errors import DataContractError, WarehouseError
from luopan.workspace import Workspace

console = Console()

LABELS: dict[str, tuple[str, str]] = {
    "customer": ("客户", "customer"),
    "rank": ("排名", "rank"),
    "sku": ("商品", "SKU"),
    "name": ("名称", "name"),
    "reason": ("推荐理由", "why"),
    "due": ("距回购(天)", "due in (days)"),
    "title_reorder": ("回购推荐", "reorder list"),
    "title_discover": ("新品发现推荐", "discover list"),
    "eval_title": ("推荐评估（时间切分）", "recommendation evaluation (time cut)"),
    "model": ("模型", "model"),
}

#: statuses of an order that is not a purchase
NOT_PURCHASED = ("refunded", "closed", "cancelled")


def _l(key: str, lang: str) -> str:
    zh, en = LABELS[key]
    return en if lang == "en" else zh


def workspace_lines(ws: Workspace) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Purchase lines (customer, sku, time, order, price), customers and products."""
    import ibis

    path = ws.warehouse_path
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse yet", fix="run `luopan ingest` first")
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        o, ln = con.table("orders"), con.table("order_lines")
        paid = o.filter(o.customer_id.notnull() & ~o.status.isin(NOT_PURCHASED))
        lines = (
            paid.join(ln, paid.order_id == ln.order_id)
            .select(
                customer_id=paid.customer_id,
                sku=ln.sku,
                ordered_at=paid.ordered_at,
                order_id=paid.order_id,
                unit_price=ln.unit_price,
            )
            .to_pandas()
        )
        c = con.table("customers")
        keep = [
            x
            for x in ("customer_id", "region", "acquisition_channel", "member_level")
            if x in c.columns
        ]
        customers = (
            c.select(*keep).to_pandas().drop_duplicates("customer_id").set_index("customer_id")
        )
        p = con.table("products")
        wanted = ("sku", "name", "category", "shelf_life_days", "list_price", "unit_cost")
        products = (
            p.select(*[x for x in wanted if x in p.columns])
            .to_pandas()
            .drop_duplicates("sku")
            .set_index("sku")
        )
    finally:
        con.disconnect()
    return lines, customers, products


def workspace_rules(
    ws: Workspace,
    products: pd.DataFrame,
    *,
    recent_days: int = 30,
    promo_weight: float = 0.0,
    margin_weight: float = 0.0,
    recalled: list[str] | None = None,
) -> BusinessRules:
    """Business rules from the warehouse: out of stock on the latest inventory day (when an
    inventory table exists), promotions on the latest price day (when a prices table exists),
    consumables (shelf life known) and margins from products, plus the recalled SKUs given."""
    import ibis
    from ibis.common.exceptions import TableNotFound

    con = ibis.duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        unavailable: frozenset[str] = frozenset()
        promoted: frozenset[str] = frozenset()
        try:
            inv = con.table("inventory")
            latest = inv.filter(inv.date == inv.date.max())
            stock = latest.group_by("sku").aggregate(on_hand=latest.on_hand.sum()).to_pandas()
            unavailable = unavailable_from_inventory(stock.assign(date=0))
        except TableNotFound:
            pass
        try:
            pr = con.table("prices")
            latest_p = pr.filter(pr.date == pr.date.max())
            promo = latest_p.select("date", "sku", "is_promo").to_pandas()
            promoted = promoted_from_prices(promo)
        except TableNotFound:
            pass
    finally:
        con.disconnect()
    consumables = consumables_from_products(products) if "shelf_life_days" in products else None
    return BusinessRules(
        unavailable=unavailable,
        recalled=frozenset(recalled or ()),
        consumables=consumables,
        recent_days=recent_days,
        promoted=promoted,
        margin=margins_from_products(products),
        promo_weight=promo_weight,
        margin_weight=margin_weight,
    )


def register(app: typer.Typer) -> None:
    @app.command("recommend")
    def recommend_cmd(
        workspace: Path = WORKSPACE_OPTION,
        customer: list[str] = typer.Option([], "--customer", help="customer id(s) / 客户编号"),
        segment: str | None = typer.Option(
            None, "--segment", help="acquisition channel or region / 客群（渠道或地区）"
        ),
        kind: str = typer.Option("discover", "--kind", help="reorder | discover / 回购或发现"),
        k: int = typer.Option(10, "--k", "--n", help="list length / 推荐数量"),
        exclude: list[str] = typer.Option(
            [], "--exclude", help="SKUs never to recommend, e.g. recalled / 排除商品（如召回）"
        ),
        recent_days: int = typer.Option(
            30,
            "--recent-days",
            help="skip non-consumables bought in the last N days / N 天内买过的非消耗品不推荐",
        ),
        promo_weight: float = typer.Option(
            0.0, "--promo-weight", help="priority of promoted items (0 = ties) / 促销优先权重"
        ),
        margin_weight: float = typer.Option(
            0.0, "--margin-weight", help="priority of high margin (0 = ties) / 毛利优先权重"
        ),
        no_rules: bool = typer.Option(
            False, "--no-rules", help="raw model ranking, no business rules / 不应用业务规则"
        ),
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
        csv: Path | None = typer.Option(None, "--csv", help="write the lists as CSV / 导出 CSV"),
    ) -> None:
        """Reorder or discover lists per customer. 个性化推荐（回购 / 新品发现）。

        Example / 示例: luopan recommend --customer C000123 --kind reorder -w demo-world
        """
        if kind not in ("reorder", "discover"):
            raise DataContractError(
                f"--kind {kind}: unknown", fix="use --kind reorder or --kind discover"
            )
        ws, lang = open_workspace(workspace)
        lines, customers, products = workspace_lines(ws)
        ids: list[str] | None = list(customer) or None
        if segment is not None:
            hit = customers.index[
                (customers.get("acquisition_channel") == segment)
                | (customers.get("region") == segment)
            ]
            if not len(hit):
                raise DataContractError(
                    f"--segment {segment}: no customer has this channel or region",
                    fix="use a value of customers.acquisition_channel or customers.region",
                )
            ids = [*(ids or []), *map(str, hit)]
        model = DiscoverRecommender(
            context_columns=("acquisition_channel", "region", "member_level")
        )
        rules = (
            None
            if no_rules
            else workspace_rules(
                ws,
                products,
                recent_days=recent_days,
                promo_weight=promo_weight,
                margin_weight=margin_weight,
                recalled=exclude,
            )
        )
        result = recommend(
            lines,
            customers,
            k=k,
            kind=kind,  # type: ignore[arg-type]
            customer_ids=ids,
            exclude_items=exclude,
            model=ReorderRecommender() if kind == "reorder" else model,
            rules=rules,
        )
        table = result.to_table().copy()
        table["name"] = products["name"].reindex(table["sku"]).to_numpy()
        table["why"] = [
            reason_label(r, lang, products["name"].get(b, b) if isinstance(b, str) else None)
            for r, b in zip(table["reason"], table["because_sku"], strict=True)
        ]
        if csv is not None:
            table.to_csv(csv, index=False, encoding="utf-8-sig")
        if as_json:
            typer.echo(table.to_json(orient="records", force_ascii=False, indent=2))
            return
        if csv is not None:
            console.print(f"{len(table):,} → {csv}")
            return
        out = Table(
            _l("customer", lang),
            _l("rank", lang),
            _l("sku", lang),
            _l("name", lang),
            _l("reason", lang),
            *([_l("due", lang)] if kind == "reorder" else []),
            title=_l(f"title_{kind}", lang),
        )
        for row in table.head(200).itertuples():
            due = [] if kind != "reorder" else [f"{row.due_in_days:,.0f}"]
            out.add_row(
                str(row.customer_id), str(row.rank), str(row.sku), str(row.name), row.why, *due
            )
        console.print(out)

    @app.command("recommend-eval")
    def recommend_eval(
        files: list[Path] = typer.Argument(..., help="transaction files / 交易明细文件"),
        cut: str = typer.Option(..., "--cut", help="time cut, e.g. 2011-09-01 / 时间切分点"),
        k: int = typer.Option(10, "--k", help="list length / 推荐列表长度"),
        customer_col: str = typer.Option(
            "customer_id", "--customer-col", help="customer column / 客户列"
        ),
        item_col: str = typer.Option("sku", "--item-col", help="item column / 商品列"),
        time_col: str = typer.Option("ordered_at", "--time-col", help="time column / 时间列"),
        basket_col: str = typer.Option(
            "order_id", "--basket-col", help="basket (order) column / 订单列"
        ),
        quantity_col: str | None = typer.Option(
            None, "--quantity-col", help="drop rows with qty <= 0 / 数量列（去掉数量 ≤ 0 的行）"
        ),
        item_pattern: str | None = typer.Option(
            None, "--item-pattern", help="keep items matching this regex / 只保留匹配该正则的商品"
        ),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    ) -> None:
        """Evaluate reorder / discover lists against baselines. 推荐效果评估（对比基线）。

        Example / 示例: luopan recommend-eval online_retail.csv --cut 2011-09-01
        """
        cols = Columns(customer_col, item_col, time_col, basket_col)
        dtype = [customer_col, item_col, basket_col]
        frames = [read_transactions(f, dtype) for f in files]
        lines = pd.concat(frames, ignore_index=True)
        for c in (item_col, basket_col):
            lines[c] = lines[c].astype(str)
        lines = lines[lines[customer_col].notna()]
        if quantity_col is not None:
            lines = lines[pd.to_numeric(lines[quantity_col], errors="coerce") > 0]
        if item_pattern is not None:
            lines = lines[lines[item_col].str.match(item_pattern)]
        new = evaluate_models(
            {
                "popularity": lambda: PopularityRecommender(columns=cols),
                "als": lambda: AlsRecommender(columns=cols),
                "bm25_item_knn": lambda: ItemKnnRecommender(columns=cols),
                "discover": lambda: DiscoverRecommender(columns=cols),
            },
            lines,
            cut=cut,
            k=k,
            repeats=False,
            columns=cols,
        )
        rep = evaluate_models(
            {
                "popularity": lambda: PopularityRecommender(columns=cols),
                "own_history": lambda: OwnHistoryRecommender(columns=cols),
                "als": lambda: AlsRecommender(columns=cols),
                "reorder": lambda: ReorderRecommender(columns=cols),
            },
            lines,
            cut=cut,
            k=k,
            repeats=True,
            columns=cols,
        )
        if as_json:
            doc = {
                name: {
                    "customers": r.customers,
                    "items": r.items,
                    "models": r.to_table().to_dict("index"),
                }
                for name, r in (("new_to_customer", new), ("repeats_allowed", rep))
            }
            typer.echo(json.dumps(doc, indent=2))
            return
        lang = "en" if __import__("os").environ.get("LUOPAN_LANG") == "en" else "zh"
        for name, r in (("new_to_customer", new), ("repeats_allowed", rep)):
            t = Table(
                _l("model", lang),
                "P@k",
                "R@k",
                "NDCG@k",
                "coverage",
                "pop. bias",
                title=f"{_l('eval_title', lang)} {name} · cut {cut} · {r.customers:,}",
            )
            for m, row in r.to_table().iterrows():
                t.add_row(
                    str(m),
                    f"{row.precision:.3f}",
                    f"{row.recall:.3f}",
                    f"{row.ndcg:.3f}",
                    f"{row.coverage:.3f}",
                    f"{row.popularity_bias:.3f}",
                )
            console.print(t)
