"""The operations routes: replenishment, pricing, listening and crises, funnels and cohorts,
actions and outcomes, root cause — values checked against the engines run on inputs built
here straight from the warehouse (DuckDB SQL), scopes, validation and the error envelope."""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

import duckdb
import pandas as pd
import pytest

from conftest import STORE_A, assert_envelope, store_sales

STORES = {"S001", "S002", "S003", "S004", "S005", "S006"}


def _sql(api_world: dict[str, Any], query: str, params: list[Any] | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(api_world["ws"].warehouse_path), read_only=True)
    try:
        return con.execute(query, params or []).df()
    finally:
        con.close()


def _all(client: Any, url: str, **params: Any) -> dict[str, Any]:
    r = client.get(url, params={"limit": 10000, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["total"] == len(body["items"])
    return body


# ---- replenishment --------------------------------------------------------------------


def _engine_plan(api_world: dict[str, Any], store: str) -> pd.DataFrame:
    """``luopan replenish plan`` for one store, inputs built here from the warehouse."""
    from luopan.engines.replenish import DemandForecaster, plan_orders

    sales = store_sales(api_world, store)
    latest = sales["ds"].max()
    stock = _sql(
        api_world,
        """SELECT store_id || '_' || sku AS unique_id, on_hand::DOUBLE AS on_hand,
                  on_order::DOUBLE AS on_order FROM inventory
           WHERE store_id = ? AND date = (SELECT max(date) FROM inventory WHERE store_id = ?)""",
        [store, store],
    )
    ids = pd.Index(sales["unique_id"].unique(), name="unique_id")
    stock = stock.set_index("unique_id").reindex(ids).fillna(0.0).reset_index()
    forecast = DemandForecaster().fit(sales).predict(3)
    plan = plan_orders(
        forecast,
        stock,
        start=latest + pd.Timedelta(days=1),
        lead_time=2,
        review_period=1,
        service_level=0.9,
    )
    return plan.orders.set_index("unique_id")


def test_replenishment_suggestions_equal_the_engine_on_the_same_inputs(
    client_for: Any, api_world: dict[str, Any]
) -> None:
    expected = _engine_plan(api_world, STORE_A)
    body = _all(
        client_for("analyst_a"),
        "/api/v1/replenishment/suggestions",
        lead_time=2,
        review=1,
        service_level=0.9,
    )
    got = pd.DataFrame(body["items"]).set_index("unique_id")
    assert set(got.index) == set(expected.index) and len(got) > 100
    for col in ("order_qty", "order_up_to", "inventory_position", "demand_mean"):
        pd.testing.assert_series_equal(
            got[col].astype(float), expected.loc[got.index, col].astype(float), check_names=False
        )
    assert (got["reason"] == expected.loc[got.index, "reason"]).all()
    assert set(got["store_id"]) == {STORE_A}
    assert body["summary"]["to_order"] == int((expected["order_qty"] > 0).sum())
    assert math.isclose(body["summary"]["units"], float(expected["order_qty"].sum()))
    # labels in the caller's language, rows ranked by order quantity
    assert got["reason_label"].iloc[0] in {"低于目标库存", "低于目标库存(含临期)", "库存充足"}
    assert list(got["order_qty"]) == sorted(got["order_qty"], reverse=True)


def test_replenishment_export_is_scoped_audited_and_needs_export(
    client_for: Any, api_world: dict[str, Any]
) -> None:
    c = client_for("analyst_a")
    r = c.get("/api/v1/replenishment/suggestions/export?format=csv&lang=en")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig", dtype={"store_id": str})
    assert set(frame["store_id"]) == {STORE_A}
    listed = _all(c, "/api/v1/replenishment/suggestions")
    assert len(frame) == listed["total"]
    assert set(frame["reason_label"]) <= {
        "below order-up-to",
        "covered",
        "overstock",
        "below order-up-to (expiring stock)",
    }
    xlsx = c.get("/api/v1/replenishment/suggestions/export?format=xlsx")
    sheet = pd.read_excel(io.BytesIO(xlsx.content), engine="openpyxl")
    assert len(sheet) == len(frame)
    audit = client_for("admin").get("/api/v1/audit?limit=1000").json()["items"]
    assert any(
        a["action"] == "export"
        and a["username"] == "analyst_a"
        and a["detail"]["what"] == "replenishment"
        for a in audit
    )
    assert_envelope(
        client_for("viewer_a").get("/api/v1/replenishment/suggestions/export"), 403, "forbidden"
    )


def test_stock_health_values_and_scope(client_for: Any, api_world: dict[str, Any]) -> None:
    body = _all(client_for("viewer_a"), "/api/v1/replenishment/stock-health")
    rows = pd.DataFrame(body["items"]).set_index("sku")
    assert set(rows["store_id"]) == {STORE_A} and [s["store_id"] for s in body["stores"]] == [
        STORE_A
    ]
    inv = _sql(
        api_world,
        """SELECT sku, on_hand::DOUBLE AS on_hand FROM inventory
           WHERE store_id = ? AND date = (SELECT max(date) FROM inventory)""",
        [STORE_A],
    ).set_index("sku")
    assert body["stock_date"] == str(
        _sql(api_world, "SELECT max(date) AS d FROM inventory")["d"].iloc[0].date()
    )
    pd.testing.assert_series_equal(
        rows["on_hand"].astype(float).sort_index(),
        inv["on_hand"].sort_index(),
        check_names=False,
    )
    assert (rows.loc[rows["on_hand"] <= 0, "status"] == "out").all()
    cover = rows["days_of_cover"].dropna()
    assert (
        (cover - rows.loc[cover.index, "on_hand"] / rows.loc[cover.index, "daily_units"]).abs()
        < 1e-9
    ).all()
    assert body["stores"][0]["skus"] == len(rows)
    assert math.isclose(sum(body["stores"][0][f"{k}_share"] for k in body["labels"]), 1.0)


def test_replenishment_other_store_is_not_found_for_a_store_user(client_for: Any) -> None:
    c = client_for("viewer_a")
    assert_envelope(c.get("/api/v1/replenishment/suggestions?store=S002"), 404, "no_data")
    region = _all(client_for("region_c"), "/api/v1/replenishment/stock-health")
    assert {i["store_id"] for i in region["items"]} == {"S004", "S006"}


# ---- pricing --------------------------------------------------------------------------


def test_pricing_is_refused_to_store_scopes_and_limited_for_categories(client_for: Any) -> None:
    for route in ("elasticities", "suggestions", "suggestions/export"):
        assert_envelope(client_for("analyst_a").get(f"/api/v1/pricing/{route}"), 403)
    admin = _all(client_for("admin"), "/api/v1/pricing/elasticities")
    fruit = _all(client_for("fruit"), "/api/v1/pricing/elasticities")
    assert {i["category"] for i in fruit["items"]} == {"水果"}
    mine = {i["sku"]: i for i in fruit["items"]}
    theirs = {i["sku"]: i for i in admin["items"] if i["category"] == "水果"}
    assert mine == theirs and len(mine) > 10
    sugg = _all(client_for("fruit"), "/api/v1/pricing/suggestions")
    assert {i["category"] for i in sugg["items"]} == {"水果"}
    base = sum(i["profit_current"] for i in sugg["items"])
    assert math.isclose(sugg["summary"]["profit_current"], base)


def _csrf(c: Any) -> dict[str, str]:
    return {"x-csrf-token": c.cookies["luopan_csrf"]}


def test_promotion_simulation_validates_its_body_and_scope(client_for: Any) -> None:
    c = client_for("fruit")
    url = "/api/v1/pricing/promotions/simulate"
    plan = {"start": "2026-11-20", "end": "2026-11-26", "discount": 0.2, "categories": ["水果"]}
    for bad in (
        {**plan, "end": "2026-11-01"},
        {**plan, "discount": 0.95},
        {**plan, "categories": []},
        {**plan, "colour": "red"},
        {**plan, "end": "2027-11-26"},
    ):
        assert_envelope(c.post(url, json=bad, headers=_csrf(c)), 422)
    assert_envelope(c.post(url, json=plan), 403, "csrf_failed")
    assert_envelope(c.post(url, json={**plan, "categories": ["蔬菜"]}, headers=_csrf(c)), 403)
    r = c.post(url, json=plan, headers=_csrf(c))
    assert r.status_code == 200, r.text
    totals = {t["metric"]: t for t in r.json()["totals"]}
    units = totals["incremental_units"]
    assert units["lower"] <= units["mean"] <= units["upper"] and units["mean"] > 0
    assert totals["incremental_units"]["label"] == "增量销量"
    items = r.json()["items"]
    assert items and all(i["promoted"] for i in items)
    assert math.isclose(sum(i["incremental_units"] for i in items), units["mean"], rel_tol=0.05)


@pytest.mark.slow
def test_pricing_equals_the_cli_workflow_on_the_warehouse(
    client_for: Any, api_world: dict[str, Any]
) -> None:
    from luopan.cli import _pricing_data as data
    from luopan.engines.pricing import PriceRulesFile, PromoPlan

    h = data.read_history(api_world["ws"])
    est = data.elasticities(h)
    admin = client_for("admin")
    got = pd.DataFrame(_all(admin, "/api/v1/pricing/elasticities")["items"]).set_index("sku")
    want = est.table.set_index("unique_id")
    for col in ("raw_elasticity", "category_elasticity", "elasticity"):
        pd.testing.assert_series_equal(
            got[col].astype(float), want.loc[got.index, col].astype(float), check_names=False
        )
    sugg = data.suggestions(
        h, data.elasticities(h, cross=False), PriceRulesFile(), objective="profit"
    )
    api = pd.DataFrame(_all(admin, "/api/v1/pricing/suggestions")["items"]).set_index("sku")
    ref = sugg.table.set_index("sku")
    pd.testing.assert_series_equal(
        api["price"].astype(float), ref.loc[api.index, "price"].astype(float), check_names=False
    )
    plan = {"start": "2026-11-20", "end": "2026-11-26", "discount": 0.2, "categories": ["蔬菜"]}
    twin = data.simulate(h, est, PromoPlan(name="plan", **plan))
    r = admin.post("/api/v1/pricing/promotions/simulate", json=plan, headers=_csrf(admin))
    totals = {t["metric"]: t["mean"] for t in r.json()["totals"]}
    assert math.isclose(totals["incremental_units"], twin.totals.loc["incremental_units", "mean"])


# ---- listening and crises ------------------------------------------------------------


@pytest.fixture(scope="module")
def crisis(api_world: dict[str, Any]) -> int:
    """A logged crisis (level 2 at 2026-10-27 09:00) whose holding statement was made."""
    from luopan.decisions.store import DecisionLog
    from luopan.engines.listening.crisis import CrisisIncident
    from luopan.engines.listening.playbook import CrisisConfig
    from luopan.engines.listening.response import mark_done, open_crisis

    start = pd.Timestamp("2026-10-27 09:00")
    with DecisionLog(api_world["ws"].metadata_url) as log:
        inc, _ = open_crisis(
            log,
            CrisisIncident(start=start, level=2),
            CrisisConfig(owners={"pr": "李公关"}),
            now=start.to_pydatetime(),
            terms=["变质"],
        )
        mark_done(log, inc.id, "holding", now=dt.datetime(2026, 10, 27, 9, 40))
    return inc.id


def test_crises_board_and_detail(client_for: Any, crisis: int) -> None:
    admin = client_for("admin")
    board = _all(admin, "/api/v1/crises", lang="en")
    row = next(i for i in board["items"] if i["incident"]["id"] == crisis)
    assert row["level"] == 2 and row["level_label"] == "major"
    assert row["deadline"] == "2026-10-27T12:00:00" and row["tasks_done"] == 1
    detail = admin.get(f"/api/v1/crises/{crisis}").json()
    tasks = {t["task"]: t for t in detail["tasks"]}
    assert tasks["holding"]["state"] == "done" and tasks["holding"]["done_at"].startswith(
        "2026-10-27T09:40"
    )
    assert tasks["holding"]["state_label"] == "完成"
    assert detail["evidence"]["terms"] == ["变质"]
    assert_envelope(client_for("viewer_a").get(f"/api/v1/crises/{crisis}"), 403, "out_of_scope")
    assert_envelope(client_for("fruit").get("/api/v1/crises"), 403, "out_of_scope")


def test_crisis_detail_of_a_non_crisis_is_not_found(
    client_for: Any, api_world: dict[str, Any]
) -> None:
    assert_envelope(
        client_for("admin").get(f"/api/v1/crises/{api_world['incidents']['whole']}"), 404
    )


def test_sentiment_trend_counts_the_rated_mentions(
    client_for: Any, api_world: dict[str, Any]
) -> None:
    body = _all(client_for("admin"), "/api/v1/listening/sentiment", grain="month")
    got = pd.DataFrame(body["items"])
    got["period"] = pd.to_datetime(got["period"])
    want = _sql(
        api_world,
        """SELECT date_trunc('month', published_at) AS period, count(*)::DOUBLE AS rated,
                  count(*) FILTER (WHERE rating <= 2)::DOUBLE AS negative
           FROM mentions WHERE rating IS NOT NULL GROUP BY 1 ORDER BY 1""",
    )
    want["period"] = pd.to_datetime(want["period"])
    merged = got.merge(want, on="period", suffixes=("", "_sql"))
    assert len(merged) == len(want) > 3
    assert (merged["rated"] == merged["rated_sql"]).all()
    assert (merged["negative"] == merged["negative_sql"]).all()
    share = merged["negative"] / merged["rated"]
    assert ((merged["negative_share"] - share).abs() < 1e-12).all()
    assert_envelope(client_for("viewer_a").get("/api/v1/listening/sentiment"), 403)


def test_topics_rank_complaint_terms(client_for: Any) -> None:
    body = _all(client_for("admin"), "/api/v1/listening/topics", days=366, top=10)
    zs = [t["z"] for t in body["items"]]
    assert 0 < len(zs) <= 10 and zs == sorted(zs, reverse=True)
    assert all(t["count"] >= 2 for t in body["items"])
    assert_envelope(client_for("analyst_a").get("/api/v1/listening/topics"), 403)


# ---- funnels and cohorts --------------------------------------------------------------


def test_funnel_entry_users_equal_the_distinct_viewers(
    client_for: Any, api_world: dict[str, Any]
) -> None:
    c = client_for("admin")
    r = c.get(
        "/api/v1/funnels",
        params={"steps": ["view", "add_to_cart", "pay"], "window": "7d", "by": "channel"},
    )
    assert r.status_code == 200, r.text
    rows = pd.DataFrame(r.json()["rows"])
    viewers = _sql(
        api_world, "SELECT count(DISTINCT user_id) AS n FROM events WHERE event_name = 'view'"
    )
    total = rows[(rows["breakdown"] == "(all)") & (rows["step_index"] == 1)]["users"].iloc[0]
    assert total == viewers["n"].iloc[0]
    per = rows[(rows["breakdown"] != "(all)") & (rows["step_index"] == 1)]["users"].sum()
    assert per == total  # first-touch: every user in exactly one channel
    users = rows[rows["breakdown"] == "(all)"]["users"].tolist()
    assert users == sorted(users, reverse=True)
    for params in (
        {"steps": ["view"]},
        {"steps": ["view", "pay"], "window": "two weeks"},
        {"steps": ["view", "pay"], "by": "user_id"},
        {"steps": ["view", "pay; drop table events"]},
    ):
        assert_envelope(c.get("/api/v1/funnels", params=params), 422)
    assert_envelope(client_for("viewer_a").get("/api/v1/funnels"), 403, "out_of_scope")


def test_retention_table(client_for: Any) -> None:
    r = client_for("admin").get("/api/v1/cohorts/retention?period=week&periods=4&cohorts=6")
    assert r.status_code == 200, r.text
    body = r.json()
    rows = pd.DataFrame(body["rows"])
    assert rows["cohort"].nunique() == 6 == len(body["matrix"]["cohorts"])
    first = rows[rows["period"] == 0]
    assert (first["rate"] == 1.0).all() and (first["retained"] == first["cohort_size"]).all()
    assert ((rows["rate"].dropna() >= 0) & (rows["rate"].dropna() <= 1)).all()
    assert body["matrix"]["periods"] == [0, 1, 2, 3, 4]


# ---- actions and outcomes -------------------------------------------------------------


@pytest.fixture(scope="module")
def outcome(api_world: dict[str, Any]) -> tuple[int, int]:
    """A verified outcome on the store-A incident's action: (action id, outcome id)."""
    from luopan.decisions.store import DecisionLog

    with DecisionLog(api_world["ws"].metadata_url) as log:
        action = next(
            a for a in log.actions() if a.incident_id == api_world["incidents"]["store_a"]
        )
        oid = log.record_outcome(
            action.id,
            metric="gmv",
            method="diff_in_diff",
            estimate=1200.0,
            lower=300.0,
            upper=2100.0,
            detail={"verdict": "worked"},
            now=dt.datetime(2026, 11, 10, 9, 0),
        )
    return action.id, oid


def test_action_detail_and_outcomes_in_scope(client_for: Any, outcome: tuple[int, int]) -> None:
    action_id, outcome_id = outcome
    c = client_for("analyst_a")
    r = c.get(f"/api/v1/actions/{action_id}?lang=en")
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["action"]["id"] == action_id
    (o,) = detail["outcomes"]
    assert (o["id"], o["estimate"], o["lower"], o["upper"]) == (outcome_id, 1200.0, 300.0, 2100.0)
    assert o["verdict"] == "worked" and o["verdict_label"] == "worked"
    listed = _all(c, "/api/v1/outcomes", verdict="worked")
    assert outcome_id in {i["id"] for i in listed["items"]}
    assert listed["items"][0]["verdict_label"] == "有效"
    assert _all(c, "/api/v1/outcomes", verdict="harmful")["total"] == 0
    other = client_for("analyst_b")
    assert_envelope(other.get(f"/api/v1/actions/{action_id}"), 404, "not_found")
    assert outcome_id not in {i["id"] for i in _all(other, "/api/v1/outcomes")["items"]}


def test_action_status_moves_and_is_audited(client_for: Any, outcome: tuple[int, int]) -> None:
    action_id, _ = outcome
    c = client_for("analyst_a")
    csrf = {"x-csrf-token": c.cookies["luopan_csrf"]}
    r = c.post(
        f"/api/v1/actions/{action_id}/status",
        json={"status": "in_progress", "note": "called the store"},
        headers=csrf,
    )
    assert r.status_code == 200, r.text
    assert r.json()["action"]["id"] == action_id
    assert r.json()["action"]["status"] == "in_progress"
    assert c.get(f"/api/v1/actions/{action_id}").json()["action"]["status"] == "in_progress"
    other = client_for("analyst_b")
    h = {"x-csrf-token": other.cookies["luopan_csrf"]}
    r = other.post(f"/api/v1/actions/{action_id}/status", json={"status": "done"}, headers=h)
    assert_envelope(r, 404, "not_found")
    r = c.post(f"/api/v1/actions/{action_id}/status", json={"status": "won"}, headers=csrf)
    assert_envelope(r, 422, "invalid_request")


# ---- root cause -----------------------------------------------------------------------


def test_rootcause_leaves_add_up_to_the_metric_in_scope(client_for: Any) -> None:
    admin, scoped = client_for("admin"), client_for("viewer_a")
    params = {"period": "2026-10", "baseline": "2026-09", "dims": ["channel"]}
    full = admin.get("/api/v1/metrics/gmv/rootcause", params=params).json()
    mine = scoped.get("/api/v1/metrics/gmv/rootcause", params=params).json()
    span = {"grain": "total", "start": "2026-10-01", "end": "2026-11-01"}
    total = admin.get("/api/v1/metrics/gmv", params=span).json()["items"][0]["value"]
    by_store = admin.get("/api/v1/metrics/gmv", params={**span, "by": "store_id"}).json()
    store_a = next(i["value"] for i in by_store["items"] if i["store_id"] == STORE_A)
    assert math.isclose(sum(leaf["real"] for leaf in full["leaves"]), total, rel_tol=1e-9)
    assert math.isclose(sum(leaf["real"] for leaf in mine["leaves"]), store_a, rel_tol=1e-9)
    assert math.isclose(full["real"], total, rel_tol=1e-9)
    assert full["explanation"] and full["dimension_labels"] == {"channel": "渠道"}
    bad = admin.get("/api/v1/metrics/gmv/rootcause", params={"dims": ["colour"]})
    assert_envelope(bad, 422)
    assert_envelope(admin.get("/api/v1/metrics/nope/rootcause"), 404)
    assert_envelope(client_for("fruit").get("/api/v1/metrics/gmv/rootcause"), 403)


def test_tree_of_the_first_possible_period_is_a_422_not_a_500(client_for: Any) -> None:
    r = client_for("admin").get("/api/v1/metrics/gmv/tree", params={"period": "0001-01"})
    assert_envelope(r, 422, "metric_error")
