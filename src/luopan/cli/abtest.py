"""``luopan abtest``: plan, analyse and review experiments (A/B 测试)."""

from __future__ import annotations

import io
import json
import math
import warnings
from pathlib import Path
from typing import Any, cast

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.engines.abtest import (
    ExperimentResult,
    GaussianPrior,
    analyze,
    design_effect,
    history_moments,
    plan,
    stats_from_frame,
)
from luopan.engines.abtest.aggregate import (
    arm_to_json,
    ibis_daily_assignments,
    ibis_event_conversion,
    stats_from_document,
)
from luopan.engines.abtest.analysis import Method
from luopan.engines.abtest.programme import ProgrammeReview, review_programme
from luopan.engines.abtest.stats import ArmStats
from luopan.errors import SourceError, WarehouseError
from luopan.i18n import language

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


def load_stats_file(path: Path) -> tuple[dict[str, ArmStats], str | None, list[float] | None]:
    """Read ``{"control": "A", "split": [..], "variants": {"A": {...}, ...}}``."""
    if not path.exists():
        raise SourceError(f"{path}: no such file", fix="check the --stats path")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}", fix="write valid JSON"
        ) from None
    return stats_from_document(doc, str(path))


def read_data_file(path: Path, unit_col: str | None) -> pd.DataFrame:
    if not path.exists():
        raise SourceError(f"{path}: no such file", fix="check the --data path")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    return pd.read_csv(io.StringIO(text), dtype=None if unit_col is None else {unit_col: str})


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


def review_workspace(path: Path, *, q: float = 0.1) -> ProgrammeReview:
    """Aggregate experiments, assignments and events in the warehouse, then review them."""
    import ibis

    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse yet", fix="run `luopan ingest` first")
    with warnings.catch_warnings():
        # ibis 12 calls duckdb's deprecated fetch_arrow_table() (duckdb >= 1.5); harmless
        warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
        con = ibis.duckdb.connect(str(path), read_only=True)
        try:
            missing = [
                t for t in ("experiments", "assignments", "events") if t not in con.list_tables()
            ]
            if missing:
                raise WarehouseError(
                    f"the warehouse has no table {missing}",
                    fix="add a source for experiments/assignments/events",
                )
            exps, asg, ev = (con.table(t) for t in ("experiments", "assignments", "events"))
            experiments = exps.select(
                "experiment_id", "name", "primary_metric", "start_date", "end_date"
            ).execute()
            conversions = ibis_event_conversion(asg, ev, exps).execute()
            daily = ibis_daily_assignments(asg).execute()
        finally:
            con.disconnect()
    return review_programme(experiments, conversions, daily, q=q)


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


def _emit_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, default=str, indent=1))


