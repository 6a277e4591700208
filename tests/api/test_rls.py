"""Row-level security: a store-A user reads nothing of store B through any route or export.

Scoped figures are compared with an unscoped admin's figures for the same store on the demo
world (the admin groups by store; the scoped user gets the total of their scope).
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

import duckdb
import pandas as pd
import pytest

from conftest import STORE_A, assert_envelope

OTHER_STORES = ("S002", "S003", "S004", "S005", "S006")


def _total(client: Any, metric: str, **params: Any) -> float | None:
    r = client.get(f"/api/v1/metrics/{metric}", params={"grain": "total", **params})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 1
    return items[0]["value"]  # type: ignore[no-any-return]


def _admin_by_store(client: Any, metric: str) -> dict[str, float | None]:
    r = client.get(f"/api/v1/metrics/{metric}", params={"grain": "total", "by": "store_id"})
    assert r.status_code == 200, r.text
    return {i["store_id"]: i["value"] for i in r.json()["items"]}


@pytest.mark.parametrize(
    "metric",
    [
        "gmv",
        "orders",
        "aov",
        "units_sold",
        "line_revenue",
        "gross_margin_pct",
        "on_hand_units",
        "wasted_units",
        "refund_rate",
    ],
)
def test_store_scope_equals_the_admins_figure_for_that_store(client_for: Any, metric: str) -> None:
    admin, scoped = client_for("admin"), client_for("viewer_a")
    by_store = _admin_by_store(admin, metric)
    mine = _total(scoped, metric)
    assert mine is not None and by_store[STORE_A] is not None
    assert math.isclose(mine, by_store[STORE_A], rel_tol=1e-9)
    everyone = _total(admin, metric)
    assert everyone is not None and not math.isclose(mine, everyone, rel_tol=1e-6)


def test_grouping_by_store_shows_only_the_own_store(client_for: Any) -> None:
    r = client_for("viewer_a").get(
        "/api/v1/metrics/gmv", params={"grain": "month", "by": "store_id", "limit": 1000}
    )
    assert r.status_code == 200
    assert {i["store_id"] for i in r.json()["items"]} == {STORE_A}


def test_experiments_are_refused_to_scoped_users(client_for: Any) -> None:
    err = assert_envelope(client_for("analyst_a").get("/api/v1/experiments"), 403, "out_of_scope")
    assert err["fix"]


@pytest.mark.parametrize("metric", ["marketing_spend", "negative_mentions", "dau", "new_customers"])
def test_metrics_that_cannot_be_scoped_to_a_store_are_refused(client_for: Any, metric: str) -> None:
    err = assert_envelope(
        client_for("viewer_a").get(f"/api/v1/metrics/{metric}?grain=total"), 403, "out_of_scope"
    )
    assert "cannot be limited" in err["message"]
    assert client_for("admin").get(f"/api/v1/metrics/{metric}?grain=total").status_code == 200


def test_region_scope_is_the_stores_of_the_region(client_for: Any) -> None:
    by_store = _admin_by_store(client_for("admin"), "gmv")
    mine = _total(client_for("region_c"), "gmv")  # 华中 = S004 + S006 on the demo world
    assert mine is not None
    assert math.isclose(mine, by_store["S004"] + by_store["S006"], rel_tol=1e-9)
    # customer-level metrics fall back to the customer's region for a region-only scope
    assert (
        client_for("region_c").get("/api/v1/metrics/new_customers?grain=total").status_code == 200
    )


def test_category_scope_filters_order_lines_and_refuses_order_level_metrics(
    client_for: Any,
) -> None:
    admin, fruit = client_for("admin"), client_for("fruit")
    r = admin.get(
        "/api/v1/metrics/units_sold", params={"grain": "total", "by": "product__category"}
    )
    by_cat = {i["product__category"]: i["value"] for i in r.json()["items"]}
    assert math.isclose(_total(fruit, "units_sold") or 0, by_cat["水果"], rel_tol=1e-9)
    assert_envelope(fruit.get("/api/v1/metrics/gmv?grain=total"), 403, "out_of_scope")


def test_scorecard_is_scoped_and_never_shows_unscoped_values(client_for: Any) -> None:
    admin, scoped = client_for("admin"), client_for("viewer_a")
    card = scoped.get("/api/v1/scorecard?grain=month").json()
    rows = {r["metric"]: r for r in card["rows"]}
    start, end = card["start"], card["end"]
    r = admin.get(
        "/api/v1/metrics/gmv",
        params={"grain": "total", "by": "store_id", "start": start, "end": end},
    )
    admin_a = next(i["value"] for i in r.json()["items"] if i["store_id"] == STORE_A)
    assert math.isclose(rows["gmv"]["actual"], admin_a, rel_tol=1e-9)
    spend = rows["marketing_spend"] if "marketing_spend" in rows else rows["promo_roi"]
    assert spend["actual"] is None and spend["status"] == "none" and spend["error"]
    full = {r["metric"]: r for r in admin.get("/api/v1/scorecard?grain=month").json()["rows"]}
    assert full["gmv"]["actual"] > rows["gmv"]["actual"]


def test_incidents_only_in_scope(client_for: Any, api_world: dict[str, Any]) -> None:
    ids = api_world["incidents"]
    seen = {i["id"] for i in client_for("viewer_a").get("/api/v1/incidents").json()["items"]}
    assert ids["store_a"] in seen
    assert not seen & {ids["store_b"], ids["region_east"], ids["whole"], ids["fruit"]}
    region = {i["id"] for i in client_for("region_c").get("/api/v1/incidents").json()["items"]}
    assert ids["region_central"] in region and ids["store_a"] not in region
    fruit = {i["id"] for i in client_for("fruit").get("/api/v1/incidents").json()["items"]}
    assert fruit == {ids["fruit"]}
    admin = {i["id"] for i in client_for("admin").get("/api/v1/incidents").json()["items"]}
    assert set(ids.values()) <= admin
    c = client_for("analyst_a")
    assert_envelope(c.get(f"/api/v1/incidents/{ids['store_b']}"), 404, "not_found")
    csrf = {"x-csrf-token": c.cookies["luopan_csrf"]}
    assert_envelope(c.post(f"/api/v1/incidents/{ids['store_b']}/close", headers=csrf), 404)
    actions = c.get("/api/v1/actions").json()["items"]
    assert actions and {a["incident_id"] for a in actions} == {ids["store_a"]}


def _store_a_buyers(api_world: dict[str, Any]) -> set[str]:
    con = duckdb.connect(str(api_world["ws"].warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT DISTINCT customer_id FROM orders WHERE store_id = ? AND customer_id IS NOT NULL",
            [STORE_A],
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def test_recall_export_holds_only_customers_of_the_own_store(
    client_for: Any, api_world: dict[str, Any]
) -> None:
    c = client_for("analyst_a")
    r = c.get("/api/v1/customers/recall/export?format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig", dtype={"customer_id": str})
    buyers = _store_a_buyers(api_world)
    assert len(frame) > 50 and set(frame["customer_id"]) <= buyers
    xlsx = c.get("/api/v1/customers/recall/export?format=xlsx")
    assert xlsx.status_code == 200
    sheet = pd.read_excel(io.BytesIO(xlsx.content), dtype={"customer_id": str}, engine="openpyxl")
    assert list(sheet["customer_id"]) == list(frame["customer_id"])
    audit = client_for("admin").get("/api/v1/audit?limit=1000").json()["items"]
    assert any(
        a["action"] == "export" and a["username"] == "analyst_a" and a["detail"]["what"] == "recall"
        for a in audit
    )
    segments = c.get("/api/v1/customers/segments").json()["items"]
    assert sum(s["customers"] for s in segments) <= len(buyers)


def _get_routes(app: Any) -> list[str]:
    paths = app.openapi()["paths"]
    return sorted(p for p, ops in paths.items() if "get" in ops and p.startswith("/api/v1"))


def test_every_get_route_shows_nothing_of_other_stores(
    app: Any, client_for: Any, api_world: dict[str, Any]
) -> None:
    """Every GET route, called by a store-A user with store-revealing parameters, answers
    200 without any other store's id in its body, or a 403/404 envelope."""
    from luopan.decisions.store import DecisionLog

    c = client_for("analyst_a")
    with DecisionLog(api_world["ws"].metadata_url) as log:
        action_b = next(
            a.id for a in log.actions() if a.incident_id == api_world["incidents"]["store_b"]
        )
    fill = {
        "{name}": "gmv",
        "{incident_id}": str(api_world["incidents"]["store_b"]),
        "{action_id}": str(action_b),
    }
    params = {"by": "store_id", "grain": "month", "limit": 10000}
    routes = _get_routes(app)
    assert len(routes) >= 24
    for route in routes:
        url = route
        for k, v in fill.items():
            url = url.replace(k, v)
        r = c.get(url, params=params)
        if r.status_code in (403, 404):
            assert_envelope(r, r.status_code)
            continue
        assert r.status_code == 200, (route, r.text)
        found = set(re.findall(r"S00[1-6]", r.text)) & set(OTHER_STORES)
        assert not found, (route, found)


