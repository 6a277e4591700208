"""Rich rendering behind ``luopan abtest``: the zh/en labels, the text interval bar, and the
tables of one experiment's result (with its SRM verdict) and of a programme review.

Engines never format text; this is where their results become tables.
"""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from luopan.engines.abtest import ExperimentResult
from luopan.engines.abtest.programme import ProgrammeReview

__all__ = ["LABELS", "ci_bar", "console", "render_programme", "render_result"]

console = Console()

LABELS: dict[str, dict[str, str]] = {
    "plan_title": {"zh": "实验设计（样本量）", "en": "experiment plan (sample size)"},
    "baseline": {"zh": "基线", "en": "baseline"},
    "mde": {"zh": "最小可检测提升", "en": "minimum detectable lift"},
    "alpha": {"zh": "显著性水平", "en": "alpha"},
    "power": {"zh": "检验功效", "en": "power"},
    "variations": {"zh": "组数", "en": "variations"},
    "per_variation": {"zh": "每组样本量", "en": "units per variation"},
    "total": {"zh": "总样本量", "en": "total units"},
    "sequential": {"zh": "序贯检验 N*", "en": "sequential N*"},
    "fixed": {"zh": "固定样本（不可提前偷看）", "en": "fixed horizon (no peeking)"},
    "cuped": {"zh": "CUPED 预期相关系数", "en": "CUPED pre-period correlation"},
    "deff": {"zh": "整群设计效应", "en": "cluster design effect"},
    "result_title": {"zh": "实验结果", "en": "experiment result"},
    "variant": {"zh": "组别", "en": "variant"},
    "units": {"zh": "样本", "en": "units"},
    "mean": {"zh": "均值/转化率", "en": "mean / rate"},
    "lift": {"zh": "相对提升", "en": "relative lift"},
    "diff": {"zh": "绝对差", "en": "absolute difference"},
    "ci": {"zh": "置信区间", "en": "interval"},
    "p": {"zh": "p 值", "en": "p-value"},
    "p_holm": {"zh": "Holm 校正 p", "en": "Holm p"},
    "ctw": {"zh": "胜出概率", "en": "chance to win"},
    "risk": {"zh": "风险(选实验组)", "en": "risk (ship)"},
    "control": {"zh": "对照组", "en": "control"},
    "srm_ok": {"zh": "样本比例正常", "en": "sample ratio OK"},
    "srm_bad": {
        "zh": "⚠ 样本比例失衡（SRM）：分组可能丢数或重复，结论不可信",
        "en": "⚠ sample ratio mismatch (SRM): units were lost or duplicated; do not trust the result",
    },
    "method": {"zh": "方法", "en": "method"},
    "programme_title": {"zh": "实验项目总览", "en": "experiment programme"},
    "experiment": {"zh": "实验", "en": "experiment"},
    "window": {"zh": "周期", "en": "window"},
    "srm_p": {"zh": "SRM p(χ²/序贯 取小)", "en": "SRM p (min of χ², sequential)"},
    "verdict": {"zh": "结论", "en": "verdict"},
    "ship": {"zh": "上线", "en": "ship"},
    "rollback": {"zh": "回滚", "en": "roll back"},
    "keep_running": {"zh": "继续观察", "en": "keep running"},
    "invalid": {"zh": "作废(SRM)", "en": "invalid (SRM)"},
    "win_rate": {"zh": "胜率", "en": "win rate"},
    "fdr_note": {
        "zh": "项目级错误发现率控制：LOND（q=0.1），按结束顺序使用可随时查看的 p 值",
        "en": "programme FDR control: LOND (q=0.1) on anytime-valid p-values in order of completion",
    },
}


def _t(key: str, lang: str) -> str:
    return LABELS[key]["en" if lang == "en" else "zh"]


def _pct(x: float) -> str:
    return f"{x:+.2%}" if math.isfinite(x) else "∞"


