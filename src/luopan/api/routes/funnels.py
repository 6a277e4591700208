"""``/api/v1/funnels`` and ``/api/v1/cohorts/retention``: event funnels and retention cohorts.

The engines are ``luopan.engines.funnels`` (``funnel``, ``retention``), run on the snapshot as
``luopan funnel`` / ``luopan retention`` run them on the warehouse; a step named ``order`` is a
paid order (``with_orders``). Events are not store or category data, so a scoped principal
gets the 403 envelope (``Services.table`` refuses the table).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from luopan.api.deps import Principal, Services, principal, services
from luopan.api.errors import ApiError
from luopan.api.routes._common import records, safe
from luopan.api.services_ops import scoped_cached, table

router = APIRouter(tags=["funnels"])

STEP = r"^[A-Za-z0-9_.:\-]{1,64}$"
WINDOW = r"^[1-9][0-9]{0,4}(s|m|min|h|d|w|mo)$"
DEFAULT_STEPS = ["view", "add_to_cart", "checkout", "pay"]
BREAKDOWNS = ("channel",)  # event columns a funnel may be broken down by
_LABELS = {
    "breakdown": ("分组", "breakdown"),
    "step": ("步骤", "step"),
    "users": ("用户数", "users"),
    "overall_conversion": ("总体转化率", "overall conversion"),
    "step_conversion": ("步骤转化率", "step conversion"),
    "drop_off": ("流失率", "drop-off"),
    "median_seconds": ("转化时长中位数(秒)", "median time to convert (s)"),
    "cohort": ("同期群", "cohort"),
    "cohort_size": ("人数", "size"),
    "period": ("周期", "period"),
    "rate": ("留存率", "retention rate"),
}


def labels(keys: Any, lang: str) -> dict[str, str]:
    """The zh or en column labels of a result."""
    i = 1 if lang == "en" else 0
    return {k: _LABELS[k][i] for k in keys if k in _LABELS}


@router.get("/funnels", summary="Conversion funnel / 转化漏斗")
def get_funnel(
    steps: list[str] = Query(
        DEFAULT_STEPS,
        min_length=2,
        max_length=8,
        description="event names in order (repeat the parameter); `order` = a paid order / 步骤",
    ),
    window: str = Query("14d", pattern=WINDOW, description="conversion window / 转化窗口期"),
    by: str | None = Query(None, max_length=32, description="breakdown: channel / 分组维度"),
    mode: Literal["ordered", "strict", "any_order"] = "ordered",
    since: dt.date | None = Query(None, description="entered on/after / 进入起始日"),
    until: dt.date | None = Query(None, description="entered before / 进入截止日"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """Users reaching each step within the window (hard window, first-touch breakdown), with
    overall and step conversion, drop-off and time to convert."""
    from luopan.engines.funnels.funnel import funnel
    from luopan.engines.funnels.sources import with_orders

    for s in steps:
        if not _valid_step(s):
            raise ApiError(422, "invalid_request", f"bad step name {s!r}", fix="letters, _ . : -")
    if since is not None and until is not None and until <= since:
        raise ApiError(422, "invalid_request", "until must be after since", fix="swap them")
    with svc.connection() as con:
        table(svc, p, con, "events")  # 403 for a scoped principal, before any work
    if by is not None and by not in BREAKDOWNS:
        raise ApiError(
            422, "invalid_request", f"cannot break a funnel down by {by!r}", fix="use by=channel"
        )

    def build() -> Any:
        with svc.connection() as con:
            events = table(svc, p, con, "events")
            if "order" in steps:
                events = with_orders(events, table(svc, p, con, "orders"))
            entered = (since or dt.date(1900, 1, 1), until or dt.date(2200, 1, 1))
            return funnel(
                events,
                steps,
                window=window,
                mode=mode,
                by=by,
                entered=entered if since or until else None,
            )

    params = (tuple(steps), window, by, mode, since, until)
    result = scoped_cached(svc, p, "funnel", params, build, tables=("events", "orders"))
    return {
        "steps": list(result.step_names),
        "mode": result.mode,
        "window_seconds": result.window_seconds,
        "by": result.by,
        "labels": labels(result.steps.columns, p.lang),
        "rows": records(result.steps),
        "time_to_convert": [
            {**r, "label": r["label_en"] if p.lang == "en" else r["label_zh"]}
            for r in records(result.time_to_convert)
        ],
    }


def _valid_step(s: str) -> bool:
    import re

    return re.match(STEP, s) is not None


@router.get("/cohorts/retention", summary="Retention cohorts / 留存同期群")
def get_retention(
    period: Literal["day", "week", "month"] = "week",
    kind: Literal["first_time", "recurring"] = "first_time",
    periods: int = Query(8, ge=1, le=52, description="periods to report / 显示期数"),
    cohorts: int = Query(12, ge=1, le=104, description="latest cohorts to show / 同期群数"),
    p: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """The retention table: one row per cohort × period (size, retained, rate), and the
    matrix of rates (cohorts as rows, periods 0..N as columns)."""
    from luopan.engines.funnels.retention import retention

    with svc.connection() as con:
        table(svc, p, con, "events")  # 403 for a scoped principal

    def build() -> Any:
        with svc.connection() as con:
            return retention(
                table(svc, p, con, "events"), period=period, kind=kind, periods=periods
            )

    result = scoped_cached(svc, p, "retention", (period, kind, periods), build, tables=("events",))
    long = result.table
    keep = sorted(long["cohort"].unique())[-cohorts:]
    long = long[long["cohort"].isin(keep)]
    matrix = result.matrix().loc[keep] if len(keep) else result.matrix()
    return {
        "period": result.period,
        "kind": result.kind,
        "labels": labels(long.columns, p.lang),
        "rows": records(long),
        "matrix": {
            "periods": [int(c) for c in matrix.columns],
            "cohorts": [safe(c) for c in matrix.index],
            "rates": [[safe(v) for v in row] for row in matrix.to_numpy().tolist()],
        },
    }
