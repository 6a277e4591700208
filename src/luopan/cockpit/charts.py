"""Plotly figures of the cockpit, as JSON for plotly.js (served by the app, no CDN).

Only presentation: every function takes small, already computed frames or lists.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

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
# ColorBrewer "Blues" as plotly.py expands it (plotly.js's own "Blues" runs the other way)
BLUES = [
    [i / 8, c]
    for i, c in enumerate(
        (
            "rgb(247,251,255)",
            "rgb(222,235,247)",
            "rgb(198,219,239)",
            "rgb(158,202,225)",
            "rgb(107,174,214)",
            "rgb(66,146,198)",
            "rgb(33,113,181)",
            "rgb(8,81,156)",
            "rgb(8,48,107)",
        )
    )
]


def _layout(fig: dict[str, Any], *, height: int = 260, title: str | None = None) -> dict[str, Any]:
    layout = fig.setdefault("layout", {})
    layout.update(
        {
            "template": _template(),
            "height": height,
            "margin": {"l": 48, "r": 12, "t": 30 if title else 10, "b": 36},
            "font": {"family": FONT, "size": 12},
            "title": {"text": title or "", "font": {"size": 13}, "x": 0},
            "legend": {"orientation": "h", "y": -0.18, "x": 0},
        }
    )
    layout.setdefault("hovermode", "x unified")
    return fig


@cache
def _template() -> dict[str, Any]:
    """plotly's ``plotly_white`` template as plain JSON (read from plotly once per process)."""
    import plotly.graph_objects as go

    empty = go.Figure(layout={"template": "plotly_white"})
    return dict(json.loads(empty.to_json())["layout"]["template"])


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars and arrays to Python, NaN and ±inf to null (as plotly does)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(fig: dict[str, Any]) -> str:
    """The figure as plotly JSON (``{"data": [...], "layout": {...}}``).

    Figures are built as plain dicts in plotly.js's schema rather than through
    ``plotly.graph_objects``, whose validation and template copies cost more than the rest
    of a page: 25–30% of the server's CPU under load (py-spy, 2026-12-01).
    """
    return json.dumps(_plain(fig), ensure_ascii=False, separators=(",", ":"))


def line_chart(
    x: Sequence[Any],
    series: dict[str, Sequence[float]],
    *,
    target: float | None = None,
    target_label: str = "target",
    height: int = 260,
) -> str:
    """One line per series; an optional dashed target line."""
    colors = [BLUE, GREY, AMBER, GREEN, RED]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": list(x),
            "y": list(ys),
            "name": name,
            "mode": "lines+markers",
            "line": {"color": colors[i % len(colors)], "width": 2},
            "marker": {"size": 4},
        }
        for i, (name, ys) in enumerate(series.items())
    ]
    if target is not None and len(x):
        data.append(
            {
                "type": "scatter",
                "x": [x[0], x[-1]],
                "y": [target, target],
                "name": target_label,
                "mode": "lines",
                "line": {"color": RED, "dash": "dash", "width": 1},
            }
        )
    return to_json(_layout({"data": data}, height=height))


def band_chart(points: pd.DataFrame, *, labels: dict[str, str], height: int = 320) -> str:
    """Observed values with the detector's expected value, band and anomalies marked.

    ``points``: ds, y, expected, lower, upper, is_anomaly (from ``AnomalyResult.points``).
    """
    p = points
    finite = np.isfinite(p["lower"]) & np.isfinite(p["upper"])
    lo = p["lower"].where(finite)
    hi = p["upper"].where(finite)
    x = pd.to_datetime(p["ds"]).dt.strftime("%Y-%m-%d").tolist()
    a = p[p["is_anomaly"].astype(bool)]
    data = [
        {
            "type": "scatter",
            "x": x,
            "y": hi.tolist(),
            "mode": "lines",
            "line": {"width": 0},
            "showlegend": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": x,
            "y": lo.tolist(),
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": "rgba(31,111,235,0.12)",
            "name": labels["band"],
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": x,
            "y": p["expected"].tolist(),
            "mode": "lines",
            "name": labels["expected"],
            "line": {"color": GREY, "dash": "dot", "width": 1},
        },
        {
            "type": "scatter",
            "x": x,
            "y": p["y"].tolist(),
            "mode": "lines",
            "name": labels["value"],
            "line": {"color": BLUE, "width": 2},
        },
        {
            "type": "scatter",
            "x": pd.to_datetime(a["ds"]).dt.strftime("%Y-%m-%d").tolist(),
            "y": a["y"].tolist(),
            "mode": "markers",
            "name": labels["anomaly"],
            "marker": {"color": RED, "size": 9, "symbol": "circle-open", "line": {"width": 2}},
        },
    ]
    return to_json(_layout({"data": data}, height=height))


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
    cats = [str(c) for c in categories]

    def bar(vals: Sequence[float], label: str, color: str) -> dict[str, Any]:
        if horizontal:
            return {
                "type": "bar",
                "y": cats,
                "x": list(vals),
                "name": label,
                "orientation": "h",
                "marker": {"color": color},
            }
        return {
            "type": "bar",
            "x": cats,
            "y": list(vals),
            "name": label,
            "marker": {"color": color},
        }

    data = ([bar(compare, compare_name, "#c9d1d9")] if compare is not None else []) + [
        bar(values, name, BLUE)
    ]
    layout: dict[str, Any] = {"barmode": "group", "hovermode": "closest"}
    if horizontal:
        layout["yaxis"] = {"autorange": "reversed"}
    return to_json(_layout({"data": data, "layout": layout}, height=height))


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
    trace = {
        "type": "heatmap",
        "z": z,
        "x": list(x),
        "y": list(y),
        "colorscale": BLUES,
        "text": z,
        "texttemplate": "%{text}",
        "showscale": False,
    }
    layout = {
        "xaxis": {"title": {"text": x_title}, "type": "category"},
        "yaxis": {"title": {"text": y_title}, "type": "category"},
        "hovermode": "closest",
    }
    return to_json(_layout({"data": [trace], "layout": layout}, height=height))


def histogram(
    values: Sequence[float], *, name: str, bins: int = 40, log_y: bool = False, height: int = 260
) -> str:
    """A histogram of a distribution."""
    trace = {
        "type": "histogram",
        "x": list(values),
        "nbinsx": bins,
        "name": name,
        "marker": {"color": BLUE},
    }
    layout: dict[str, Any] = {"hovermode": "closest", "bargap": 0.05}
    if log_y:
        layout["yaxis"] = {"type": "log"}
    return to_json(_layout({"data": [trace], "layout": layout}, height=height))


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
    trace = {
        "type": "scatter",
        "x": est,
        "y": list(names),
        "mode": "markers",
        "marker": {"color": BLUE, "size": 9},
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [h - e for h, e in zip(highs, est, strict=True)],
            "arrayminus": [e - lo for lo, e in zip(lows, est, strict=True)],
        },
    }
    zero = {
        "type": "line",
        "x0": 0,
        "x1": 0,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "y domain",
        "line": {"color": GREY, "dash": "dash"},
    }
    layout = {
        "shapes": [zero],
        "xaxis": {"tickformat": ".1%"},
        "hovermode": "closest",
        "showlegend": False,
    }
    return to_json(_layout({"data": [trace], "layout": layout}, height=height))