def register(app: typer.Typer) -> None:
    ab = typer.Typer(
        help="Plan, analyse and review A/B tests. 实验设计、分析与复盘。", no_args_is_help=True
    )
    app.add_typer(ab, name="abtest")

    @ab.command("plan")
    def plan_cmd(
        baseline: float | None = typer.Option(None, help="baseline rate or mean / 基线"),
        mde: float = typer.Option(..., help="relative lift to detect, 0.10 = +10% / 相对提升"),
        alpha: float = typer.Option(0.05, help="significance level / 显著性水平"),
        power: float = typer.Option(0.8, help="target power / 目标功效"),
        variations: int = typer.Option(2, help="number of arms incl. control / 组数"),
        sd: float | None = typer.Option(None, help="per-unit sd of a mean metric / 均值指标标准差"),
        sequential: bool = typer.Option(
            False, "--sequential", help="plan a sequential test / 按序贯检验计算"
        ),
        n_star: float = typer.Option(5000, help="sequential tuning N* / 序贯调参"),
        cuped_rho: float = typer.Option(
            0.0, help="pre-period correlation for CUPED / CUPED 前后期相关系数"
        ),
        icc: float = typer.Option(
            0.0, help="intra-cluster correlation (store/region) / 群内相关系数"
        ),
        cluster_size: float = typer.Option(1.0, help="mean units per cluster / 每群平均单元数"),
        history: Path | None = typer.Option(None, help="unit-level history file / 历史明细"),
        metric_col: str = typer.Option("metric", help="history: metric column / 历史数据的指标列"),
        pre_col: str | None = typer.Option(
            None, help="history: pre-period column (CUPED ρ) / 历史数据的前期列"
        ),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    ) -> None:
        """Sample size for a planned test. 计算实验所需样本量。

        Example / 示例: luopan abtest plan --baseline 0.032 --mde 0.10
        """
        lang = language()
        deff = design_effect(cluster_size, icc)
        if history is not None:
            frame = read_data_file(history, None)
            hm = history_moments(frame[metric_col], None if pre_col is None else frame[pre_col])
            baseline, cuped_rho = hm.mean, hm.rho or cuped_rho
            sd = None if hm.binary else math.sqrt(hm.variance)
        if baseline is None:
            raise typer.BadParameter("give --baseline or --history")
        p = plan(
            baseline,
            mde,
            target_power=power,
            variance=None if sd is None else sd * sd,
            n_variations=variations,
            alpha=alpha,
            n_star=n_star if sequential else None,
            cuped_rho=cuped_rho,
            deff=deff,
        )
        if as_json:
            _emit_json(p.to_dict())
            return
        t = Table("", "", title=_t("plan_title", lang))
        t.add_row(_t("baseline", lang), f"{baseline:.4g}")
        t.add_row(_t("mde", lang), _pct(mde))
        t.add_row(_t("alpha", lang), f"{alpha:g}")
        t.add_row(_t("power", lang), f"{power:.0%}")
        t.add_row(_t("variations", lang), str(variations))
        t.add_row(_t("sequential", lang), f"{n_star:g}" if sequential else _t("fixed", lang))
        if cuped_rho:
            t.add_row(_t("cuped", lang), f"{cuped_rho:g}")
        if deff != 1:
            t.add_row(_t("deff", lang), f"{deff:.3g}")
        t.add_row(f"[bold]{_t('per_variation', lang)}[/]", f"[bold]{p.n_per_variation:,}[/]")
        t.add_row(_t("total", lang), f"{p.n_total:,}")
        console.print(t)

    @ab.command("analyze")
    def analyze_cmd(
        data: Path | None = typer.Option(None, help="unit-level CSV/Parquet / 明细数据文件"),
        stats: Path | None = typer.Option(None, help="JSON of sufficient statistics / 汇总统计"),
        unit_col: str = typer.Option("unit_id", help="randomisation unit column / 随机化单元列"),
        variant_col: str = typer.Option("variant", help="variant column / 分组列"),
        metric_col: str = typer.Option(
            "metric", help="metric column (0/1 → conversion) / 指标列（0/1 为转化）"
        ),
        pre_col: str | None = typer.Option(
            None, help="pre-period covariate for CUPED / CUPED 实验前协变量列"
        ),
        control: str | None = typer.Option(None, help="control variant name / 对照组"),
        method: str = typer.Option(
            "frequentist", help="frequentist | sequential | bayesian / 分析方法"
        ),
        alpha: float = typer.Option(0.05, help="significance level / 显著性水平"),
        n_star: float = typer.Option(5000, help="sequential tuning N* / 序贯调参"),
        absolute: bool = typer.Option(False, "--absolute", help="absolute difference / 绝对差值"),
        prior_sd: float | None = typer.Option(
            None, help="proper N(0, sd²) prior on the lift / 提升的正态先验标准差"
        ),
        split: str | None = typer.Option(None, help="intended split, e.g. 0.5,0.5 / 预期分流比例"),
        srm_threshold: float = typer.Option(0.001, help="SRM alarm threshold / SRM 阈值"),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    ) -> None:
        """Analyse one experiment from raw rows or statistics. 分析一个实验。

        Example / 示例: luopan abtest analyze --data exp_units.csv --method sequential
        """
        lang = language()
        if (data is None) == (stats is None):
            raise typer.BadParameter("give exactly one of --data or --stats")
        if method not in ("frequentist", "sequential", "bayesian"):
            raise typer.BadParameter("method is frequentist, sequential or bayesian")
        expected = [float(x) for x in split.split(",")] if split else None
        if stats is not None:
            arms, doc_control, doc_split = load_stats_file(stats)
            control = control or doc_control
            expected = expected or doc_split
        else:
            assert data is not None
            frame = read_data_file(data, unit_col)
            arms = stats_from_frame(
                frame,
                unit_col=unit_col,
                variant_col=variant_col,
                metric_col=metric_col,
                pre_col=pre_col,
            )
        res = analyze(
            arms,
            control=control,
            method=cast(Method, method),
            relative=not absolute,
            alpha=alpha,
            n_star=n_star,
            prior=GaussianPrior(0.0, prior_sd) if prior_sd else None,
            expected_split=expected,
            srm_threshold=srm_threshold,
        )
        if as_json:
            doc = res.to_dict()
            doc["statistics"] = {
                "control": res.control,
                "split": expected,
                "variants": {k: arm_to_json(v) for k, v in arms.items()},
            }
            _emit_json(doc)
        else:
            render_result(res, lang)

    @ab.command("programme")
    def programme_cmd(
        workspace: Path = WORKSPACE_OPTION,
        q: float = typer.Option(0.1, help="programme false discovery rate / 项目级 FDR"),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    ) -> None:
        """All experiments of the workspace, governed together. 实验项目总览。

        Example / 示例: luopan abtest programme -w demo-world --q 0.1
        """
        ws, lang = open_workspace(workspace)
        review = review_workspace(ws.warehouse_path, q=q)
        if as_json:
            _emit_json(review.to_dict())
        else:
            render_programme(review, lang)