def ci_bar(lo: float, est: float, hi: float, scale: float, width: int = 17) -> str:
    """A text bar of the interval around 0: ━ interval, ● estimate, │ zero."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or scale <= 0:
        return ""

    def pos(x: float) -> int:
        return max(0, min(width - 1, round((x / scale + 1) / 2 * (width - 1))))

    cells = [" "] * width
    for i in range(pos(lo), pos(hi) + 1):
        cells[i] = "━"
    cells[pos(0.0)] = "│"
    cells[pos(est)] = "●"
    style = "green" if lo > 0 else "red" if hi < 0 else "yellow"
    return f"[{style}]{''.join(cells)}[/]"


def render_result(res: ExperimentResult, lang: str) -> None:
    """Rich table of an experiment result with CI bars and the SRM verdict."""
    effect_label = _t("lift" if res.relative else "diff", lang)
    table = Table(
        _t("variant", lang),
        _t("units", lang),
        _t("mean", lang),
        effect_label,
        _t("ci", lang),
        "",
        _t("p", lang),
        _t("p_holm", lang),
        _t("ctw", lang),
        _t("risk", lang),
        title=f"{_t('result_title', lang)} · {_t('method', lang)}: {res.method}",
    )
    table.add_row(
        f"{res.control} ({_t('control', lang)})",
        f"{res.control_n:,}",
        f"{res.control_mean:.4g}",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    )
    scale = max(
        [abs(v.ci_low) for v in res.variants] + [abs(v.ci_high) for v in res.variants] + [1e-12]
    )
    fmt = _pct if res.relative else (lambda x: f"{x:+.4g}")
    for v in res.variants:
        table.add_row(
            v.variant,
            f"{v.n:,}",
            f"{v.mean:.4g}",
            f"[bold]{fmt(v.estimate)}[/]",
            f"[{fmt(v.ci_low)}, {fmt(v.ci_high)}]",
            ci_bar(v.ci_low, v.estimate, v.ci_high, scale),
            f"{v.p_value:.3g}",
            f"{v.p_holm:.3g}",
            f"{v.chance_to_win:.1%}",
            f"{v.risk_treatment:.3g}",
        )
    console.print(table)
    srm = res.srm
    if srm.flagged:
        console.print(f"[red]{_t('srm_bad', lang)}[/] (p = {srm.p_value:.3g} < {srm.threshold})")
    else:
        console.print(f"[green]{_t('srm_ok', lang)}[/] (SRM p = {srm.p_value:.3g})")


def render_programme(review: ProgrammeReview, lang: str) -> None:
    table = Table(
        _t("experiment", lang),
        _t("window", lang),
        _t("units", lang),
        _t("diff", lang),
        _t("ci", lang),
        "",
        _t("p", lang),
        _t("srm_p", lang),
        _t("verdict", lang),
        title=_t("programme_title", lang),
    )
    scale = max([max(abs(e.ci_low), abs(e.ci_high)) for e in review.experiments] + [1e-12])
    for e in review.experiments:
        style = {"ship": "green", "rollback": "red", "invalid": "red"}.get(e.verdict, "yellow")
        table.add_row(
            f"{e.experiment_id} {e.name}",
            f"{e.start}~{e.end}",
            f"{e.n_control:,}/{e.n_treatment:,}",
            f"{e.lift_abs:+.2%}",
            f"[{e.ci_low:+.2%}, {e.ci_high:+.2%}]",
            ci_bar(e.ci_low, e.lift_abs, e.ci_high, scale),
            f"{e.p_value:.3g}",
            f"{min(e.srm_p, e.srm_p_sequential):.3g}",
            f"[{style}]{_t(e.verdict, lang)}[/]",
        )
    console.print(table)
    console.print(_t("fdr_note", lang).replace("0.1", f"{review.q:g}"))
    if review.summary is not None:
        console.print(f"{_t('win_rate', lang)}: {review.summary.win_rate:.0%}")
    for eid, why in review.skipped:
        console.print(f"[dim]{eid}: {why}[/]")
