"""zh-CN / en labels of the pricing and promotion commands."""

from __future__ import annotations

__all__ = ["LABELS", "label"]

LABELS: dict[str, tuple[str, str]] = {
    "el_title": (
        "价格弹性（按商品，向品类收缩）",
        "price elasticity (per SKU, shrunk to category)",
    ),
    "sku": ("商品", "SKU"),
    "category": ("品类", "category"),
    "status": ("状态", "status"),
    "elasticity": ("弹性", "elasticity"),
    "ci": ("90% 区间", "90% interval"),
    "cat_el": ("品类弹性", "category elasticity"),
    "cross": ("交叉弹性", "cross elasticity"),
    "el_caption": (
        "可估计 {ok}/{n}，其中 {p} 个 90% 区间在 ±0.2 以内（✓）；中位弹性 {m}",
        "{ok} of {n} estimated, {p} with a 90% interval within ±0.2 (✓); median {m}",
    ),
    "ok": ("可估计", "estimated"),
    "insufficient_variation": ("价格变动不足", "not enough price variation"),
    "insufficient_data": ("数据不足", "not enough data"),
    "sg_title": ("调价建议（目标：{o}）", "price suggestions (objective: {o})"),
    "objective_profit": ("毛利", "gross profit"),
    "objective_revenue": ("销售额，守住毛利率下限", "revenue, with a margin floor"),
    "sg_caption": (
        "按毛利变化绝对值排序的前 {k} 个（共 {n} 个商品，{m} 个调价）",
        "the {k} largest gross-profit changes ({n} SKUs, {m} price changes)",
    ),
    "current": ("现价", "current"),
    "price": ("建议价", "suggested"),
    "change": ("变动", "change"),
    "profit_change": ("毛利变化(28天)", "gross profit change (28 d)"),
    "source": ("弹性来源", "elasticity from"),
    "own": ("本商品", "own"),
    "kept_no_elasticity": ("无弹性，保持", "no elasticity, kept"),
    "infeasible": ("约束无解，保持", "rules infeasible, kept"),
    "md_title": ("临期降价计划（{d}）", "markdown plan for near-expiry stock ({d})"),
    "store": ("门店", "store"),
    "on_hand": ("临期库存", "expiring stock"),
    "days_left": ("剩余天数", "days left"),
    "schedule": ("每日折扣", "discount per day"),
    "waste": ("预计损耗 降价/不降", "expected waste markdown/none"),
    "revenue": ("预计回收 降价/不降", "recovered revenue markdown/none"),
    "pr_title": ("促销预演：{n}", "promotion twin: {n}"),
    "metric": ("指标", "metric"),
    "mean": ("预测", "forecast"),
    "interval": ("90% 区间", "90% interval"),
    "incremental_units": ("增量销量", "incremental units"),
    "incremental_revenue": ("增量销售额", "incremental revenue"),
    "incremental_margin": ("增量毛利", "incremental gross margin"),
    "net_profit": ("扣除费用后利润", "net of budget"),
    "roi": ("ROI", "ROI"),
    "stockout_skus": ("缺货商品数", "SKUs running out"),
    "lost_units": ("缺货损失件数", "units lost to stock-outs"),
    "recorded": ("已记入决策日志：行动 #{a}", "recorded in the decision log: action #{a}"),
    "review_title": ("促销复盘：{c}", "promotion review: {c}"),
    "predicted": ("预测", "predicted"),
    "actual": ("实际", "actual"),
}


def label(key: str, lang: str) -> str:
    """The zh-CN or en text of ``key``."""
    zh, en = LABELS[key]
    return en if lang == "en" else zh