def test_operations_routes_keep_to_the_scope(client_for: Any) -> None:
    """Store-A users get store-A rows from the replenishment routes, and a 403 from every
    resource that cannot be limited to a store (pricing, listening, crises, funnels)."""
    c = client_for("analyst_a")
    for route in ("/api/v1/replenishment/suggestions", "/api/v1/replenishment/stock-health"):
        r = c.get(route, params={"limit": 10000})
        assert r.status_code == 200, r.text
        assert {i["store_id"] for i in r.json()["items"]} == {STORE_A}
    export = c.get("/api/v1/replenishment/suggestions/export")
    frame = pd.read_csv(io.BytesIO(export.content), encoding="utf-8-sig", dtype=str)
    assert set(frame["store_id"]) == {STORE_A}
    for route in (
        "/api/v1/pricing/elasticities",
        "/api/v1/pricing/suggestions",
        "/api/v1/pricing/suggestions/export",
        "/api/v1/listening/sentiment",
        "/api/v1/listening/topics",
        "/api/v1/crises",
        "/api/v1/funnels",
        "/api/v1/cohorts/retention",
    ):
        assert_envelope(c.get(route), 403, "out_of_scope")
    csrf = {"x-csrf-token": c.cookies["luopan_csrf"]}
    plan = {"start": "2026-11-20", "end": "2026-11-26", "discount": 0.1, "categories": ["水果"]}
    r = c.post("/api/v1/pricing/promotions/simulate", json=plan, headers=csrf)
    assert_envelope(r, 403, "out_of_scope")
