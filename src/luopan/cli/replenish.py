"""``luopan replenish plan|backtest`` and ``luopan forecast`` on a daily sales file.

The sales file (one row per store × SKU × day, column names as options) is read by
``_replenish_sales``; days missing for a series count as zero sales.

``--exog`` (off by default, because the global GBM it adds refits at every CV origin) reads
the calendar of those store × SKU series from the warehouse of ``-w`` (``_replenish_data``:
prices, promotion flags, campaigns; rows after the last sale are the planned calendar) and
passes it to ``DemandForecaster`` with the future rows (``engines.replenish.exog``); the
backtest gives each refit the calendar known ``--known-ahead`` days ahead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from luopan.cli._replenish_data import calendar_for
from luopan.cli._replenish_sales import fit_forecast, sales_history
from luopan.cli.common import WORKSPACE_OPTION
from luopan.engines.replenish import backtest, plan_orders
from luopan.errors import DataContractError
from luopan.i18n import language

console = Console()
KEYS = ("unique_id", "ds")

LABELS: dict[str, dict[str, str]] = {
    "plan_title": {
        "zh": "补货建议 · 到货覆盖 {d} 起 {n} 天",
        "en": "purchase suggestions · cover {n} days from {d}",
    },
    "forecast_title": {"zh": "需求预测", "en": "demand forecast"},
    "backtest_title": {
        "zh": "补货回测（同一满足率 {f:.0%} 下比较）",
        "en": "replenishment backtest (compared at fill rate {f:.0%})",
    },
    "series": {"zh": "门店_商品", "en": "store_sku"},
    "date": {"zh": "日期", "en": "date"},
    "mean": {"zh": "预测均值", "en": "forecast mean"},
    "interval": {"zh": "80% 区间", "en": "80% interval"},
    "model": {"zh": "模型", "en": "model"},
    "service_level": {"zh": "服务水平", "en": "service level"},
    "demand": {"zh": "覆盖期需求", "en": "demand over cover"},
    "order_up_to": {"zh": "目标库存", "en": "order-up-to"},
    "position": {"zh": "库存头寸", "en": "inventory position"},
    "order_qty": {"zh": "建议订货", "en": "order qty"},
    "reason": {"zh": "原因", "en": "reason"},
    "policy": {"zh": "策略", "en": "policy"},
    "fill_rate": {"zh": "满足率", "en": "fill rate"},
    "stockout_rate": {"zh": "缺货天占比", "en": "stock-out days"},
    "waste_rate": {"zh": "损耗率", "en": "waste rate"},
    "days_of_inventory": {"zh": "库存天数", "en": "days of inventory"},
    "forecast": {"zh": "预测+分位数补货", "en": "forecast quantile"},
    "forecast_buffer": {"zh": "预测+比例缓冲", "en": "forecast + buffer"},
    "naive": {"zh": "朴素(上周销量+缓冲)", "en": "naive (last week + buffer)"},
    "below_order_up_to": {"zh": "低于目标库存", "en": "below order-up-to"},
    "below_order_up_to_expiring": {
        "zh": "低于目标库存(含临期)",
        "en": "below order-up-to (expiring stock)",
    },
    "covered": {"zh": "库存充足", "en": "covered"},
    "overstock": {"zh": "库存过多", "en": "overstock"},
    "change": {"zh": "预测策略相对朴素策略", "en": "forecast policy vs naive"},
}


def label(key: str, lang: str) -> str:
    return LABELS[key]["en" if lang == "en" else "zh"]


def _emit(
    frame: pd.DataFrame, as_json: bool, as_csv: bool, extra: dict[str, Any] | None = None
) -> bool:
    if as_json:
        payload: dict[str, Any] = {
            "rows": json.loads(frame.to_json(orient="records", date_format="iso"))
        }
        payload.update(extra or {})
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return True
    if as_csv:
        typer.echo(frame.to_csv(index=False), nl=False)
        return True
    return False


SALES = typer.Argument(..., help="daily sales file (CSV/Parquet) / 日销量文件")
DATE_COL = typer.Option("date", "--date-col", help="date column / 日期列")
STORE_COL = typer.Option("store_id", "--store-col", help="store column / 门店列")
SKU_COL = typer.Option("sku", "--sku-col", help="SKU column / 商品列")
QTY_COL = typer.Option("quantity", "--qty-col", help="units sold column / 销量列")
STOCKOUT_COL = typer.Option(
    None, "--stockout-col", help="stock-out hours column: unconstrain demand / 缺货小时列"
)
EXOG = typer.Option(
    False,
    "--exog/--no-exog",
    help=(
        "give the forecaster the warehouse calendar of -w (prices, promotions, campaigns; "
        "planned ones ahead), adding the global GBM; off by default: slower / "
        "使用工作区仓库的价格、促销、活动日历(含已计划的未来促销)并加入全局梯度提升模型；默认关闭：更慢"
    ),
)


def register(app: typer.Typer) -> None:
    rep = typer.Typer(
        help="Replenishment: purchase suggestions and backtests. 智能补货。", no_args_is_help=True
    )
    app.add_typer(rep, name="replenish")

    @app.command("forecast")
    def forecast_cmd(
        sales: Path = SALES,
        date_col: str = DATE_COL,
        store_col: str = STORE_COL,
        sku_col: str = SKU_COL,
        qty_col: str = QTY_COL,
        stockout_col: str | None = STOCKOUT_COL,
        store: str | None = typer.Option(None, "--store", help="one store / 门店"),
        sku: str | None = typer.Option(None, "--sku", help="one SKU / 商品"),
        horizon: int = typer.Option(14, "--horizon", help="days ahead / 预测天数"),
        exog: bool = EXOG,
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="JSON / 输出 JSON"),
        as_csv: bool = typer.Option(False, "--csv", help="CSV / 输出 CSV"),
    ) -> None:
        """Forecast daily demand per store × SKU with quantiles. 按门店×商品预测日需求。

        Example / 示例: luopan forecast daily_sales.csv --store S01 --horizon 14

        --exog -w WS: prices, promotions and campaigns from the workspace warehouse (planned
        ones for the forecast days) and the global GBM as a candidate; off by default (slower).
        --exog -w 工作区：使用仓库中的价格、促销与活动日历（预测期内已计划的促销）并加入全局 GBM；默认关闭（更慢）。
        """
        lang = language(None)
        df, keys = sales_history(
            sales, date_col, store_col, sku_col, qty_col, stockout_col, store, sku
        )
        res, cols = fit_forecast(df, keys, horizon, exog, workspace)
        fc = res.forecasts.assign(model=lambda f: f["unique_id"].map(res.chosen))
        if _emit(fc, as_json, as_csv, {"exog": cols}):
            return
        table = Table(
            label("series", lang),
            label("date", lang),
            label("mean", lang),
            label("interval", lang),
            label("model", lang),
            title=label("forecast_title", lang),
        )
        lo, hi = res.interval(80)
        for _, r in fc.head(60).iterrows():
            table.add_row(
                str(r["unique_id"]),
                f"{r['ds']:%Y-%m-%d}",
                f"{r['mean']:.2f}",
                f"{r[lo]:.1f}–{r[hi]:.1f}",
                str(r["model"]),
            )
        console.print(table)

    @rep.command("plan")
    def plan_cmd(
        sales: Path = SALES,
        date_col: str = DATE_COL,
        store_col: str = STORE_COL,
        sku_col: str = SKU_COL,
        qty_col: str = QTY_COL,
        stockout_col: str | None = STOCKOUT_COL,
        date: str | None = typer.Option(
            None, "--date", help="order date YYYY-MM-DD (default: day after the data) / 下单日"
        ),
        stock: Path | None = typer.Option(
            None,
            "--stock",
            help="CSV: store_id, sku, on_hand[, on_order, expiring, price, cost, salvage] / 库存快照",
        ),
        store: str | None = typer.Option(None, "--store", help="one store / 门店"),
        lead_time: int = typer.Option(1, "--lead-time", help="days / 到货天数"),
        review: int = typer.Option(1, "--review", help="days between orders / 订货周期"),
        service_level: float = typer.Option(
            0.95, "--service-level", help="target quantile / 服务水平"
        ),
        pack_size: float = typer.Option(0.0, "--pack-size", help="units per pack / 箱规"),
        moq: float = typer.Option(0.0, "--moq", help="minimum order / 起订量"),
        exog: bool = EXOG,
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="JSON / 输出 JSON"),
        as_csv: bool = typer.Option(False, "--csv", help="CSV / 输出 CSV"),
    ) -> None:
        """Suggest order quantities per store × SKU. 生成门店×商品的订货建议。

        Example / 示例: luopan replenish plan daily_sales.csv --stock stock.csv --service-level 0.95

        --exog -w WS: forecast with the warehouse calendar (see `luopan forecast`); off by default.
        --exog -w 工作区：用仓库的价格/促销日历预测（见 luopan forecast）；默认关闭。
        """
        lang = language(None)
        df, keys = sales_history(
            sales, date_col, store_col, sku_col, qty_col, stockout_col, store, None
        )
        start = pd.Timestamp(date) if date else df["ds"].max() + pd.Timedelta(days=1)
        # stock on hand in the morning of the order date covers demand until the next delivery
        # after this one: L + R days from the order date
        h = int((start - df["ds"].max()).days) + lead_time + review - 1
        if start <= df["ds"].max():
            raise DataContractError(
                f"--date {date} is inside the sales history", fix="give a later order date"
            )
        res, cols = fit_forecast(df, keys, h, exog, workspace)
        if stock is not None:
            snap = pd.read_csv(stock, dtype={"store_id": str, "sku": str})
            snap["unique_id"] = snap["store_id"] + "_" + snap["sku"]
        else:
            snap = pd.DataFrame({"unique_id": df["unique_id"].unique(), "on_hand": 0.0})
        plan = plan_orders(
            res,
            snap,
            start=start,
            lead_time=lead_time,
            review_period=review,
            service_level=service_level,
            moq=moq,
            pack_size=pack_size,
        )
        orders = plan.orders
        extra = {"date": f"{start:%Y-%m-%d}", "summary": plan.summary(), "exog": cols}
        if _emit(orders, as_json, as_csv, extra):
            return
        cols = [
            "series",
            "service_level",
            "demand",
            "order_up_to",
            "position",
            "order_qty",
            "reason",
        ]
        table = Table(
            *(label(c, lang) for c in cols),
            title=label("plan_title", lang).format(d=f"{start:%Y-%m-%d}", n=lead_time + review),
        )
        for r in orders.sort_values("order_qty", ascending=False).head(60).itertuples():
            table.add_row(
                r.unique_id,
                f"{r.service_level:.0%}",
                f"{r.demand_mean:.1f}",
                f"{r.order_up_to:.1f}",
                f"{r.inventory_position:.1f}",
                f"{r.order_qty:.1f}",
                label(str(r.reason), lang),
            )
        console.print(table)

    @rep.command("backtest")
    def backtest_cmd(
        sales: Path = SALES,
        date_col: str = DATE_COL,
        store_col: str = STORE_COL,
        sku_col: str = SKU_COL,
        qty_col: str = QTY_COL,
        days: int = typer.Option(28, "--days", help="days replayed at the end / 回放天数"),
        shelf_life: int = typer.Option(3, "--shelf-life", help="days / 保质期(天)"),
        lead_time: int = typer.Option(1, "--lead-time", help="days / 到货天数"),
        issuing: str = typer.Option("fifo", "--issuing", help="fifo | lifo / 出货顺序"),
        fill: float = typer.Option(
            0.97, "--service-level", help="fill rate to compare at / 比较的满足率"
        ),
        exog: bool = EXOG,
        known_ahead: int = typer.Option(
            14,
            "--known-ahead",
            help="with --exog: days ahead the promotion calendar is known / 促销日历提前已知天数",
        ),
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="JSON / 输出 JSON"),
    ) -> None:
        """Replay history: forecast policy vs naive at equal fill rate. 回测补货策略。

        Example / 示例: luopan replenish backtest daily_sales.csv --days 28

        --exog -w WS: each refit sees the warehouse calendar up to its day and the promotions
        of the next --known-ahead days; off by default (the GBM refits every day: slower).
        --exog -w 工作区：每次重拟合使用截至当日的日历及未来 --known-ahead 天内已知的促销；默认关闭（更慢）。
        """
        lang = language(None)
        if issuing not in ("fifo", "lifo"):
            raise typer.BadParameter("--issuing must be fifo or lifo")
        df, keys = sales_history(sales, date_col, store_col, sku_col, qty_col, None, None, None)
        cal = calendar_for(df, keys, workspace, df["ds"].max()) if exog else None
        res = backtest(
            df,
            exog=cal,
            known_ahead=known_ahead,
            horizon=days,
            shelf_life=shelf_life,
            lead_time=lead_time,
            issuing=issuing,  # type: ignore[arg-type]
            target_fill=fill,
        )
        at = res.at_fill.reset_index(names="policy")
        imp = res.improvement()
        if _emit(
            at,
            as_json,
            False,
            {
                "curves": json.loads(res.curves.to_json(orient="records")),
                "improvement": imp,
                "exog": [c for c in (cal.columns if cal is not None else []) if c not in KEYS],
            },
        ):
            return
        kpis = ["fill_rate", "stockout_rate", "waste_rate", "days_of_inventory"]
        table = Table(
            label("policy", lang),
            *(label(k, lang) for k in kpis),
            title=label("backtest_title", lang).format(f=fill),
        )
        for r in at.itertuples():
            table.add_row(
                label(str(r.policy), lang),
                f"{r.fill_rate:.1%}",
                f"{r.stockout_rate:.1%}",
                f"{r.waste_rate:.1%}",
                f"{r.days_of_inventory:.2f}",
            )
        console.print(table)
        console.print(
            f"{label('change', lang)}: {label('waste_rate', lang)} {imp['waste_rate']:+.1%}, "
            f"{label('days_of_inventory', lang)} {imp['days_of_inventory']:+.1%}"
        )
