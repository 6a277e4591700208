"""``luopan pricing elasticity|suggest|markdown`` and ``luopan promo simulate|review``.

The warehouse is read through Ibis (``luopan.cli._pricing_data``); the engine
(``luopan.engines.pricing``) gets frames and returns typed results that are rendered here.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from luopan.cli._pricing_labels import label as _l
from luopan.cli.common import WORKSPACE_OPTION, open_workspace

console = Console()


def _emit(frame: pd.DataFrame, as_json: bool, as_csv: bool, extra: dict[str, Any]) -> bool:
    if as_json:
        payload = {"rows": json.loads(frame.to_json(orient="records", date_format="iso"))}
        payload.update(extra)
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
        return True
    if as_csv:
        typer.echo(frame.to_csv(index=False), nl=False)
        return True
    return False


def _ci(lo: float, hi: float, fmt: str = "{:.2f}") -> str:
    if pd.isna(lo):
        return "—"
    return f"{fmt.format(lo)} … {fmt.format(hi)}"


def elasticity_table(t: pd.DataFrame, lang: str, whole: pd.DataFrame | None = None) -> Table:
    """Estimated SKUs first (the precise ones, marked ✓, at the top), then the rest by SKU;
    the caption counts them over ``whole`` (the unfiltered table; default ``t``)."""
    rank = np.where(t["status"] == "ok", np.where(t["precise"].astype(bool), 0, 1), 2)
    t = t.assign(_rank=rank).sort_values(["_rank", "unique_id"], kind="stable")
    w = t if whole is None else whole
    ok = w["status"] == "ok"
    med = w.loc[ok, "elasticity"].median() if ok.any() else float("nan")
    cols = ("sku", "category", "status", "elasticity", "ci", "cat_el", "cross")
    caption = _l("el_caption", lang).format(
        ok=int(ok.sum()), n=len(w), p=int(w["precise"].astype(bool).sum()), m=f"{med:.2f}"
    )
    table = Table(*(_l(c, lang) for c in cols), title=_l("el_title", lang), caption=caption)
    for r in t.itertuples():
        el = "—" if pd.isna(r.elasticity) else f"{r.elasticity:.2f}" + (" ✓" if r.precise else "")
        table.add_row(
            str(r.unique_id),
            str(r.group),
            _l(str(r.status), lang),
            el,
            _ci(r.lower, r.upper),
            f"{r.category_elasticity:.2f}",
            "—" if pd.isna(r.cross_elasticity) else f"{r.cross_elasticity:+.2f}",
        )
    return table


def select_estimates(
    t: pd.DataFrame, *, sku: str | None = None, estimated: bool = False, precise: bool = False
) -> pd.DataFrame:
    """The rows of the elasticity table to show: one SKU, the estimated ones (status ok) or
    the precise ones (90% interval within ±0.2, which implies estimated)."""
    keep = pd.Series(True, index=t.index)
    if sku is not None:
        keep &= t["unique_id"] == sku
    if estimated or precise:
        keep &= t["status"] == "ok"
    if precise:
        keep &= t["precise"].astype(bool)
    return t[keep]


JSON = typer.Option(False, "--json", help="JSON / 输出 JSON")


def register(app: typer.Typer) -> None:
    pricing = typer.Typer(
        help="Dynamic pricing: elasticities, price suggestions, markdowns. 动态定价。",
        no_args_is_help=True,
    )
    promo = typer.Typer(
        help="Promotion digital twin: simulate plans, review outcomes. 促销预演与复盘。",
        no_args_is_help=True,
    )
    app.add_typer(pricing, name="pricing")
    app.add_typer(promo, name="promo")

    @pricing.command("elasticity")
    def elasticity_cmd(
        sku: str | None = typer.Option(None, "--sku", help="one SKU / 单个商品"),
        estimated: bool = typer.Option(
            False, "--estimated", help="only SKUs with an estimate / 仅列出可估计的商品"
        ),
        precise: bool = typer.Option(
            False,
            "--precise",
            help="only SKUs whose 90% interval is within ±0.2 / 仅列出 90% 区间在 ±0.2 以内的商品",
        ),
        as_json: bool = JSON,
        as_csv: bool = typer.Option(False, "--csv", help="CSV / 输出 CSV"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Own- and cross-price elasticity per SKU with 90% intervals. 按商品估计价格弹性。

        Example / 示例: luopan pricing elasticity --precise -w demo-world
        """
        from luopan.cli import _pricing_data as data

        ws, lang = open_workspace(workspace)
        est = data.elasticities(data.read_history(ws))
        t = select_estimates(est.table, sku=sku, estimated=estimated, precise=precise)
        if _emit(t, as_json, as_csv, {"summary": est.summary()}):
            return
        console.print(elasticity_table(t, lang, whole=est.table))

    @pricing.command("suggest")
    def suggest_cmd(
        objective: str = typer.Option(
            "profit", "--objective", help="profit | revenue (with margin floor) / 目标"
        ),
        rules: Path | None = typer.Option(
            None, "--rules", help="rules YAML: steps, endings, bounds, ladders / 定价规则文件"
        ),
        as_json: bool = JSON,
        as_csv: bool = typer.Option(False, "--csv", help="CSV / 输出 CSV"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Suggest prices under the rules with expected effects. 在约束下给出调价建议。

        Example / 示例: luopan pricing suggest --objective profit -w demo-world
        """
        from luopan.cli import _pricing_data as data
        from luopan.config import load_model
        from luopan.engines.pricing import PriceRulesFile

        if objective not in ("profit", "revenue"):
            raise typer.BadParameter("--objective must be profit or revenue")
        ws, lang = open_workspace(workspace)
        spec = load_model(rules, PriceRulesFile) if rules else PriceRulesFile()
        h = data.read_history(ws)
        res = data.suggestions(h, data.elasticities(h, cross=False), spec, objective=objective)
        t = res.table
        if _emit(t, as_json, as_csv, {"summary": res.summary(), "objective": objective}):
            return
        cols = ("sku", "current", "price", "change", "profit_change", "source", "status")
        moved = int((t["price"] != t["current_price"]).sum())
        table = Table(
            *(_l(c, lang) for c in cols),
            title=_l("sg_title", lang).format(o=_l(f"objective_{objective}", lang)),
            caption=_l("sg_caption", lang).format(k=min(40, len(t)), n=len(t), m=moved),
        )
        top = t.reindex(t["profit_change"].abs().sort_values(ascending=False).index).head(40)
        for r in top.itertuples():
            table.add_row(
                str(r.item_id),
                f"{r.current_price:.2f}",
                f"{r.price:.2f}",
                f"{r.change:+.1%}",
                f"{r.profit_change:+.1f} ({_ci(r.profit_change_lower, r.profit_change_upper, '{:+.0f}')})",
                _l("own" if r.source == "own" else "category", lang),
                _l("ok" if r.status == "ok" else str(r.status), lang),
            )
        console.print(table)
        s = res.summary()
        console.print(f"{_l('profit_change', lang)}: {s['profit_change']:+.1%}")

    @pricing.command("markdown")
    def markdown_cmd(
        date: str = typer.Option(..., "--date", help="stock date YYYY-MM-DD / 库存日期"),
        within: int = typer.Option(3, "--within", help="expiring within N days / 临期天数"),
        waste_cost: float = typer.Option(
            0.0,
            "--waste-cost",
            help="disposal cost per expired unit, share of unit cost / 报损成本",
        ),
        as_json: bool = JSON,
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Markdown schedules for perishable stock nearing expiry. 临期生鲜降价计划。

        Example / 示例: luopan pricing markdown --date 2026-11-20 --within 3 -w demo-world
        """
        from luopan.cli import _pricing_data as data
        from luopan.engines.pricing import markdown_schedule

        ws, lang = open_workspace(workspace)
        day = dt.date.fromisoformat(date)
        h = data.read_history(ws, end=day)
        est = data.elasticities(h, cross=False)
        items = data.markdown_items(
            ws, h, est, date=day, within=within, waste_cost_share=waste_cost
        )
        plan = markdown_schedule(items)
        t = plan.table
        if _emit(t, as_json, False, {"summary": plan.summary(), "date": date}):
            return
        cols = ("store", "sku", "on_hand", "days_left", "schedule", "revenue", "waste")
        table = Table(*(_l(c, lang) for c in cols), title=_l("md_title", lang).format(d=date))
        for r in t.sort_values("value", ascending=False).head(40).itertuples():
            table.add_row(
                str(r.store_id),
                str(r.sku),
                f"{r.on_hand:.0f}",
                str(r.days_left),
                " → ".join(f"{x:.0%}" for x in r.schedule),
                f"{r.revenue:.1f} / {r.revenue_no_markdown:.1f}",
                f"{r.waste_units:.1f} / {r.waste_units_no_markdown:.1f}",
            )
        console.print(table)

    @promo.command("simulate")
    def simulate_cmd(
        plans: list[Path] = typer.Argument(..., help="plan YAML file(s) / 促销方案文件"),
        record: bool = typer.Option(
            False, "--record", help="log the forecast as an action / 预测记入决策日志"
        ),
        as_json: bool = JSON,
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Predict incremental units, revenue, margin, ROI of plans, side by side. 促销预演。

        Example / 示例: luopan promo simulate plan.yaml -w demo-world
        """
        from luopan.cli import _pricing_data as data
        from luopan.config import load_model
        from luopan.engines.pricing import PromoPlan

        ws, lang = open_workspace(workspace)
        specs = [load_model(p, PromoPlan, first_key="name") for p in plans]
        if record and any(not s.campaign_id for s in specs):
            from luopan.errors import ConfigError

            raise ConfigError(
                "--record needs a `campaign_id:` in every plan", fix="add campaign_id to each plan"
            )
        h = data.read_history(ws)
        est = data.elasticities(h)
        results = [data.simulate(h, est, spec) for spec in specs]
        side = pd.concat(
            {r.name: r.totals for r in results}, axis=1
        )  # metric × (plan, mean/lower/upper)
        if record:
            for spec, res in zip(specs, results, strict=True):
                aid = _record(ws, spec, res)
                console.print(_l("recorded", lang).format(a=aid))
        if as_json:
            payload = {
                r.name: {
                    "totals": r.totals.to_dict(orient="index"),
                    "items": json.loads(r.items.to_json(orient="records")),
                }
                for r in results
            }
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
            return
        table = Table(_l("metric", lang), *(r.name for r in results))
        for metric in side.index:
            cells = []
            for r in results:
                m, lo, hi = r.totals.loc[metric, ["mean", "lower", "upper"]]
                fmt = "{:,.1f}"
                cells.append(f"{fmt.format(m)} ({_ci(lo, hi, fmt)})" if pd.notna(m) else "—")
            table.add_row(_l(str(metric), lang), *cells)
        table.title = _l("pr_title", lang).format(n=" vs ".join(r.name for r in results))
        console.print(table)

    @promo.command("review")
    def review_cmd(
        campaign: str = typer.Argument(..., help="campaign id of a recorded plan / 活动编号"),
        as_json: bool = JSON,
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Record predicted vs actual of a finished promotion in the decision log. 促销复盘。

        Example / 示例: luopan promo review C001 -w demo-world
        """
        ws, lang = open_workspace(workspace)
        rows = _review(ws, campaign)
        if _emit(rows, as_json, False, {"campaign": campaign}):
            return
        table = Table(
            _l("metric", lang),
            _l("predicted", lang),
            _l("interval", lang),
            _l("actual", lang),
            title=_l("review_title", lang).format(c=campaign),
        )
        for r in rows.itertuples():
            table.add_row(
                _l(str(r.metric), lang),
                f"{r.predicted:,.1f}",
                _ci(r.lower, r.upper, "{:,.1f}"),
                f"{r.actual:,.1f}",
            )
        console.print(table)


def _record(ws: Any, spec: Any, res: Any) -> int:
    from luopan.decisions.store import DecisionLog
    from luopan.errors import ConfigError

    if not spec.campaign_id:
        raise ConfigError(f"plan {spec.name!r} has no campaign_id", fix="add `campaign_id:`")
    now = dt.datetime.now()
    with DecisionLog(ws.metadata_url) as log:
        return log.add_action(
            None,
            kind="promotion",
            title_zh=f"促销：{spec.name}",
            title_en=f"promotion: {spec.name}",
            owner="",
            due_at=dt.datetime.combine(spec.end, dt.time(23, 59)),
            expected_impact={
                "campaign_id": spec.campaign_id,
                "plan": spec.model_dump(mode="json"),
                "forecast": res.totals.to_dict(orient="index"),
            },
            now=now,
        )


def _review(ws: Any, campaign: str) -> pd.DataFrame:
    from luopan.cli import _pricing_data as data
    from luopan.decisions.store import DecisionLog
    from luopan.engines.pricing import PromoPlan
    from luopan.errors import DecisionError

    with DecisionLog(ws.metadata_url) as log:
        found = [
            a
            for a in log.actions()
            if a.kind == "promotion" and a.expected_impact.get("campaign_id") == campaign
        ]
        if not found:
            raise DecisionError(
                f"no recorded promotion plan for campaign {campaign!r}",
                fix="run `luopan promo simulate PLAN.yaml --record` before the promotion",
            )
        action = found[-1]
        plan = PromoPlan.model_validate(action.expected_impact["plan"])
        before = data.read_history(ws, end=plan.start - dt.timedelta(days=1))
        twin = data.simulate(before, data.elasticities(before), plan)
        actual = data.actual_effect(data.read_history(ws, end=plan.end), plan, twin)
        rows = []
        now = dt.datetime.now()
        for metric, value in actual.items():
            m, lo, hi = (float(x) for x in twin.totals.loc[metric, ["mean", "lower", "upper"]])
            rows.append(
                {
                    "metric": metric,
                    "predicted": m,
                    "lower": lo,
                    "upper": hi,
                    "actual": value,
                    "inside": lo <= value <= hi,
                }
            )
            log.record_outcome(
                action.id,
                metric=metric,
                method="promo_twin",
                estimate=value,
                lower=value,
                upper=value,
                detail={
                    "campaign_id": campaign,
                    "predicted": m,
                    "predicted_lower": lo,
                    "predicted_upper": hi,
                    "actual": value,
                    "inside": lo <= value <= hi,
                    **(
                        {"verdict": "worked" if value > 0 else "harmful"}
                        if metric == "incremental_margin"
                        else {}
                    ),
                },
                now=now,
            )
    return pd.DataFrame(rows)
