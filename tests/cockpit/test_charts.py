"""The cockpit's charts are plain plotly.js JSON; plotly.graph_objects is the reference: the
same figure built through it serialises to the same JSON (hover mode aside, which the old
builder overwrote), with NaN/±inf as null."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from luopan.cockpit import charts


def _reference(fig: go.Figure, height: int) -> dict:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 48, "r": 12, "t": 10, "b": 36},
        font={"family": charts.FONT, "size": 12},
        title={"text": "", "font": {"size": 13}, "x": 0},
        legend={"orientation": "h", "y": -0.18, "x": 0},
    )
    return json.loads(fig.to_json())


def _same(ours: str, ref: dict) -> None:
    got = json.loads(ours)
    got["layout"].pop("hovermode")
    ref["layout"].pop("hovermode", None)
    assert got == ref


def test_band_chart_equals_plotly() -> None:
    pts = pd.DataFrame(
        {
            "ds": pd.date_range("2026-01-01", periods=4),
            "y": [1.0, np.nan, 3.0, 6.5],
            "expected": [1.0, 2.0, 2.0, 2.0],
            "lower": [0.0, -np.inf, 1.0, 1.0],
            "upper": [2.0, 3.0, np.inf, 3.0],
            "is_anomaly": [0, 0, 0, 1],
        }
    )
    labels = {"band": "b", "expected": "e", "value": "v", "anomaly": "a"}
    x = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[2.0, None, None, 3.0],  # a band needs both bounds finite
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[0.0, None, None, 1.0],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(31,111,235,0.12)",
            name="b",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[1.0, 2.0, 2.0, 2.0],
            mode="lines",
            name="e",
            line={"color": charts.GREY, "dash": "dot", "width": 1},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[1.0, None, 3.0, 6.5],
            mode="lines",
            name="v",
            line={"color": charts.BLUE, "width": 2},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=["2026-01-04"],
            y=[6.5],
            mode="markers",
            name="a",
            marker={"color": charts.RED, "size": 9, "symbol": "circle-open", "line": {"width": 2}},
        )
    )
    ours = charts.band_chart(pts, labels=labels)
    _same(ours, _reference(fig, 320))
    assert "NaN" not in ours and "Infinity" not in ours


def test_heatmap_and_ci_chart_equal_plotly() -> None:
    z = [[1, 2], [3, 4]]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=["a", "b"],
            y=["c", "d"],
            colorscale="Blues",
            text=z,
            texttemplate="%{text}",
            showscale=False,
        )
    )
    fig.update_xaxes(title_text="X", type="category")
    fig.update_yaxes(title_text="Y", type="category")
    _same(charts.heatmap(z, ["a", "b"], ["c", "d"], x_title="X", y_title="Y"), _reference(fig, 300))

    fig = go.Figure(
        go.Scatter(
            x=[0.1, 0.2],
            y=["a", "b"],
            mode="markers",
            marker={"color": charts.BLUE, "size": 9},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [0.1, 0.1],
                "arrayminus": [0.1, 0.1],
            },
        )
    )
    fig.add_vline(x=0, line={"color": charts.GREY, "dash": "dash"})
    fig.update_xaxes(tickformat=".1%")
    fig.update_layout(showlegend=False)
    ours = json.loads(charts.ci_chart(["a", "b"], [0.1, 0.2], [0.0, 0.1], [0.2, 0.3]))
    ref = _reference(fig, 240)
    assert ours["data"][0]["error_x"]["array"] == pytest_approx([0.1, 0.1])
    ours["data"][0]["error_x"] = ref["data"][0]["error_x"]
    _same(json.dumps(ours), ref)


def test_bar_and_histogram_options_reach_the_layout() -> None:
    bar = json.loads(charts.bar_chart(["x", "y"], [1, 2], compare=[2, 3], horizontal=True))
    assert [t["orientation"] for t in bar["data"]] == ["h", "h"]
    assert bar["layout"]["yaxis"] == {"autorange": "reversed"}
    assert bar["layout"]["hovermode"] == "closest" and bar["layout"]["barmode"] == "group"
    hist = json.loads(charts.histogram([1.0, 2.0, np.float64(2.0)], name="h", bins=5, log_y=True))
    assert hist["data"][0]["x"] == [1.0, 2.0, 2.0] and hist["data"][0]["nbinsx"] == 5
    assert hist["layout"]["yaxis"] == {"type": "log"}
    line = json.loads(charts.line_chart(["a", "b"], {"s": [1, 2]}, target=1.5))
    assert line["layout"]["hovermode"] == "x unified"
    assert line["data"][1]["y"] == [1.5, 1.5]


def pytest_approx(values: list[float]) -> object:
    import pytest

    return pytest.approx(values)
