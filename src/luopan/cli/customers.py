"""``luopan customers rfm|clv|churn|recall|health`` on the workspace's warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from luopan.cli._outreach import plan_outreach, recall_headers
from luopan.cli.clv import clv_payload, console, export_table, label, render_clv
from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.engines.customers.churn import ChurnModel
from luopan.engines.customers.clv import fit_clv
from luopan.engines.customers.economics import unit_economics
from luopan.engines.customers.health import health_by_segment
from luopan.engines.customers.recall import recall_list
from luopan.engines.customers.rfm import rfm_segments
from luopan.engines.customers.summary import summarize_transactions
from luopan.tables import channel_name
from luopan.warehouse.customer_reads import (
    workspace_complaints,
    workspace_items,
    workspace_orders,
    workspace_regions,
    workspace_table,
)


def rule_fires(values: list[float], *, threshold: float = 65.0, weeks: int = 3) -> bool:
    """True when the last ``weeks`` values are all below ``threshold``."""
    return len(values) >= weeks and all(v < threshold for v in values[-weeks:])


def _region(segment: object, lang: str) -> str:
    """A region as shown: the customers without one ("—" in the reads) are named."""
    return label("region_unknown", lang) if segment == "—" else str(segment)


def register(app: typer.Typer) -> None:
    customers_app = typer.Typer(
        help="Customer intelligence on the workspace. 用户运营。", no_args_is_help=True
    )
    app.add_typer(customers_app, name="customers")

    @customers_app.command("rfm")
    def customers_rfm(
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
        csv: Path | None = typer.Option(
            None, "--csv", help="write per-customer segments / 输出客户分群"
        ),
    ) -> None:
        """RFM scores and named segments of the workspace's customers. RFM 客户分群。

        Example / 示例: luopan customers rfm -w demo-world
        """
        ws, lang = open_workspace(workspace)
        frame = workspace_orders(ws)
        result = rfm_segments(
            frame, customer_col="customer_id", date_col="day", amount_col="amount"
        )
        if csv is not None:
            result.customers.to_csv(csv, encoding="utf-8-sig")
        if as_json:
            typer.echo(result.segments.to_json(orient="records", force_ascii=False, indent=2))
            return
        table = Table(
            label("segment", lang),
            label("customers", lang),
            label("share", lang),
            label("value_share", lang),
            title=label("rfm_title", lang),
        )
        for row in result.segments.itertuples():
            table.add_row(
                row.name_zh if lang == "zh" else row.name_en,
                f"{row.customers:,}",
                f"{row.customer_share:.1%}",
                f"{row.value_share:.1%}",
            )
        console.print(table)

    @customers_app.command("clv")
    def customers_clv(
        workspace: Path = WORKSPACE_OPTION,
        horizon_days: float = typer.Option(
            365.0, "--horizon-days", help="CLV horizon / CLV 预测期(天)"
        ),
        top: int = typer.Option(10, "--top", help="customers to show / 显示前 N 名"),
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
        csv: Path | None = typer.Option(
            None, "--csv", help="write per-customer predictions / 输出每个客户的预测"
        ),
    ) -> None:
        """BG/NBD + Gamma-Gamma CLV of the workspace's customers. 工作区客户终身价值。

        Example / 示例: luopan customers clv -w demo-world --horizon-days 365
        """
        ws, lang = open_workspace(workspace)
        frame = workspace_orders(ws)
        summary = summarize_transactions(
            frame, customer_col="customer_id", date_col="day", amount_col="amount", time_unit="day"
        )
        result = fit_clv(summary, horizon_days=horizon_days)
        if csv is not None:
            result.predictions.to_csv(csv, encoding="utf-8-sig")
        if as_json:
            typer.echo(json.dumps(clv_payload(result), ensure_ascii=False, indent=2))
            return
        render_clv(result, lang, top)

    @customers_app.command("churn")
    def customers_churn(
        workspace: Path = WORKSPACE_OPTION,
        horizon_days: int = typer.Option(
            45, "--horizon-days", help="churn window / 流失预测窗口(天)"
        ),
        top: int = typer.Option(20, "--top", help="customers to show / 显示前 N 名"),
        active_days: int = typer.Option(
            180,
            "--active-days",
            min=0,
            help="rank only customers who bought in the last N days (0: all) / "
            "仅排列近 N 天内购买过的客户（0：全部）",
        ),
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
        csv: Path | None = typer.Option(
            None, "--csv", help="write every customer's risk / 输出每个客户的流失概率"
        ),
    ) -> None:
        """P(no purchase in the next N days) per customer: an additive spline model on the purchase
        timeline, BG/NBD and the product mix. 流失风险（购买时间线样条模型 + BG/NBD + 商品结构）。

        The list ranks the customers still within reach (a purchase in the last --active-days):
        one gone for two years tops any ranking at P = 1.00 and needs no forecast. --csv writes
        every customer. 列表只排列仍可挽回的客户；--csv 输出全部客户。

        Example / 示例: luopan customers churn -w demo-world --top 20 --active-days 90
        """
        ws, lang = open_workspace(workspace)
        frame = workspace_orders(ws).rename(columns={"customer_id": "customer"})
        items = workspace_items(ws)
        as_of = pd.Timestamp(frame["day"].max())
        model = ChurnModel(horizon_days=horizon_days).fit(frame, as_of, items)
        scored = model.predict_frame(frame, as_of, items).sort_values("p_churn", ascending=False)
        columns = ["p_churn", "p_no_purchase", "p_alive", "recency", "frequency", "monetary"]
        if csv is not None:
            scored[columns].to_csv(csv, encoding="utf-8-sig")
        if active_days > 0:
            scored = scored[scored["recency"] <= active_days]
        if as_json:
            out = scored[columns].head(top).reset_index()
            typer.echo(out.to_json(orient="records", force_ascii=False, indent=2))
            return
        table = Table(
            label("customer", lang),
            label("p_churn", lang),
            label("p_alive", lang),
            label("recency", lang),
            label("purchases", lang),
            title=label("churn_title", lang).format(h=horizon_days)
            + f" ({label('as_of', lang)} {as_of:%Y-%m-%d})",
            caption=label("churn_active", lang).format(d=active_days, n=len(scored))
            if active_days > 0
            else None,
        )
        for cid, row in scored.head(top).iterrows():
            table.add_row(
                str(cid),
                f"{row.p_churn:.2f}",
                f"{row.p_alive:.2f}",
                f"{row.recency:.0f}",
                f"{row.frequency + 1:.0f}",
            )
        console.print(table)

    @customers_app.command("recall")
    def customers_recall(
        workspace: Path = WORKSPACE_OPTION,
        horizon_days: int = typer.Option(
            45, "--horizon-days", help="churn window / 流失预测窗口(天)"
        ),
        p_respond: float = typer.Option(0.2, "--p-respond", help="response probability / 响应概率"),
        contact_cost: float = typer.Option(
            0.5, "--contact-cost", help="cost per contact / 单次触达成本"
        ),
        holdout_share: float = typer.Option(
            0.2, "--holdout", help="random holdout share / 随机留出比例"
        ),
        max_margin_share: float = typer.Option(
            0.5, "--max-margin-share", help="coupon ≤ this share of margin / 券额不超过毛利的比例"
        ),
        seed: int = typer.Option(0, "--seed", help="holdout draw / 留出抽样种子"),
        top: int = typer.Option(20, "--top", help="customers to show / 显示前 N 名"),
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
        csv: Path | None = typer.Option(
            None, "--csv", help="write the whole list (.csv or .xlsx) / 导出完整名单"
        ),
    ) -> None:
        """Recall list: CLV × P(churn) × P(respond) − cost, with channel, offer, products and a
        random holdout. 召回名单（渠道、权益、推荐商品、随机留出）。

        Example / 示例: luopan customers recall -w demo-world --holdout 0.1 --csv > recall.csv
        """
        ws, lang = open_workspace(workspace)
        frame = workspace_orders(ws)
        summary = summarize_transactions(
            frame, customer_col="customer_id", date_col="day", amount_col="amount", time_unit="day"
        )
        clv = fit_clv(summary, horizon_days=365).predictions
        occasions = frame.rename(columns={"customer_id": "customer"})
        items = workspace_items(ws)
        as_of = pd.Timestamp(frame["day"].max())
        churn = ChurnModel(horizon_days=horizon_days).fit(occasions, as_of, items)
        risk = churn.predict_frame(occasions, as_of, items)["p_churn"]
        table_in = clv[["clv"]].join(risk, how="inner")
        result = recall_list(
            table_in,
            p_respond=p_respond,
            contact_cost=contact_cost,
            holdout_share=holdout_share,
            seed=seed,
        )
        result = plan_outreach(ws, result, frame, clv, as_of, max_margin_share=max_margin_share)
        if csv is not None:
            export_table(result, csv, recall_headers(lang))
        if as_json:
            typer.echo(
                result.head(top)
                .reset_index()
                .to_json(orient="records", force_ascii=False, indent=2)
            )
            return
        # a narrow terminal (< 110 columns) gets the columns to act on; --csv has them all
        wide = console.width >= 110
        table = Table(
            title=label("recall_title", lang),
            caption=None if wide else label("recall_narrow", lang),
        )
        table.add_column(label("customer", lang), overflow="fold", min_width=10)
        for key in ("clv", "p_churn", "expected_value")[0 if wide else 1 :]:
            table.add_column(
                label(key, lang), justify="right", min_width=4 if key == "p_churn" else 9
            )
        table.add_column(label("channel_to_reach", lang))
        if wide:
            table.add_column(label("offer", lang))
        table.add_column(label("top_product", lang))
        table.add_column(label("group", lang))
        for cid, row in result.head(top).iterrows():
            product = "" if pd.isna(row.product_name_1) else str(row.product_name_1)
            cells = [
                str(cid),
                *([f"{row.clv:,.2f}"] if wide else []),
                f"{row.p_churn:.2f}",
                f"{row.expected_value:,.2f}",
                str(row.channel_label),
                *([str(row.offer_label)] if wide else []),
                product,
                label(str(row.group), lang),
            ]
            table.add_row(*cells)
        console.print(table)

    @customers_app.command("health")
    def customers_health(
        workspace: Path = WORKSPACE_OPTION,
        weeks: int = typer.Option(6, "--weeks", help="weeks to show / 显示周数"),
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
    ) -> None:
        """User health index 0–100 by week and region, and the 65 × 3 weeks rule. 用户健康度。

        Example / 示例: luopan customers health -w demo-world --weeks 12
        """
        ws, lang = open_workspace(workspace)
        frame = workspace_orders(ws).rename(columns={"customer_id": "customer"})
        last = pd.Timestamp(frame["day"].max())
        cutoffs = [last - pd.Timedelta(days=7 * k) for k in range(weeks - 1, -1, -1)]
        table_out = health_by_segment(
            frame, workspace_regions(ws), cutoffs, complaints=workspace_complaints(ws)
        )
        wide = table_out.pivot(index="segment", columns="cutoff", values="health")
        fired = [seg for seg, row in wide.iterrows() if rule_fires(row.dropna().tolist())]
        if as_json:
            doc = {
                "weeks": [f"{c:%Y-%m-%d}" for c in wide.columns],
                "rule_fired": fired,
                "health": {str(k): [round(float(v), 2) for v in row] for k, row in wide.iterrows()},
            }
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
            return
        table = Table(
            label("segment", lang),
            *[f"{c:%m-%d}" for c in wide.columns],
            title=label("health_title", lang),
        )
        for seg, row in wide.iterrows():
            table.add_row(_region(seg, lang), *["" if pd.isna(v) else f"{v:.1f}" for v in row])
        console.print(table)
        if fired:
            names = ", ".join(_region(seg, lang) for seg in fired)
            console.print(f"[red]{label('rule_fired', lang)}[/] {names}")

    @customers_app.command("economics")
    def customers_economics(
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
        csv: Path | None = typer.Option(
            None, "--csv", help="write channel × month / 导出渠道×月份明细"
        ),
    ) -> None:
        """CAC, LTV and LTV/CAC by acquisition channel (LTV > 3 × CAC). 获客成本与终身价值。

        Example / 示例: luopan customers economics -w demo-world
        """
        ws, lang = open_workspace(workspace)
        orders = workspace_orders(ws)
        summary = summarize_transactions(
            orders, customer_col="customer_id", date_col="day", amount_col="amount", time_unit="day"
        )
        future = fit_clv(summary, horizon_days=365).predictions["clv"]
        past = orders.groupby("customer_id")["amount"].sum()
        value = past.add(future, fill_value=0.0)  # LTV = net spend to date + CLV of next year
        customers = workspace_table(
            ws,
            "customers",
            {
                "customer": "customer_id",
                "channel": "acquisition_channel",
                "acquired_at": "first_seen_at",
            },
        )
        spend = workspace_table(
            ws, "marketing_spend", {"date": "date", "channel": "channel", "spend": "spend"}
        )
        result = unit_economics(customers.dropna(subset=["channel"]), spend, value)
        if csv is not None:
            result.by_month.to_csv(csv, index=False, encoding="utf-8-sig")
        table_out = result.by_channel
        if as_json:
            typer.echo(table_out.to_json(orient="records", force_ascii=False, indent=2))
            return
        table = Table(
            label("channel", lang),
            label("new_customers", lang),
            label("spend", lang),
            "CAC",
            "LTV",
            "LTV/CAC",
            title=label("economics_title", lang),
        )
        for row in table_out.itertuples():
            ok = "" if row.healthy is None else ("✓" if row.healthy else "✗ < 3")
            cac = "—" if pd.isna(row.cac) else f"{row.cac:,.2f}"
            ratio = "—" if pd.isna(row.ltv_cac) else f"{row.ltv_cac:,.1f} {ok}"
            table.add_row(
                channel_name(row.channel, lang),
                f"{row.new_customers:,.0f}",
                f"{row.spend:,.2f}",
                cac,
                f"{row.ltv:,.2f}",
                ratio,
            )
        console.print(table)
