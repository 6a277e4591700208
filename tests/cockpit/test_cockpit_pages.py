"""Cockpit pages through the real app and login: values, languages, scopes, forms, offline."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from cockpit_support import STORE

from luopan.metrics import Condition, connect, load_catalog, query_metric
from luopan.metrics.grains import grain_start, period_label, shift
from luopan.metrics.labels import format_value

PAGES = [
    "/",
    "/cockpit/metrics",
    "/cockpit/metrics/gmv",
    "/cockpit/metrics/gmv/rca",
    "/cockpit/incidents",
    "/cockpit/customers",
    "/cockpit/experiments",
    "/cockpit/replenishment",
    "/cockpit/pricing",
    "/cockpit/funnels",
    "/cockpit/listening",
]


def _latest(ws: Any) -> dt.date:
    con = connect(ws)
    try:
        return con.table("orders").ordered_at.max().to_pyarrow().as_py().date()
    finally:
        con.disconnect()


def _week(ws: Any) -> tuple[str, dt.date, dt.date]:
    """The cockpit's default period, computed independently: the last complete ISO week."""
    start = shift(grain_start(_latest(ws) + dt.timedelta(days=1), "week"), "week", -1)
    return period_label(start, "week"), start, start + dt.timedelta(days=7)


def _gmv(ws: Any, start: dt.date, end: dt.date, where: list[Condition] | None = None) -> str:
    catalog = load_catalog(ws)
    con = connect(ws)
    try:
        frame = query_metric(
            con, catalog, "gmv", grain=None, start=start, end=end, where=where or []
        )
    finally:
        con.disconnect()
    return format_value(float(frame["value"].iloc[0]), catalog.metric("gmv"))


def _row(html: str, metric: str) -> str:
    m = re.search(rf'<tr data-metric="{metric}"[^>]*>(.*?)</tr>', html, re.S)
    assert m, f"no scorecard row for {metric}"
    return m.group(1)


def _actual(html: str, metric: str) -> str:
    m = re.search(r'<td class="num actual">([^<]*)</td>', _row(html, metric))
    assert m, f"no actual value for {metric}"
    return m.group(1)


