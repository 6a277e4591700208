"""Write each source in its real export format, plant the dirt, and count what must land.

Line numbers in the ground truth are 1-based physical lines with the header as line 1 (CSV)
or sheet rows with the header as row 1 (xlsx). Fields never contain line breaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from luopan.demo import platforms as pf
from luopan.demo.xlsx import write_xlsx

HOSTILE = (
    "'; DROP TABLE orders; --",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "🥬🍓😡🔥",
)


@dataclass
class Ledger:
    """What was written and what must land."""

    root: Path
    quarantined: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    hostile: list[dict] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # canonical table -> landed rows
    buyers: dict[str, set] = field(default_factory=dict)  # platform -> landed buyer ids
    excluded_orders: set = field(default_factory=set)  # order ids that must not land
    landed_orders: list[pd.DataFrame] = field(default_factory=list)  # id, channel, paid, ...
    files: list[str] = field(default_factory=list)

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + int(n)

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def quarantine(
        self,
        source: str,
        path: Path,
        line: int,
        kind: str,
        detail: str,
        order_id: str | None = None,
    ) -> None:
        self.quarantined.append(
            {
                "source": source,
                "file": self.rel(path),
                "line": int(line),
                "reason_kind": kind,
                "detail": detail,
                "order_id": order_id,
            }
        )


def write_csv(path: Path, df: pd.DataFrame, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        df.to_csv(fh, index=False, lineterminator="\n")


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd")


@dataclass(frozen=True)
class DirtPlan:
    """Which month file of which platform carries which planted defect (month keys YYYYMM)."""

    tmall_bad_number: str
    tmall_bad_date: str
    tmall_duplicates: str
    tmall_orphan: str
    meituan_float_id: str
    douyin_truncated: str


def _single_item(om: pd.DataFrame, rng: np.random.Generator, avoid: set) -> int:
    cand = np.flatnonzero(
        (om["n_items"].to_numpy() == 1)
        & (om["status"].to_numpy() != "closed")
        & ~om["order_id"].isin(avoid).to_numpy()
    )
    return int(cand[rng.integers(cand.size)])


def _land(ledger: Ledger, platform: str, om: pd.DataFrame, lm: pd.DataFrame, drop: set) -> None:
    keep_o = ~om["order_id"].isin(drop)
    keep_l = ~lm["order_id"].isin(drop)
    ledger.add("orders", int(keep_o.sum()))
    ledger.add("order_lines", int(keep_l.sum()))
    if platform != "store":
        ledger.buyers.setdefault(platform, set()).update(om.loc[keep_o, "buyer"].tolist())
    ledger.excluded_orders |= drop
    ledger.landed_orders.append(
        om.loc[keep_o, ["paid", "day", "campaign_id", "cust"]].astype({"campaign_id": "category"})
    )


def export_month(
    ledger: Ledger,
    rng: np.random.Generator,
    key: str,
    month_index: int,
    om: pd.DataFrame,
    lm: pd.DataFrame,
    dirt: DirtPlan,
    late_cutoff: pd.Timestamp,
) -> None:
    """Write one month of every order source (POS and five platforms)."""
    ex = ledger.root / "exports"
    by = {
        ch: om[om["channel"] == ch]
        for ch in ("store", "tmall", "jd", "douyin", "miniprogram", "meituan")
    }
    lines = {ch: lm[lm["order_id"].isin(o["order_id"])] for ch, o in by.items()}
    # --- POS (canonical parquet) ---
    o, ln = by["store"], lines["store"]
    write_parquet(
        ex / "pos" / f"pos_orders_{key}.parquet",
        pd.DataFrame(
            {
                "order_id": o["order_id"].to_numpy(),
                "customer_id": o["member_id"].to_numpy(),
                "store_id": o["store_id"].to_numpy(),
                "channel": "store",
                "ordered_at": o["ordered_at"].to_numpy(),
                "paid_at": o["paid_at"].to_numpy(),
                "status": o["status"].to_numpy(),
                "gross_amount": o["gross"].to_numpy(),
                "discount_amount": o["discount"].to_numpy(),
                "paid_amount": o["paid"].to_numpy(),
                "refund_amount": o["refund"].to_numpy(),
                "campaign_id": o["campaign_id"].to_numpy(),
            }
        ),
    )
    write_parquet(
        ex / "pos" / f"pos_order_lines_{key}.parquet",
        pd.DataFrame(
            {
                "order_id": ln["order_id"].to_numpy(),
                "line_no": ln["line_no"].to_numpy(),
                "sku": ln["sku"].to_numpy(),
                "quantity": ln["qty"].to_numpy(),
                "unit_price": ln["unit"].to_numpy(),
                "paid_amount": ln["paid"].to_numpy(),
            }
        ),
    )
    _land(ledger, "store", o, ln, set())
    _tmall(ledger, rng, key, month_index, by["tmall"], lines["tmall"], dirt)
    # --- JD (xlsx, one row per order x SKU) ---
    o, ln = by["jd"], lines["jd"]
    write_xlsx(
        ex / "jd" / f"jd_orders_{key}.xlsx",
        pf.jd_orders(ln, o),
        numeric=pf.XLSX_NUMERIC["jd"],
        sheet="订单列表",
    )
    _land(ledger, "jd", o, ln, set())
    _douyin(ledger, rng, key, by["douyin"], lines["douyin"], dirt)
    # --- Youzan (UTF-8 CSV, one row per item) ---
    o, ln = by["miniprogram"], lines["miniprogram"]
    write_csv(ex / "youzan" / f"youzan_orders_{key}.csv", pf.youzan_orders(ln, o))
    _land(ledger, "youzan", o, ln, set())
    _meituan(ledger, rng, key, by["meituan"], lines["meituan"], dirt, late_cutoff)


def _tmall(
    ledger: Ledger,
    rng: np.random.Generator,
    key: str,
    mi: int,
    o: pd.DataFrame,
    ln: pd.DataFrame,
    dirt: DirtPlan,
) -> None:
    ex = ledger.root / "exports" / "tmall"
    po, pi = ex / f"ExportOrderList_{key}.csv", ex / f"ExportOrderDetailList_{key}.csv"
    o = o.reset_index(drop=True)
    sheet = pf.tmall_orders(o, month_index=mi)
    drop: set = set()
    bad_rows: list[tuple[int, str, str]] = []  # (row, kind, detail)
    if key == dirt.tmall_bad_number:
        r = _single_item(o, rng, drop)
        sheet.loc[r, "买家实际支付金额"] = "￥12,3a"
        drop.add(o["order_id"].iat[r])
        bad_rows.append((r, "bad_number", "买家实际支付金额 = ￥12,3a"))
    if key == dirt.tmall_bad_date:
        r = _single_item(o, rng, drop)
        sheet.loc[r, "订单创建时间"] = "2025-13-45 10:12:00"
        drop.add(o["order_id"].iat[r])
        bad_rows.append((r, "bad_date", "订单创建时间 = 2025-13-45 10:12:00"))
    dup_rows: list[int] = []
    if key == dirt.tmall_duplicates:
        picks = sorted(rng.choice(len(sheet), size=min(3, len(sheet)), replace=False).tolist())
        parts, pos = [], 0
        for p in picks:
            parts.append(sheet.iloc[pos : p + 1])
            parts.append(sheet.iloc[p : p + 1])
            pos = p + 1
        parts.append(sheet.iloc[pos:])
        new_index = np.concatenate([part.index.to_numpy() for part in parts])
        sheet = pd.concat(parts, ignore_index=True)
        # physical lines of the repeats (header is line 1)
        dup_rows = [int(i) for i in np.flatnonzero(np.r_[False, new_index[1:] == new_index[:-1]])]
        for i in dup_rows:
            ledger.duplicates.append(
                {
                    "source": "tmall_orders",
                    "file": ledger.rel(po),
                    "line": i + 2,
                    "duplicate_of_line": i + 1,
                }
            )
    write_csv(po, sheet, encoding="gbk")
    row_line = {int(r): int(r) + 2 for r in range(len(sheet))}
    if dup_rows:
        orig_pos: dict[int, int] = {}
        for pos_i, idx in enumerate(new_index):
            orig_pos.setdefault(int(idx), pos_i)
        row_line = {k: v + 2 for k, v in orig_pos.items()}
    for r, kind, detail in bad_rows:
        ledger.quarantine("tmall_orders", po, row_line[r], kind, detail, o["order_id"].iat[r])
    ln = ln.reset_index(drop=True)
    items = pf.tmall_items(ln, o, month_index=mi)
    if key == dirt.tmall_orphan:
        extra = items.iloc[[0]].copy()
        ghost = "5118999" + "0" * 11 + "1"
        extra["订单编号"] = ghost
        items = pd.concat([items, extra], ignore_index=True)
        ledger.quarantine(
            "tmall_items",
            pi,
            len(items) + 1,
            "orphan",
            "order line whose 订单编号 is in no orders file",
            ghost,
        )
    write_csv(pi, items, encoding="gbk")
    for oid in drop:  # the items of a rejected order are orphans
        for r in np.flatnonzero(ln["order_id"].to_numpy() == oid).tolist():
            ledger.quarantine(
                "tmall_items",
                pi,
                int(r) + 2,
                "orphan",
                "line of an order quarantined in the orders file",
                oid,
            )
    _land(ledger, "tmall", o, ln, drop)


def _douyin(
    ledger: Ledger,
    rng: np.random.Generator,
    key: str,
    o: pd.DataFrame,
    ln: pd.DataFrame,
    dirt: DirtPlan,
) -> None:
    path = ledger.root / "exports" / "douyin" / f"douyin_orders_{key}.csv"
    drop: set = set()
    if key == dirt.douyin_truncated and len(o):
        r = _single_item(o.reset_index(drop=True), rng, drop)
        oid = o["order_id"].iat[r]
        ln = pd.concat([ln[ln["order_id"] != oid], ln[ln["order_id"] == oid]])
        drop.add(oid)
    sheet = pf.douyin_orders(ln, o)
    write_csv(path, sheet, encoding="utf-8-sig")
    if drop:
        data = path.read_bytes().rstrip(b"\n")
        cut = data.rfind(b"\n") + 1
        fields = data[cut:].decode("utf-8").split(",")
        half = fields[3][: max(1, len(fields[3]) // 2)]
        path.write_bytes(data[:cut] + ",".join([*fields[:3], half]).encode("utf-8"))
        ledger.quarantine(
            "douyin_orders",
            path,
            len(sheet) + 1,
            "truncated",
            "the file ends in the middle of its last line",
            next(iter(drop)),
        )
    _land(ledger, "douyin", o, ln, drop)


def _meituan(
    ledger: Ledger,
    rng: np.random.Generator,
    key: str,
    o: pd.DataFrame,
    ln: pd.DataFrame,
    dirt: DirtPlan,
    late_cutoff: pd.Timestamp,
) -> None:
    o = o[o["ordered_at"] < late_cutoff].reset_index(drop=True)  # not arrived yet
    ln = ln[ln["order_id"].isin(o["order_id"])].reset_index(drop=True)
    if len(o) == 0:
        return
    path = ledger.root / "exports" / "meituan" / f"meituan_{key}.xlsx"
    sheet = pf.meituan_orders(ln, o)
    drop: set = set()
    raw: dict = {}
    if key == dirt.meituan_float_id:
        r = _single_item(o, rng, drop)
        oid = o["order_id"].iat[r]
        pos = int(np.flatnonzero(ln["order_id"].to_numpy() == oid)[0])
        mangled = f"{float(oid):.5E}".replace("E+", "E+")
        mant, exp = mangled.split("E")
        text = f"{mant.rstrip('0').rstrip('.')}E+{int(exp):02d}"
        raw[(pos, "订单编号")] = f'<c t="inlineStr"><is><t>{text}</t></is></c>'
        drop.add(oid)
        ledger.quarantine(
            "meituan_orders",
            path,
            pos + 2,
            "float_id",
            f"订单编号 = {text} (a 19-digit ID Excel turned into a float)",
            oid,
        )
    write_xlsx(path, sheet, numeric=pf.XLSX_NUMERIC["meituan"], sheet="订单明细", raw_cells=raw)
    _land(ledger, "meituan", o, ln, drop)
