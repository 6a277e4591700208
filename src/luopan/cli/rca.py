"""``luopan rca localize``: which dimension-value combinations explain a KPI move (根因定位)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.engines.rca import Localization, explain, localize
from luopan.errors import DataContractError, SourceError
from luopan.i18n import language

console = Console()

LABELS: dict[str, dict[str, str]] = {
    "title": {"zh": "根因定位", "en": "root-cause localisation"},
    "element": {"zh": "维度组合", "en": "element"},
    "real": {"zh": "实际", "en": "actual"},
    "expected": {"zh": "预期", "en": "expected"},
    "change": {"zh": "变化", "en": "change"},
    "share": {"zh": "占总变化", "en": "share of change"},
    "confidence": {"zh": "置信度", "en": "confidence"},
    "leaves": {"zh": "叶子数", "en": "leaves"},
    "kpi": {"zh": "指标", "en": "KPI"},
    "additive": {"zh": "可加指标（求和）", "en": "additive KPI (sum)"},
    "ratio": {"zh": "比率指标（分子/分母）", "en": "ratio KPI (numerator / denominator)"},
    "residual": {"zh": "未解释部分", "en": "unexplained"},
}

RATIO_COLUMNS = ("real_a", "predict_a", "real_b", "predict_b")
ADDITIVE_COLUMNS = ("real", "predict")


def _t(key: str, lang: str) -> str:
    return LABELS[key]["en" if lang == "en" else "zh"]


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        import gzip

        raw = gzip.decompress(raw)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceError(f"{path}: neither UTF-8 nor GB18030", fix="save the file as UTF-8")


def read_leaves(path: Path) -> pd.DataFrame:
    """A leaf table from CSV (optionally .gz, UTF-8 or GB18030), Parquet or Excel; text dims."""
    if not path.exists():
        raise SourceError(f"{path}: no such file", fix="pass the path of a leaf table")
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith((".xlsx", ".xls")):
        return pd.read_excel(path, dtype=str)
    try:
        return pd.read_csv(io.StringIO(_decode(path)), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise SourceError(
            f"{path}: not a readable CSV ({exc})", fix="check the delimiter"
        ) from None


def detect_format(frame: pd.DataFrame, path: Path) -> str:
    if all(c in frame.columns for c in RATIO_COLUMNS):
        return "ratio"
    if all(c in frame.columns for c in ADDITIVE_COLUMNS):
        return "additive"
    raise DataContractError(
        f"{path}: columns {list(frame.columns)} have neither real/predict nor "
        "real_a/predict_a/real_b/predict_b",
        fix="name the measures real and predict (additive KPI), or real_a, predict_a "
        "(numerator) and real_b, predict_b (denominator) for a ratio KPI",
    )


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def render(result: Localization, lang: str, kpi: str | None) -> None:
    kind = _t(result.kind, lang)
    table = Table(
        "#",
        _t("element", lang),
        _t("real", lang),
        _t("expected", lang),
        _t("change", lang),
        _t("share", lang),
        _t("confidence", lang),
        _t("leaves", lang),
        title=f"{_t('title', lang)} — {kpi or _t('kpi', lang)} · {kind}",
    )
    for i, c in enumerate(result.causes, 1):
        table.add_row(
            str(i),
            c.element,
            _num(c.real),
            _num(c.expected),
            "–" if c.expected == 0 else f"{c.relative_change:+.1%}",
            f"{c.share:.1%}",
            f"{c.confidence:.2f}",
            f"{c.leaves:,}",
        )
    console.print(table)
    console.print(explain(result, lang, kpi=kpi), highlight=False)


def _emit_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, default=str, indent=1))


def register(app: typer.Typer) -> None:
    rca = typer.Typer(
        help="Root-cause localisation of a KPI change. 指标变化的根因定位。", no_args_is_help=True
    )
    app.add_typer(rca, name="rca")

    @rca.command("localize")
    def localize_cmd(
        data: Path = typer.Option(
            ..., "--data", help="leaf table / 叶子明细表 (csv, parquet, xlsx)"
        ),
        fmt: str | None = typer.Option(
            None, "--format", help="additive | ratio (default: from the columns) / 指标类型"
        ),
        max_causes: int | None = typer.Option(
            None, "--max-causes", min=1, help="at most K causes / 最多 K 个根因"
        ),
        dims: list[str] | None = typer.Option(
            None, "--dim", help="a dimension column; repeat it (default: all others) / 维度列"
        ),
        kpi: str | None = typer.Option(None, "--kpi", help="KPI name for the text / 指标名称"),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
    ) -> None:
        """Localise the change of a KPI in a leaf table (dims, real, predict). 根因定位。

        Example / 示例: luopan rca localize --data leaves.csv --kpi GMV
        """
        lang = language()
        frame = read_leaves(data)
        kind = fmt or detect_format(frame, data)
        if kind not in ("additive", "ratio"):
            raise DataContractError(f"--format {kind!r}", fix="use --format additive or ratio")
        result = localize(
            frame,
            kind="ratio" if kind == "ratio" else "additive",
            dimensions=dims or None,
            max_causes=max_causes,
        )
        if as_json:
            summary = result.summary()
            summary["causes_text"] = ";".join(result.elements)
            summary["explanation"] = {
                "zh": explain(result, "zh", kpi=kpi),
                "en": explain(result, "en", kpi=kpi),
            }
            _emit_json(summary)
            return
        render(result, lang, kpi)

    @rca.command("metric")
    def metric_cmd(
        name: str = typer.Argument(..., help="catalog metric, e.g. gmv, dau, aov / 指标名"),
        period: str = typer.Option(
            ..., "--period", help="period, e.g. 2026-10-20, 2026-W43, 2026-10 / 分析期"
        ),
        baseline: str = typer.Option(..., "--baseline", help="same grain as --period / 对比期"),
        dims: str = typer.Option(
            "channel,customer__region",
            "--dims",
            help="comma-separated catalog dimensions / 维度，逗号分隔",
        ),
        max_causes: int = typer.Option(
            5, "--max-causes", min=1, help="most causes to report / 最多报告的原因数"
        ),
        as_json: bool = typer.Option(False, "--json", help="JSON output / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Localise a metric's move on the warehouse (period against baseline). 指标根因定位。

        Example / 示例: luopan rca metric gmv --period 2026-W43 --baseline 2026-W42 -w demo-world
        """
        from luopan.decisions.diagnose import diagnose_metric
        from luopan.metrics import connect, load_catalog

        ws, lang = open_workspace(workspace)
        con = connect(ws)
        try:
            d = diagnose_metric(
                con,
                load_catalog(ws),
                name,
                period,
                baseline,
                dims=[x.strip() for x in dims.split(",") if x.strip()],
                max_causes=max_causes,
            )
        finally:
            con.disconnect()
        if as_json:
            summary = d.result.summary()
            summary.update(
                metric=d.metric,
                period=d.period,
                baseline=d.baseline,
                causes_text=";".join(d.result.elements),
                explanation={"zh": d.summary_zh, "en": d.summary_en},
            )
            _emit_json(summary)
            return
        render(d.result, lang, name)