def test_anonymous_is_redirected_to_login(cockpit_app: Any) -> None:
    from cockpit_support import TestClient

    r = TestClient(cockpit_app).get("/cockpit/metrics/gmv?lang=en", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fcockpit%2Fmetrics%2Fgmv%3Flang%3Den"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_offline_in_both_languages(client_for: Any, lang: str) -> None:
    client = client_for("boss")
    for url in PAGES:
        r = client.get(f"{url}?lang={lang}")
        assert r.status_code == 200, (url, r.text[:500])
        html = r.text
        assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in html, url
        assert ("退出" if lang == "zh" else "Log out") in html, url
        assert 'class="banner error"' not in html, (url, re.findall(r"banner error.{0,300}", html))
        # offline: no absolute URL anywhere, scripts only from the app itself
        assert re.findall(r"https?://|//cdn", html) == [], url
        assert set(re.findall(r'<script src="([^"]+)"', html)) == {
            "/static/vendor/plotly.min.js",
            "/cockpit/static/cockpit.js",
        }
    assert client.get("/static/vendor/plotly.min.js").status_code == 200
    assert "Plotly" in client.get("/cockpit/static/cockpit.js").text


def test_the_channel_filter_names_the_channels_in_the_page_language(client_for: Any) -> None:
    client = client_for("boss")
    zh = client.get("/cockpit/metrics/gmv?lang=zh").text
    en = client.get("/cockpit/metrics/gmv?lang=en").text
    box = re.search(r'<select name="channel">(.*?)</select>', zh, re.S)
    assert box, "no channel filter"
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', box.group(1)))
    assert {"tmall", "douyin", "store"} <= set(options)  # the stored codes stay the values
    assert (options["tmall"], options["douyin"], options["store"]) == ("天猫", "抖音", "门店")
    assert '<option value="tmall" >Tmall</option>' in en or '<option value="tmall">Tmall' in en


def test_overview_scorecard_shows_the_metric_values(cockpit_world: Any, client_for: Any) -> None:
    ws, _ = cockpit_world
    period, start, end = _week(ws)
    zh = client_for("boss").get("/?lang=zh").text
    en = client_for("boss").get("/?lang=en").text
    assert f'<span id="sc-period">{period}</span>' in zh
    assert "平衡计分卡" in zh and "balanced scorecard" in en
    assert "成交额GMV" in _row(zh, "gmv") and ">GMV ★<" in _row(en, "gmv")
    assert "客单价" in _row(zh, "aov") and "average order value" in _row(en, "aov")
    assert _actual(zh, "gmv") == _gmv(ws, start, end)
    # the status pill is the catalog's RAG against the weekly target
    catalog = load_catalog(ws)
    con = connect(ws)
    try:
        gmv = query_metric(con, catalog, "gmv", grain=None, start=start, end=end)["value"][0]
    finally:
        con.disconnect()
    target = catalog.metric("gmv").meta.targets["week"]
    want = "green" if gmv >= target else "amber" if gmv >= 0.9 * target else "red"
    assert f'data-status="{want}"' in _row(zh, "gmv")
    # north star, incidents of the loop, the action due with its owner
    assert 'id="north-star"' in zh and "北极星指标" in zh
    assert "Promo ROI below benchmark" in en  # opened by the loop on the demo world
    assert "王店长" in zh


def test_overview_health_index_is_the_customer_engines(cockpit_world: Any, client_for: Any) -> None:
    import pandas as pd

    from luopan.engines.customers.health import health_by_segment

    ws, _ = cockpit_world
    con = connect(ws)
    try:
        o = con.table("orders")
        o = o.filter(o.customer_id.notnull())
        net = o.paid_amount.cast("float64").fill_null(0) - o.refund_amount.cast(
            "float64"
        ).fill_null(0)
        occ = (
            o.mutate(day=o.ordered_at.date(), amount=net)
            .filter(lambda t: t.amount > 0)
            .group_by(["customer_id", "day"])
            .aggregate(amount=lambda t: t.amount.sum())
            .to_pandas()
            .rename(columns={"customer_id": "customer"})
        )
        regions = con.table("customers").select("customer_id", "region").to_pandas()
        tickets = con.table("tickets").select("customer_id", "created_at").to_pandas()
    finally:
        con.disconnect()
    occ["day"] = pd.to_datetime(occ["day"])
    complaints = tickets.dropna().rename(columns={"customer_id": "customer", "created_at": "day"})
    complaints["day"] = pd.to_datetime(complaints["day"]).dt.normalize()
    seg = regions.set_index("customer_id")["region"].fillna("—")
    table = health_by_segment(
        occ, seg, [pd.Timestamp(_latest(ws))], complaints=complaints, min_customers=1
    )
    want = (table["health"] * table["customers"]).sum() / table["customers"].sum()
    html = client_for("boss").get("/?lang=zh").text
    assert f'data-value="{want:.1f}"' in html
    assert 0 < want < 100


def test_store_user_sees_only_their_store(cockpit_world: Any, client_for: Any) -> None:
    ws, ids = cockpit_world
    _, start, end = _week(ws)
    html = client_for("shop").get("/?lang=zh").text
    mine = _gmv(ws, start, end, [Condition(field="store_id", op="in", value=[STORE])])
    everyone = _gmv(ws, start, end)
    assert _actual(html, "gmv") == mine != everyone
    assert everyone not in html
    assert STORE in html  # scope shown in the header
    # marketing spend cannot be limited to a store: no figure, the reason instead
    assert '<td class="num actual">' not in _row(html, "marketing_spend")
    # incidents: the store's own, not the other store's nor the loop's brand-wide ones
    listing = client_for("shop").get("/cockpit/incidents?status=all").text
    assert f'data-incident="{ids["store"]}"' in listing
    assert f'data-incident="{ids["other"]}"' not in listing
    assert "促销ROI" not in listing
    assert client_for("shop").get(f"/cockpit/incidents/{ids['other']}").status_code == 404
    # a breakdown by store shows their store only
    explorer = client_for("shop").get("/cockpit/metrics/gmv?by=store_id&lang=zh").text
    section = explorer[explorer.index('id="breakdown"') :]
    assert re.findall(r"<tr><td>(S\d+)</td>", section) == [STORE]
    # brand-wide tables are refused, not shown unscoped
    exp = client_for("shop").get("/cockpit/experiments?lang=en").text
    assert "cannot be limited" in exp and "EXP-01" not in exp


def test_filters_stay_in_the_url_and_apply(cockpit_world: Any, client_for: Any) -> None:
    ws, _ = cockpit_world
    _, start, end = _week(ws)
    html = client_for("boss").get("/?channel=tmall").text
    tmall = _gmv(ws, start, end, [Condition(field="channel", op="eq", value="tmall")])
    assert _actual(html, "gmv") == tmall
    assert 'href="/cockpit/metrics?channel=tmall"' in html  # navigation keeps the filter
    bad = client_for("boss").get("/?from=2026-13-01&lang=en")
    assert bad.status_code == 200 and "is not a date" in bad.text


def test_metric_explorer_breakdown_band_and_comparison(cockpit_world: Any, client_for: Any) -> None:
    ws, _ = cockpit_world
    period, start, end = _week(ws)
    html = client_for("boss").get(f"/cockpit/metrics/gmv?by=channel&period={period}&lang=zh").text
    assert 'id="band-chart"' in html and "预期区间" in html
    catalog = load_catalog(ws)
    con = connect(ws)
    try:
        frame = query_metric(con, catalog, "gmv", grain=None, by=["channel"], start=start, end=end)
    finally:
        con.disconnect()
    section = html[html.index('id="breakdown"') :]
    for row in frame.itertuples():
        want = format_value(float(row.value), catalog.metric("gmv"))
        assert re.search(
            rf"<td>{row.channel}</td><td class=\"num\">{re.escape(want)}</td>", section
        ), row.channel
    fest = client_for("boss").get("/cockpit/metrics/gmv?compare=festival&lang=zh").text
    assert "双11 2026" in fest
    assert f'href="/cockpit/metrics/gmv/rca?period={period}' in html


def test_root_cause_matches_the_decision_engine(cockpit_world: Any, client_for: Any) -> None:
    from luopan.decisions.diagnose import diagnose_metric

    ws, _ = cockpit_world
    period, start, _ = _week(ws)
    baseline = period_label(start - dt.timedelta(days=7), "week")
    con = connect(ws)
    try:
        want = diagnose_metric(con, load_catalog(ws), "gmv", period, baseline)
    finally:
        con.disconnect()
    html = client_for("boss").get(f"/cockpit/metrics/gmv/rca?period={period}&lang=en").text
    text = unescape(re.search(r'id="explanation">([^<]*)<', html).group(1))  # type: ignore[union-attr]
    assert text == want.summary_en.replace("channel", "channel").replace(
        "customer__region", "customer region"
    )
    assert 'data-node="buyers"' in html and 'data-node="aov"' in html  # GMV = buyers × … × AOV


def test_incident_timeline_and_status_forms(cockpit_world: Any, client_for: Any) -> None:
    from luopan.decisions.store import DecisionLog

    ws, ids = cockpit_world
    boss = client_for("boss")
    html = boss.get(f"/cockpit/incidents/{ids['store']}?lang=zh").text
    for text in ("渠道 store 贡献了全部下滑", "加大生鲜陈列", "王店长", "+1234", "[200, 2269]"):
        assert text in html, text
    token = boss.cookies.get("luopan_csrf")
    url = f"/cockpit/incidents/{ids['store']}/status"
    assert boss.post(url, data={"status": "acknowledged"}).status_code == 403  # no CSRF token
    r = boss.post(url, data={"status": "acknowledged", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    r = boss.post(
        f"/cockpit/actions/{ids['action']}/status",
        data={"status": "in_progress", "note": "已排班", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with DecisionLog(ws.metadata_url) as log:
        detail = log.incident(ids["store"])
    assert detail.incident.status == "acknowledged"
    assert (detail.actions[0].status, detail.actions[0].note) == ("in_progress", "已排班")
    reader = client_for("reader")
    r = reader.post(
        url, data={"status": "resolved", "csrf_token": reader.cookies.get("luopan_csrf")}
    )
    assert r.status_code == 403
    with DecisionLog(ws.metadata_url) as log:
        assert log.incident(ids["store"]).incident.status == "acknowledged"


def test_customers_page_lists_what_the_export_downloads(client_for: Any) -> None:
    boss = client_for("boss")
    html = boss.get("/cockpit/customers?lang=en").text
    assert "RFM matrix" in html and 'id="clv-chart"' in html
    link = unescape(re.search(r'id="export-recall" href="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    csv = boss.get(link)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    first = csv.content.decode("utf-8-sig").splitlines()[1].split(",")[0]
    table = html[html.index('id="recall"') :]
    assert re.search(r"<tbody><tr><td>([^<]+)</td>", table).group(1) == first  # type: ignore[union-attr]
    assert 'id="export-recall"' not in client_for("reader").get("/cockpit/customers").text


def test_experiment_planner_gives_the_engines_sample_size(client_for: Any) -> None:
    from luopan.engines.abtest.design import plan

    boss = client_for("boss")
    html = boss.get(
        "/cockpit/experiments?lang=en&baseline=0.032&mde=0.1&alpha=0.05&power=0.8"
        "&variations=3&daily=2500"
    ).text
    expected = plan(0.032, 0.1, target_power=0.8, n_variations=3, alpha=0.05)
    per = re.search(r'data-n-per="(\d+)"', html)
    assert per and int(per.group(1)) == expected.n_per_variation
    assert f"{expected.n_total:,}" in html
    assert f'<td class="num">{-(-expected.n_total // 2500):,}</td>' in html  # days, rounded up
    bad = boss.get("/cockpit/experiments?lang=en&baseline=1.5&mde=0.1&alpha=0.05&power=0.8")
    assert bad.status_code == 200 and "baseline=1.5 is out of range" in bad.text
    assert 'data-n-per="' not in bad.text
    text = boss.get("/cockpit/experiments?lang=zh&baseline=x%3Cscript%3E&mde=0.1").text
    assert "不是数字" in text and "<script>" not in text.split('id="planner"')[1]


def test_pricing_page_shows_the_apis_figures_and_simulates(client_for: Any) -> None:
    boss = client_for("boss")
    html = boss.get("/cockpit/pricing?lang=en").text
    api = boss.get("/api/v1/pricing/suggestions", params={"changed": True}).json()
    change = re.search(r'id="profit-change">([^<]+)<', html)
    assert change and change.group(1) == f"{api['summary']['profit_change'] * 100:+.1f}%"
    elast = boss.get("/api/v1/pricing/elasticities", params={"limit": 500}).json()
    by_sku = {e["sku"]: e for e in elast["items"]}
    shown = re.findall(r'<tr data-sku="([^"]+)" data-status="([^"]+)">(.*?)</tr>', html)
    assert len(shown) == min(25, elast["total"])
    for sku, status, cells in shown:
        e = by_sku[sku]
        assert status == e["status"]
        assert f'<td class="num dim">{e["category_elasticity"]:,.2f}</td>' in cells
        if status == "ok":
            assert f"<b>{e['elasticity']:,.2f}</b>" in cells
        else:
            assert e["status_label"] in cells and "<b>" not in cells
    # the simulator: the same totals as the API's POST for the same plan
    cat = re.search(r'name="promo_category">.*?<option value="([^"]+)"', html, re.S).group(1)  # type: ignore[union-attr]
    start = re.search(r'name="promo_start" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    sim = boss.get(
        "/cockpit/pricing",
        params={
            "lang": "en",
            "promo_category": cat,
            "promo_discount": "0.2",
            "promo_start": start,
            "promo_days": "7",
        },
    ).text
    end = (dt.date.fromisoformat(start) + dt.timedelta(days=6)).isoformat()
    posted = boss.post(
        "/api/v1/pricing/promotions/simulate",
        json={"name": "cockpit", "start": start, "end": end, "discount": 0.2, "categories": [cat]},
        headers={"x-csrf-token": boss.cookies["luopan_csrf"]},
    )
    assert posted.status_code == 200, posted.text
    margin = next(m for m in posted.json()["totals"] if m["metric"] == "incremental_margin")
    row = re.search(
        r'<tr data-metric="incremental_margin"><td>[^<]+</td><td class="num"><b>([^<]+)</b>', sim
    )
    assert row and row.group(1) == f"{margin['mean']:,.1f}"
    bad = boss.get(
        "/cockpit/pricing", params={"lang": "en", "promo_category": cat, "promo_discount": "2"}
    ).text
    assert "the promotion plan is not valid (discount)" in bad and 'id="promo-result"' not in bad
    # prices are national: a store-scoped user is told why, and sees no figure
    shop = client_for("shop").get("/cockpit/pricing?lang=en").text
    assert "cannot be limited" in shop and 'id="elasticities"' not in shop
