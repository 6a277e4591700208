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
from rich.table import Table

from luopan.cli._abtest_report import _pct, _t, console, render_programme, render_result
from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.engines.abtest import (
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
