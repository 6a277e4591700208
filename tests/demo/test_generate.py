"""The demo world: determinism, export formats, dirt at the stated lines, planted incidents."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from luopan.demo import GroundTruth, generate
from luopan.ingest.mapping import load_presets, normalize_header

SMALL = {"customers": 1500, "days": 120, "stores": 6, "skus": 320}


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, GroundTruth]:
    root = tmp_path_factory.mktemp("demo")
    stages: list[tuple[str, float]] = []
    truth = generate(root, seed=7, progress=lambda s, f: stages.append((s, f)), **SMALL)
    assert stages[-1] == ("done", 1.0)
    assert all(0.0 <= f <= 1.0 for _, f in stages)
    return root, truth


def _ids(series: pd.Series) -> pd.Series:
    return series.astype(str).str.replace(r'^="?|"$', "", regex=True).str.strip()


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    return pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False)


ENCODING = {"tmall": "gbk", "douyin": "utf-8-sig", "youzan": "utf-8"}


def test_same_seed_same_bytes_other_seed_differs(world, tmp_path):
    root, _ = world
    again = tmp_path / "again"
    generate(again, seed=7, **SMALL)
    assert _hashes(root) == _hashes(again)
    other = tmp_path / "other"
    generate(other, seed=8, **SMALL)
    h1, h2 = _hashes(root), _hashes(other)
    assert h1.keys() == h2.keys()
    assert sum(h1[k] != h2[k] for k in h1) > len(h1) * 0.9


@pytest.mark.parametrize(
    ("preset", "pattern", "kind"),
    [
        ("tmall_orders", "tmall/ExportOrderList_*.csv", "gbk"),
        ("tmall_items", "tmall/ExportOrderDetailList_*.csv", "gbk"),
        ("jd_orders", "jd/jd_orders_*.xlsx", "xlsx"),
        ("douyin_orders", "douyin/douyin_orders_*.csv", "utf-8-sig"),
        ("youzan_orders", "youzan/youzan_orders_*.csv", "utf-8"),
        ("meituan_orders", "meituan/meituan_*.xlsx", "xlsx"),
    ],
)
def test_platform_headers_match_preset_first_aliases(world, preset, pattern, kind):
    root, _ = world
    files = sorted((root / "exports").glob(pattern))
    assert len(files) >= 4
    wanted = {
        spec.aliases[0]
        for out in load_presets()[preset].outputs.values()
        for spec in out.columns.values()
    }
    for f in files:
        if kind == "xlsx":
            df = pd.read_excel(f, dtype=str, engine="calamine")
        else:
            df = _read_csv(f, kind)
        assert len(df) > 0
        have = {normalize_header(h) for h in df.columns}
        missing = [a for a in wanted if normalize_header(a) not in have]
        assert not missing, (f.name, missing)
    if preset == "tmall_orders":
        assert "订单付款时间 " in _read_csv(files[0], "gbk").columns


def test_tmall_quirks(world):
    root, _ = world
    raw = [p.read_bytes() for p in sorted((root / "exports/tmall").glob("ExportOrderList_*"))]
    text = [b.decode("gbk") for b in raw]
    with pytest.raises(UnicodeDecodeError):
        for b in raw:
            b.decode("utf-8")
    assert any('"=""5118' in t for t in text) and any("\n5118" in t for t in text)
    assert any(re.search(r"￥\d{1,3}(,\d{3})*\.\d\d", t) for t in text)
    assert any(re.search(r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d\d,", t) for t in text)
    assert any(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in text)


def test_other_exports_readable(world):
    root, truth = world
    ex = root / "exports"
    members = _read_csv(ex / "crm/members.csv", "utf-8-sig")
    assert list(members.columns) == [
        "会员编号",
        "注册时间",
        "手机号",
        "姓名",
        "城市",
        "大区",
        "注册渠道",
        "会员等级",
        "性别",
        "出生年份",
    ]
    products = pd.read_excel(ex / "erp/products.xlsx", dtype=str, engine="calamine")
    assert len(products) == 320
    assert products["保质期(天)"].astype(int).between(1, 365).all()
    assert {"1", "365"} <= set(products["保质期(天)"])
    assert products["品类"].nunique() == 10
    pos = pd.read_parquet(ex / "pos" / sorted(p.name for p in (ex / "pos").glob("pos_orders*"))[0])
    assert list(pos.columns)[:4] == ["order_id", "customer_id", "store_id", "channel"]
    ev = [json.loads(x) for x in next((ex / "events").glob("*.jsonl")).read_text().splitlines()]
    assert {
        "event_id",
        "event_time",
        "user_id",
        "session_id",
        "event_name",
        "channel",
        "sku",
        "properties",
    } == set(ev[0])
    assert ev[0]["event_time"].endswith("+08:00")
    inv = sorted((ex / "erp").glob("inventory_2*.xlsx"))
    total = sum(len(pd.read_excel(p, dtype=str, engine="calamine")) for p in inv)
    assert total == truth.ingest.expected_rows["inventory"] == 6 * 320 * 120


def _landed_orders(root: Path, truth: GroundTruth) -> tuple[set, int, dict[str, set]]:
    ex = root / "exports"
    bad = {q.order_id for q in truth.ingest.quarantined if q.order_id}
    orders: set = set()
    lines = 0
    buyers: dict[str, set] = {}
    for p in ex.glob("pos/pos_orders_*.parquet"):
        orders |= set(pd.read_parquet(p)["order_id"])
    for p in ex.glob("pos/pos_order_lines_*.parquet"):
        lines += len(pd.read_parquet(p))
    specs = [
        ("tmall", "tmall/ExportOrderList_*.csv", "订单编号", "买家会员名"),
        ("jd", "jd/*.xlsx", "订单号", "下单帐号"),
        ("douyin", "douyin/*.csv", "主订单编号", "买家昵称"),
        ("youzan", "youzan/*.csv", "订单号", "买家手机号"),
        ("meituan", "meituan/*.xlsx", "订单编号", "用户ID"),
    ]
    for plat, pattern, oid, buyer in specs:
        for p in ex.glob(pattern):
            if p.suffix == ".xlsx":
                df = pd.read_excel(p, dtype=str, engine="calamine")
            else:
                df = _read_csv(p, ENCODING[plat])
            df = df.drop_duplicates()
            ids = _ids(df[oid])
            good = ~ids.isin(bad) & ~ids.str.contains("E+", regex=False)
            orders |= set(ids[good])
            buyers.setdefault(plat, set()).update(df.loc[good, buyer])
            if plat != "tmall":
                lines += int(good.sum())
    for p in ex.glob("tmall/ExportOrderDetailList_*.csv"):
        ids = _ids(_read_csv(p, "gbk")["订单编号"])
        lines += int((ids.isin(orders)).sum())
    return orders, lines, buyers


def test_expected_rows_match_files(world):
    root, truth = world
    orders, lines, buyers = _landed_orders(root, truth)
    rows = truth.ingest.expected_rows
    assert rows["orders"] == len(orders)
    assert rows["order_lines"] == lines
    members = _read_csv(root / "exports/crm/members.csv", "utf-8-sig")
    assert rows["customers"] == members["会员编号"].nunique() + sum(len(b) for b in buyers.values())
    assert truth.ingest.platform_customers == {k: len(v) for k, v in buyers.items()}
    for table in ("products", "stores", "prices", "inventory", "events", "mentions", "tickets"):
        assert rows[table] > 0


def _line(path: Path, n: int, encoding: str) -> str:
    return path.read_bytes().decode(encoding).split("\n")[n - 1]


def test_dirt_at_stated_lines(world):
    root, truth = world
    kinds = {q.reason_kind for q in truth.ingest.quarantined}
    assert {"bad_number", "bad_date", "float_id", "duplicate_key", "orphan", "truncated"} <= kinds
    for q in truth.ingest.quarantined:
        path = root / q.file
        enc = "gbk" if "tmall" in q.file else "utf-8-sig"
        if q.reason_kind == "float_id":
            df = pd.read_excel(path, dtype=str, engine="calamine")
            assert re.fullmatch(r"\d\.\d+E\+18", df["订单编号"].iat[q.line - 2])
            continue
        line = _line(path, q.line, enc)
        if q.reason_kind == "bad_number":
            assert "￥12,3a" in line
        elif q.reason_kind == "bad_date":
            assert "2025-13-45" in line
        elif q.reason_kind == "orphan":
            assert q.order_id in line
        elif q.reason_kind == "truncated":
            data = path.read_bytes()
            assert not data.endswith(b"\n")
            assert len(data.decode(enc).split("\n")) == q.line
            header = _line(path, 1, enc)
            assert line.count(",") < header.count(",")
        elif q.reason_kind == "duplicate_key":
            key = line.split(",")[0]
            first = [
                i + 1
                for i, x in enumerate(path.read_text(encoding=enc).split("\n"))
                if x.split(",")[0] == key
            ]
            assert first[0] < q.line and _line(path, first[0], enc) != line
    assert truth.ingest.duplicate_rows == len(truth.ingest.duplicates) >= 8
    for d in truth.ingest.duplicates:
        enc = "gbk" if "tmall" in d.file else "utf-8-sig"
        p = root / d.file
        assert _line(p, d.line, enc) == _line(p, d.duplicate_of_line, enc)
    hostile = "".join(h.value for h in truth.ingest.hostile)
    for s in ("DROP TABLE", "<script>", "=cmd|", "😡"):
        assert s in hostile


def test_late_source(world):
    root, truth = world
    late = truth.late_source
    assert late.lag_days >= 3
    newest = max(
        pd.to_datetime(pd.read_excel(p, dtype=str, engine="calamine")["下单时间"]).max()
        for p in (root / "exports/meituan").glob("*.xlsx")
    )
    assert newest.date() == late.newest_date
    assert (late.others_newest_date - late.newest_date).days == late.lag_days


def test_dau_drop_visible_in_events(world):
    root, truth = world
    drop = truth.dau_drop
    cust = pd.read_parquet(root / "truth/customers.parquet")
    region = dict(zip(cust["customer_id"], cust["region"], strict=True))
    rows = []
    for p in (root / "exports/events").glob("*.jsonl"):
        for x in p.read_text().splitlines():
            e = json.loads(x)
            rows.append((e["event_time"][:10], e["user_id"], e["channel"]))
    ev = pd.DataFrame(rows, columns=["day", "user", "channel"]).drop_duplicates()
    ev["seg"] = (ev["channel"] == drop["channel"]) & (ev["user"].map(region) == drop["region"])
    daily = ev.groupby(["day", "seg"]).size().unstack(fill_value=0)
    start, end = str(drop["start"]), str(drop["end"])
    before = daily[daily.index < start].tail(28).mean()
    during = daily[(daily.index >= start) & (daily.index <= end)].mean()
    assert during[True] / before[True] < 0.55  # planted: -70%
    assert during[False] / before[False] > 0.75
    realized = ev.groupby("day")["user"].nunique()
    assert truth.dau_by_day == {d: int(n) for d, n in realized.items()}


def test_crisis_burst_in_mentions(world):
    root, truth = world
    m = pd.read_csv(root / "exports/social/mentions.csv", dtype=str)
    t = pd.to_datetime(m["published_at"])
    topic = m["text"].str.contains(truth.crisis["topic"], regex=False)
    start = pd.Timestamp(truth.crisis["start"])
    assert t[topic].min() == start
    assert start.hour * 60 + start.minute == truth.crisis["start_minute"]
    window = topic & (t >= start) & (t < start + pd.Timedelta(hours=6))
    assert window.sum() >= 0.8 * truth.crisis["n_mentions"]
    assert window.sum() > 5 * truth.crisis["baseline_per_day"] / 4


def test_elasticities_and_demand_truth(world):
    root, truth = world
    assert -2.9 < truth.elasticity_mean < -2.3
    el = pd.read_parquet(root / truth.elasticities_file)
    assert len(el) == 320 and el["elasticity"].std() > 0.3
    demand = pd.read_parquet(root / truth.demand_file)
    assert len(demand) == 6 * 320 and (demand["base_rate"] > 0).all()
    assert len(truth.weekly_profile["store"]) == 7
    names = {f["name"] for f in truth.festivals}
    assert "双11大促" in names


def test_experiments_and_recall(world):
    root, truth = world
    a = pd.read_csv(root / "exports/experiments/assignments.csv", dtype=str)
    by = {e.experiment_id: e for e in truth.experiments}
    assert {e.kind for e in truth.experiments} == {"null", "positive", "srm"}
    for eid, e in by.items():
        counts = a[a["experiment_id"] == eid]["variant"].value_counts()
        assert counts.get("treatment", 0) == e.n_treatment_logged
        assert counts.get("control", 0) == e.n_control_logged
    srm = next(e for e in truth.experiments if e.kind == "srm")
    assert srm.n_treatment_logged < srm.n_treatment_true
    pos = next(e for e in truth.experiments if e.kind == "positive")
    assert pos.true_lift > 0
    rec = a[a["experiment_id"] == "EXP-RECALL"]["variant"].value_counts()
    assert rec.get("treatment", 0) == truth.recall["n_treated"]


def test_low_roi_campaign_below_benchmark_two_periods(world):
    root, truth = world
    low = truth.low_roi_campaign
    spend = pd.read_csv(root / "exports/marketing/marketing_spend.csv", dtype={"spend": float})
    spend = spend[spend["campaign_id"] == low["campaign_id"]]
    pos = pd.concat(pd.read_parquet(p) for p in (root / "exports/pos").glob("pos_orders_*"))
    pos = pos[pos["campaign_id"] == low["campaign_id"]]
    rev = pos.groupby(pd.to_datetime(pos["ordered_at"]).dt.strftime("%Y-%m"))["paid_amount"].sum()
    cost = spend.groupby(spend["date"].str.slice(0, 7))["spend"].sum()
    roi = (rev / cost).dropna()
    assert len(low["low_periods"]) == 2
    for period in low["low_periods"]:
        assert roi[period] < low["benchmark_roi"]
    assert all(roi[p] >= low["benchmark_roi"] for p in roi.index if p not in low["low_periods"])


def test_overpromoted_group(world):
    root, truth = world
    g = truth.overpromoted_group
    c = pd.read_csv(root / "exports/community/communities.csv")
    grp = c[c["group_id"] == g["group_id"]]
    assert 0.5 < 1 - grp["active_members"].tail(28).mean() / grp["active_members"].head(28).mean()
    for _, other in c[c["group_id"] != g["group_id"]].groupby("group_id"):
        a = other["active_members"]
        assert a.tail(28).mean() / a.head(28).mean() > 0.7


def test_workspace_yaml_and_schema(world):
    root, truth = world
    doc = yaml.safe_load((root / "luopan.yaml").read_text(encoding="utf-8"))
    assert set(doc) == {"name", "timezone", "currency", "warehouse", "as_of", "sources"}
    assert str(doc["as_of"]).endswith("23:59:59")
    names = [s["name"] for s in doc["sources"]]
    assert len(names) == len(set(names))
    for s in doc["sources"]:
        assert re.fullmatch(r"[a-z0-9_]+", s["name"])
        assert list(root.glob(s["path"])), s["path"]
        assert ("preset" in s) != ("table" in s)
        if "preset" in s:
            assert s["preset"] in load_presets()
    loaded = GroundTruth.model_validate_json((root / "ground_truth.json").read_text("utf-8"))
    assert loaded == truth
    doc_md = (Path(__file__).parents[2] / "src/luopan/demo/GROUND_TRUTH.md").read_text("utf-8")
    for name in GroundTruth.model_json_schema()["properties"]:
        assert f"`{name}`" in doc_md, name
