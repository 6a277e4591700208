"""Small builders for test workspaces (shared by the test modules)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb
import yaml

from luopan.workspace import Workspace

TMALL_HEADERS = [
    "订单编号",
    "买家会员名",
    "订单创建时间",
    "订单付款时间 ",
    "订单状态",
    "总金额",
    "买家实际支付金额",
    "退款金额",
    "收货人姓名",
    "收货地址 ",
    "联系手机",
]
ITEM_HEADERS = ["订单编号", "标题", "价格", "购买数量", "商家编码"]


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def make_workspace(root: Path, sources: list[dict[str, Any]], **extra: Any) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    config = {"name": "test", "as_of": "2026-06-30 12:00:00", "sources": sources, **extra}
    (root / "luopan.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return Workspace.open(root)


def query(ws: Workspace, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def counts(ws: Workspace) -> dict[str, int]:
    tables = ["orders", "order_lines", "customers", "products", "_loads", "_quarantine"]
    return {t: query(ws, f'SELECT count(*) FROM "{t}"')[0][0] for t in tables}


def tmall_row(
    order_id: str,
    buyer: str = "买家甲",
    *,
    created: str = "2025年11月17日 08:41",
    paid: str = "2025/11/17 8:42",
    status: str = "交易成功",
    total: str = "￥1,234.50",
    paid_amount: str = "1234.5元",
) -> list[str]:
    return [
        order_id,
        buyer,
        created,
        paid,
        status,
        total,
        paid_amount,
        "0",
        "张三",
        "浙江省 杭州市 西湖区 ****",
        "13800138000",
    ]
