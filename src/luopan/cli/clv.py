"""``luopan clv fit``: BG/NBD + Gamma-Gamma on any transaction file (CSV, Parquet, Excel).

Also holds the labels and renderers the workspace commands (``luopan customers``) share.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from luopan.engines.customers.clv import ClvResult, fit_clv
from luopan.engines.customers.summary import summarize_transactions
from luopan.errors import SourceError
from luopan.i18n import language

console = Console()

LABELS: dict[str, dict[str, str]] = {
    "clv_title": {
        "zh": "客户终身价值 (BG/NBD + Gamma-Gamma)",
        "en": "customer lifetime value (BG/NBD + Gamma-Gamma)",
    },
    "model": {"zh": "模型", "en": "model"},
    "parameter": {"zh": "参数", "en": "parameter"},
    "estimate": {"zh": "估计值", "en": "estimate"},
    "std_error": {"zh": "标准误", "en": "std. error"},
    "log_likelihood": {"zh": "对数似然", "en": "log-likelihood"},
    "converged": {"zh": "已收敛", "en": "converged"},
    "not_converged": {"zh": "未收敛", "en": "NOT converged"},
    "customers": {"zh": "客户数", "en": "customers"},
    "repeaters": {"zh": "复购客户", "en": "repeat buyers"},
    "dropped": {
        "zh": "净额为负、不计为购买的购买日",
        "en": "occasions with negative net amount, not counted",
    },
    "holdout_title": {
        "zh": "留出期：按校准期购买次数比较预测与实际",
        "en": "holdout: predicted vs actual by calibration frequency",
    },
    "frequency": {"zh": "校准期复购次数", "en": "calibration repeats"},
    "actual": {"zh": "实际均值", "en": "actual mean"},
    "predicted": {"zh": "预测均值", "en": "predicted mean"},
    "total": {"zh": "合计", "en": "total"},
    "top_title": {"zh": "CLV 最高的客户", "en": "highest-CLV customers"},
    "customer": {"zh": "客户", "en": "customer"},
    "p_alive": {"zh": "存活概率", "en": "P(alive)"},
    "expected_purchases": {"zh": "预期购买次数", "en": "expected purchases"},
    "expected_spend": {"zh": "预期客单价", "en": "expected spend"},
    "clv": {"zh": "CLV(折现)", "en": "CLV (discounted)"},
    "wrote": {"zh": "已写出", "en": "wrote"},
    "rfm_title": {"zh": "RFM 客户分群", "en": "RFM segments"},
    "segment": {"zh": "分群", "en": "segment"},
    "region_unknown": {"zh": "大区未知", "en": "region unknown"},
    "share": {"zh": "客户占比", "en": "customer share"},
    "value_share": {"zh": "金额占比", "en": "value share"},
    "churn_title": {
        "zh": "未来 {h} 天不再购买的风险最高的客户",
        "en": "customers most likely to make no purchase in the next {h} days",
    },
    "p_churn": {"zh": "流失概率", "en": "P(churn)"},
    "recency": {"zh": "距上次购买(天)", "en": "days since last purchase"},
    "purchases": {"zh": "购买次数", "en": "purchases"},
    "as_of": {"zh": "截至", "en": "as of"},
    "churn_active": {
        "zh": "近 {d} 天内购买过的 {n:,} 位客户中排序（--active-days 0：全部客户）",
        "en": "ranked among the {n:,} customers who bought in the last {d} days "
        "(--active-days 0: every customer)",
    },
    "recall_title": {
        "zh": "召回名单（按预期挽回价值排序）",
        "en": "recall list (by expected recovered value)",
    },
    "expected_value": {"zh": "预期挽回价值", "en": "expected recovered value"},
    "group": {"zh": "分组", "en": "group"},
    "contact": {"zh": "触达", "en": "contact"},
    "holdout": {"zh": "留出(不触达)", "en": "holdout (not contacted)"},
    "health_title": {
        "zh": "用户健康度（按周、按地区，近 90 天活跃客户均值）",
        "en": "user health by week and region (mean over customers active in 90 days)",
    },
    "week": {"zh": "周", "en": "week"},
    "channel": {"zh": "获客渠道", "en": "acquisition channel"},
    "new_customers": {"zh": "新客数", "en": "new customers"},
    "spend": {"zh": "营销花费", "en": "marketing spend"},
    "economics_title": {
        "zh": "单位经济：LTV 应大于 3 倍 CAC",
        "en": "unit economics: LTV should exceed 3 × CAC",
    },
    "segment_key": {"zh": "RFM 分群", "en": "RFM segment"},
    "channel_to_reach": {"zh": "触达渠道", "en": "channel"},
    "offer": {"zh": "建议权益", "en": "offer"},
    "coupon": {"zh": "券面额", "en": "coupon value"},
    "threshold": {"zh": "使用门槛", "en": "minimum spend"},
    "product": {"zh": "推荐商品{i}", "en": "product {i}"},
    "product_name": {"zh": "商品名称{i}", "en": "product name {i}"},
    "top_product": {"zh": "首推商品", "en": "top product"},
    "recall_narrow": {
        "zh": "窗口较窄，未显示 CLV 与建议权益列；--csv 输出全部列",
        "en": "narrow terminal: the CLV and offer columns are left out; --csv has every column",
    },
    "reason": {"zh": "推荐理由{i}", "en": "why {i}"},
    "rule_fired": {
        "zh": "⚠ 连续 3 周低于 65：启动召回预案",
        "en": "⚠ below 65 for 3 consecutive weeks: start the recall playbook",
    },
}


def label(key: str, lang: str) -> str:
    return LABELS[key]["en" if lang == "en" else "zh"]


def export_table(frame: pd.DataFrame, path: Path, headers: dict[str, str]) -> None:
    """Write ``frame`` (its index as the first column) as CSV (UTF-8 with BOM, opens in Excel)
    or, when ``path`` ends in .xlsx, as an Excel sheet; columns renamed to ``headers``."""
    out = frame.reset_index().rename(columns=headers)
    if path.suffix.lower() == ".xlsx":
        out.to_excel(path, index=False, sheet_name="luopan")
    else:
        out.to_csv(path, index=False, encoding="utf-8-sig")


def read_transactions(path: Path, columns: list[str]) -> pd.DataFrame:
    """Read CSV (UTF-8 or GB18030, optionally gzip), Parquet or Excel; ID columns as text."""
    if not path.is_file():
        raise SourceError(f"{path}: no such file", fix="give the path of a transaction export")
    suffixes = "".join(path.suffixes).lower()
    dtype = dict.fromkeys(columns[:1], str)  # the customer column
    try:
        if suffixes.endswith(".parquet"):
            return pd.read_parquet(path)
        if suffixes.endswith((".xlsx", ".xls")):
            return pd.read_excel(path, dtype=dtype)
        try:
            return pd.read_csv(path, dtype=dtype, encoding="utf-8-sig")
        except UnicodeDecodeError:
            return pd.read_csv(path, dtype=dtype, encoding="gb18030")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise SourceError(
            f"{path}: cannot be read ({exc})", fix="export as CSV with a header"
        ) from None


def clv_payload(result: ClvResult) -> dict[str, Any]:
    """The JSON document of ``luopan clv fit --json``."""
    s, bg, gg = result.summary, result.purchases, result.spend
    doc: dict[str, Any] = {
        "time_unit": s.time_unit,
        "calibration_end": f"{s.calibration_end:%Y-%m-%d}",
        "customers": len(s.table),
        "repeat_buyers": int((s.table["frequency"] > 0).sum()),
        "dropped_negative_occasions": s.dropped_occasions,
        "bg_nbd": {
            "params": bg.params_.__dict__,
            "std_errors": bg.std_errors_.__dict__,
            "log_likelihood": bg.log_likelihood_,
            "converged": bg.converged_,
        },
        "horizon_days": result.horizon_days,
        "annual_discount_rate": result.annual_discount_rate,
    }
    if gg is not None:
        doc["gamma_gamma"] = {
            "params": gg.params_.__dict__,
            "log_likelihood": gg.log_likelihood_,
            "customers": gg.n_customers_,
            "excluded_non_positive_spend": gg.n_excluded_,
            "converged": gg.converged_,
        }
        doc["total_clv"] = float(result.predictions["clv"].sum())
    if result.holdout is not None:
        h = result.holdout
        doc["holdout"] = {
            "length": h.holdout_length,
            "actual_total": h.actual_total,
            "predicted_total": h.predicted_total,
            "buckets": [b.__dict__ for b in h.buckets],
        }
    return doc


def render_clv(result: ClvResult, lang: str, top: int) -> None:
    s, bg, gg = result.summary, result.purchases, result.spend
    console.rule(f"[bold]{label('clv_title', lang)}[/]")
    console.print(
        f"{label('customers', lang)}: {len(s.table):,}  {label('repeaters', lang)}: "
        f"{int((s.table['frequency'] > 0).sum()):,}  {label('dropped', lang)}: {s.dropped_occasions:,}"
    )
    params = Table(
        label("model", lang),
        label("parameter", lang),
        label("estimate", lang),
        label("std_error", lang),
    )
    for name, value in bg.params_.__dict__.items():
        params.add_row("BG/NBD", name, f"{value:.4f}", f"{getattr(bg.std_errors_, name):.4f}")
    if gg is not None:
        for name, value in gg.params_.__dict__.items():
            params.add_row("Gamma-Gamma", name, f"{value:.4f}", "")
    console.print(params)
    state = label("converged", lang) if bg.converged_ else f"[red]{label('not_converged', lang)}[/]"
    console.print(f"BG/NBD {label('log_likelihood', lang)} {bg.log_likelihood_:,.2f} ({state})")
    if result.holdout is not None:
        h = result.holdout
        table = Table(
            label("frequency", lang),
            label("customers", lang),
            label("actual", lang),
            label("predicted", lang),
            title=label("holdout_title", lang),
        )
        for b in h.buckets:
            table.add_row(
                b.frequency, f"{b.customers:,}", f"{b.actual_mean:.3f}", f"{b.predicted_mean:.3f}"
            )
        table.add_row(
            label("total", lang), "", f"{h.actual_total:,.1f}", f"{h.predicted_total:,.1f}"
        )
        console.print(table)
    if gg is not None and top > 0:
        best = result.predictions.sort_values("clv", ascending=False).head(top)
        table = Table(
            label("customer", lang),
            label("p_alive", lang),
            label("expected_purchases", lang),
            label("expected_spend", lang),
            label("clv", lang),
            title=label("top_title", lang),
        )
        for cid, row in best.iterrows():
            table.add_row(
                str(cid),
                f"{row.p_alive:.2f}",
                f"{row.expected_purchases:.2f}",
                f"{row.expected_spend:,.2f}",
                f"{row.clv:,.2f}",
            )
        console.print(table)


def register(app: typer.Typer) -> None:
    clv_app = typer.Typer(
        help="Customer lifetime value on any transaction file. 客户终身价值。", no_args_is_help=True
    )
    app.add_typer(clv_app, name="clv")

    @clv_app.command("fit")
    def clv_fit(
        transactions: Path = typer.Option(
            ..., "--transactions", help="CSV/Parquet/Excel file / 交易明细文件"
        ),
        customer_col: str = typer.Option(..., "--customer-col", help="customer column / 客户列"),
        date_col: str = typer.Option(..., "--date-col", help="date column / 日期列"),
        amount_col: str | None = typer.Option(None, "--amount-col", help="amount column / 金额列"),
        calibration_end: str | None = typer.Option(
            None,
            "--calibration-end",
            help="YYYY-MM-DD; later purchases form the holdout / 校准期截止日",
        ),
        time_unit: str = typer.Option("day", "--time-unit", help="day | week / 时间单位"),
        horizon_days: float = typer.Option(
            365.0, "--horizon-days", help="CLV horizon / CLV 预测期(天)"
        ),
        discount_rate: float = typer.Option(0.10, "--discount-rate", help="annual / 年折现率"),
        output: Path | None = typer.Option(
            None, "--output", help="write per-customer predictions (CSV) / 输出每个客户的预测"
        ),
        top: int = typer.Option(10, "--top", help="customers to show / 显示前 N 名"),
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
    ) -> None:
        """Fit BG/NBD + Gamma-Gamma on a transaction file. 在交易明细上拟合 CLV 模型。

        Example / 示例: luopan clv fit --transactions orders.csv --customer-col customer_id --date-col ordered_at --amount-col paid_amount
        """
        if time_unit not in ("day", "week"):
            raise typer.BadParameter("--time-unit must be day or week")
        cols = [customer_col, date_col] + ([amount_col] if amount_col else [])
        frame = read_transactions(transactions, cols)
        holdout_end = None
        if calibration_end is not None and date_col in frame.columns:
            last = pd.to_datetime(frame[date_col], errors="coerce").max().normalize()
            if last > pd.Timestamp(calibration_end):  # purchases after it form the holdout
                holdout_end = last
        summary = summarize_transactions(
            frame,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            calibration_end=calibration_end,
            holdout_end=holdout_end,
            time_unit=time_unit,  # type: ignore[arg-type]
        )
        result = fit_clv(summary, horizon_days=horizon_days, annual_discount_rate=discount_rate)
        if output is not None:
            result.predictions.to_csv(output, encoding="utf-8-sig")
        if as_json:
            typer.echo(json.dumps(clv_payload(result), ensure_ascii=False, indent=2))
            return
        lang = language()
        render_clv(result, lang, top)
        if output is not None:
            console.print(f"{label('wrote', lang)} {output}")
