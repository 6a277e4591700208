"""Plotly figures of the cockpit, as JSON for plotly.js (served by the app, no CDN).

Only presentation: every function takes small, already computed frames or lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = [
    "band_chart",
    "bar_chart",
    "comparison_chart",
    "heatmap",
    "histogram",
    "line_chart",
    "to_json",
]

FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
BLUE, GREY, RED, AMBER, GREEN = "#1f6feb", "#8b949e", "#d1242f", "#bf8700", "#1a7f37"


def _layout(fig: go.Figure, *, height: int = 260, title: str | None = None) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 48, "r": 12, "t": 30 if title else 10, "b": 36},
        font={"family": FONT, "size": 12},
        title={"text": title or "", "font": {"size": 13}, "x": 0},
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hovermode="x unified",
    )
    return fig


def to_json(fig: go.Figure) -> str:
    """The figure as plotly JSON."""
    return str(fig.to_json())


def line_chart(
    x: Sequence[Any],
    series: dict[str, Sequence[float]],
    *,
    target: float | None = None,
    target_label: str = "target",
    height: int = 260,
) -> str:
    """One line per series; an optional dashed target line."""
    fig = go.Figure()
    colors = [BLUE, GREY, AMBER, GREEN, RED]
    for i, (name, ys) in enumerate(series.items()):
        fig.add_trace(
            go.Scatter(
                x=list(x),
                y=list(ys),
                name=name,
                mode="lines+markers",
                line={"color": colors[i % len(colors)], "width": 2},
                marker={"size": 4},
            )
        )
    if target is not None and len(x):
        fig.add_trace(
            go.Scatter(
                x=[x[0], x[-1]],
                y=[target, target],
                name=target_label,
                mode="lines",
                line={"color": RED, "dash": "dash", "width": 1},
            )
        )
    return to_json(_layout(fig, height=height))


def band_chart(points: pd.DataFrame, *, labels: dict[str, str], height: int = 320) -> str:
    """Observed values with the detector's expected value, band and anomalies marked.

    ``points``: ds, y, expected, lower, upper, is_anomaly (from ``AnomalyResult.points``).
    """
    p = points.copy()
    finite = np.isfinite(p["lower"]) & np.isfinite(p["upper"])
    lo = p["lower"].where(finite)
    hi = p["upper"].where(finite)
    x = [d.strftime("%Y-%m-%d") for d in pd.to_datetime(p["ds"])]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x, y=hi.tolist(), mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=lo.tolist(),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(31,111,235,0.12)",
            name=labels["band"],
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=p["expected"].tolist(),
            mode="lines",
            name=labels["expected"],
            line={"color": GREY, "dash": "dot", "width": 1},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=p["y"].tolist(),
            mode="lines",
            name=labels["value"],
            line={"color": BLUE, "width": 2},
        )
    )
    a = p[p["is_anomaly"].astype(bool)]
    fig.add_trace(
        go.Scatter(
            x=[d.strftime("%Y-%m-%d") for d in pd.to_datetime(a["ds"])],
            y=a["y"].tolist(),
            mode="markers",
            name=labels["anomaly"],
            marker={"color": RED, "size": 9, "symbol": "circle-open", "line": {"width": 2}},
        )
    )
    return to_json(_layout(fig, height=height))


def bar_chart(
    categories: Sequence[str],
    values: Sequence[float],
    *,
    name: str = "",
    compare: Sequence[float] | None = None,
    compare_name: str = "",
    horizontal: bool = False,
    height: int = 260,
) -> str:
    """Bars per category, optionally beside a comparison."""
    fig = go.Figure()
    cats = [str(c) for c in categories]

    def bar(vals: Sequence[float], label: str, color: str) -> go.Bar:
        if horizontal:
            return go.Bar(y=cats, x=list(vals), name=label, orientation="h", marker_color=color)
        return go.Bar(x=cats, y=list(vals), name=label, marker_color=color)

    if compare is not None:
        fig.add_trace(bar(compare, compare_name, "#c9d1d9"))
    fig.add_trace(bar(values, name, BLUE))
    fig.update_layout(barmode="group", hovermode="closest")
    if horizontal:
        fig.update_yaxes(autorange="reversed")
    return to_json(_layout(fig, height=height))


def comparison_chart(
    labels: Sequence[str],
    now: Sequence[float],
    before: Sequence[float],
    *,
    names: tuple[str, str],
    height: int = 260,
) -> str:
    """Current against compared values per period or festival."""
    return bar_chart(
        labels, now, name=names[0], compare=before, compare_name=names[1], height=height
    )


def heatmap(
    z: Any, x: Sequence[str], y: Sequence[str], *, x_title: str, y_title: str, height: int = 300
) -> str:
    """An annotated heatmap (e.g. the RFM matrix)."""
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(x),
            y=list(y),
            colorscale="Blues",
            text=z,
            texttemplate="%{text}",
            showscale=False,
        )
    )
    fig.update_xaxes(title_text=x_title, type="category")
    fig.update_yaxes(title_text=y_title, type="category")
    fig.update_layout(hovermode="closest")
    return to_json(_layout(fig, height=height))


def histogram(
    values: Sequence[float], *, name: str, bins: int = 40, log_y: bool = False, height: int = 260
) -> str:
    """A histogram of a distribution."""
    fig = go.Figure(go.Histogram(x=list(values), nbinsx=bins, name=name, marker_color=BLUE))
    if log_y:
        fig.update_yaxes(type="log")
    fig.update_layout(hovermode="closest", bargap=0.05)
    return to_json(_layout(fig, height=height))


def ci_chart(
    names: Sequence[str],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    height: int = 240,
) -> str:
    """Point estimates with confidence intervals (e.g. experiment lifts), a zero line."""
    est = list(estimates)
    fig = go.Figure(
        go.Scatter(
            x=est,
            y=list(names),
            mode="markers",
            marker={"color": BLUE, "size": 9},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [h - e for h, e in zip(highs, est, strict=True)],
                "arrayminus": [e - lo for lo, e in zip(lows, est, strict=True)],
            },
        )
    )
    fig.add_vline(x=0, line={"color": GREY, "dash": "dash"})
    fig.update_xaxes(tickformat=".1%")
    fig.update_layout(hovermode="closest", showlegend=False)
    return to_json(_layout(fig, height=height))
