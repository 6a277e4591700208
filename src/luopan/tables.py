"""The canonical model, declared once.

This declaration drives ingest validation (types, required columns, keys, references,
ranges), the warehouse DDL and the documentation page of the model. Column kinds:

- ``id``: text identifier. Read as text always; ``="…"`` wrappers, quotes and tab prefixes are
  unwrapped; a value that arrives as a float (``1.23E+18``, ``5118….0``) is rejected, because
  its digits are already lost.
- ``text``, ``int``, ``decimal`` (DECIMAL(18,2) money), ``float``, ``bool``, ``json``.
- ``timestamp``: naive local time in the workspace timezone; inputs with an offset are converted.
- ``date``.
- ``pii``: personal data (phone, name, address, ID-card number). Hashed with the workspace salt
  at ingest; the raw value never reaches the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "LINEAGE_COLUMNS",
    "TABLES",
    "Column",
    "Kind",
    "Reference",
    "Table",
    "duckdb_type",
    "get_table",
]

Kind = Literal["id", "text", "int", "decimal", "float", "timestamp", "date", "bool", "json", "pii"]

_DUCKDB_TYPES: dict[str, str] = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "int": "BIGINT",
    "decimal": "DECIMAL(18,2)",
    "float": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "bool": "BOOLEAN",
    "json": "VARCHAR",
    "pii": "VARCHAR",
}


def duckdb_type(kind: Kind) -> str:
    """The DuckDB column type that stores a column kind."""
    return _DUCKDB_TYPES[kind]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    zh: str
    en: str
    required: bool = False
    min_value: float | None = None
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Reference:
    columns: tuple[str, ...]
    table: str
    to_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    time_column: str | None = None
    core: bool = False
    _by_name: dict[str, Column] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self._by_name[name]

    def has(self, name: str) -> bool:
        return name in self._by_name

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def ddl(self, name: str | None = None) -> str:
        """CREATE TABLE statement for DuckDB, lineage columns included.

        Only identifiers from this module's own declaration reach the SQL text.
        """
        cols = [f'"{c.name}" {duckdb_type(c.kind)}' for c in self.columns]
        cols += [f'"{n}" {t}' for n, t, _, _ in LINEAGE_COLUMNS]
        return f'CREATE TABLE IF NOT EXISTS "{name or self.name}" ({", ".join(cols)})'


# name, DuckDB type, zh, en
LINEAGE_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("_source", "VARCHAR", "来源名称", "source name"),
    ("_batch_id", "VARCHAR", "批次号", "load batch id"),
    ("_loaded_at", "TIMESTAMP", "入库时间 (UTC)", "loaded at (UTC)"),
    ("_line", "BIGINT", "来源文件行号", "line in the source file"),
)

C = Column
STATUSES = ("created", "paid", "shipped", "completed", "closed", "refunded")
CHANNELS = ("store", "miniprogram", "tmall", "jd", "douyin", "meituan", "youzan", "shopify", "other")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "stores", "门店", "stores",
            (
                C("store_id", "id", "门店编号", "store id", required=True),
                C("name", "text", "门店名称", "store name"),
                C("city", "text", "城市", "city"),
                C("region", "text", "大区", "region"),
                C("format", "text", "业态", "store format"),
                C("opened_at", "date", "开业日期", "opening date"),
            ),
            key=("store_id",),
        ),
        Table(
            "customers", "客户", "customers",
            (
                C("customer_id", "id", "客户编号", "customer id", required=True),
                C("first_seen_at", "timestamp", "首次出现时间", "first seen at"),
                C("city", "text", "城市", "city"),
                C("region", "text", "大区", "region"),
                C("acquisition_channel", "text", "获客渠道", "acquisition channel"),
                C("member_level", "text", "会员等级", "member level"),
                C("gender", "text", "性别", "gender"),
                C("birth_year", "int", "出生年份", "birth year", min_value=1900),
                C("phone_hash", "pii", "手机号(哈希)", "phone (hashed)"),
                C("name_hash", "pii", "姓名(哈希)", "name (hashed)"),
                C("address_hash", "pii", "地址(哈希)", "address (hashed)"),
                C("id_card_hash", "pii", "身份证号(哈希)", "ID-card number (hashed)"),
            ),
            key=("customer_id",),
            time_column="first_seen_at",
            core=True,
        ),
        Table(
            "products", "商品", "products",
            (
                C("sku", "id", "商品编码", "SKU", required=True),
                C("name", "text", "商品名称", "product name"),
                C("category", "text", "品类", "category"),
                C("subcategory", "text", "子品类", "subcategory"),
                C("brand", "text", "品牌", "brand"),
                C("unit_cost", "decimal", "单位成本", "unit cost", min_value=0),
                C("list_price", "decimal", "标价", "list price", min_value=0),
                C("shelf_life_days", "int", "保质期(天)", "shelf life (days)", min_value=0),
            ),
            key=("sku",),
            core=True,
        ),
        Table(
            "orders", "订单", "orders",
            (
                C("order_id", "id", "订单编号", "order id", required=True),
                C("customer_id", "id", "客户编号", "customer id"),
                C("store_id", "id", "门店编号", "store id"),
                C("channel", "text", "渠道", "channel", allowed=CHANNELS),
                C("ordered_at", "timestamp", "下单时间", "ordered at", required=True),
                C("paid_at", "timestamp", "付款时间", "paid at"),
                C("status", "text", "订单状态", "status", allowed=STATUSES),
                C("gross_amount", "decimal", "商品总额", "gross amount", min_value=0),
                C("discount_amount", "decimal", "优惠金额", "discount amount", min_value=0),
                C("paid_amount", "decimal", "实付金额", "paid amount", min_value=0),
                C("refund_amount", "decimal", "退款金额", "refund amount", min_value=0),
                C("campaign_id", "id", "活动编号", "campaign id"),
                C("phone_hash", "pii", "收货手机(哈希)", "receiver phone (hashed)"),
                C("name_hash", "pii", "收货人(哈希)", "receiver name (hashed)"),
                C("address_hash", "pii", "收货地址(哈希)", "receiver address (hashed)"),
                C("province", "text", "省份", "province"),
                C("city", "text", "城市", "city"),
            ),
            key=("order_id",),
            references=(Reference(("customer_id",), "customers", ("customer_id",)),),
            time_column="ordered_at",
            core=True,
        ),
        Table(
            "order_lines", "订单明细", "order lines",
            (
                C("order_id", "id", "订单编号", "order id", required=True),
                C("line_no", "int", "行号", "line number", required=True, min_value=1),
                C("sku", "id", "商品编码", "SKU", required=True),
                C("quantity", "int", "数量", "quantity", required=True),
                C("unit_price", "decimal", "单价", "unit price", min_value=0),
                C("paid_amount", "decimal", "实付金额", "paid amount"),
            ),
            key=("order_id", "line_no"),
            references=(Reference(("order_id",), "orders", ("order_id",)),),
            core=True,
        ),
        Table(
            "prices", "价格", "prices",
            (
                C("date", "date", "日期", "date", required=True),
                C("sku", "id", "商品编码", "SKU", required=True),
                C("store_id", "id", "门店或渠道", "store or channel", required=True),
                C("price", "decimal", "售价", "price", required=True, min_value=0),
                C("is_promo", "bool", "是否促销", "on promotion"),
            ),
            key=("date", "sku", "store_id"),
            time_column="date",
        ),
        Table(
            "inventory", "库存", "inventory",
            (
                C("date", "date", "日期", "date", required=True),
                C("store_id", "id", "门店编号", "store id", required=True),
                C("sku", "id", "商品编码", "SKU", required=True),
                C("on_hand", "int", "在库数量", "on hand", required=True, min_value=0),
                C("on_order", "int", "在途数量", "on order", min_value=0),
            ),
            key=("date", "store_id", "sku"),
            time_column="date",
        ),
        Table(
            "inventory_events", "库存事件", "inventory events",
            (
                C("event_id", "id", "事件编号", "event id", required=True),
                C("occurred_at", "timestamp", "发生时间", "occurred at", required=True),
                C("store_id", "id", "门店编号", "store id", required=True),
                C("sku", "id", "商品编码", "SKU", required=True),
                C("event_type", "text", "类型", "event type", required=True,
                  allowed=("receipt", "waste", "loss", "adjustment", "transfer")),
                C("quantity", "int", "数量", "quantity", required=True),
                C("reason", "text", "原因", "reason"),
            ),
            key=("event_id",),
            time_column="occurred_at",
        ),
        Table(
            "events", "行为事件", "events",
            (
                C("event_id", "id", "事件编号", "event id", required=True),
                C("event_time", "timestamp", "事件时间", "event time", required=True),
                C("user_id", "id", "用户编号", "user id", required=True),
                C("session_id", "id", "会话编号", "session id"),
                C("event_name", "text", "事件名", "event name", required=True),
                C("channel", "text", "渠道", "channel"),
                C("sku", "id", "商品编码", "SKU"),
                C("properties", "json", "属性", "properties"),
            ),
            key=("event_id",),
            time_column="event_time",
        ),
        Table(
            "campaigns", "营销活动", "campaigns",
            (
                C("campaign_id", "id", "活动编号", "campaign id", required=True),
                C("name", "text", "活动名称", "campaign name"),
                C("type", "text", "活动类型", "campaign type"),
                C("channel", "text", "渠道", "channel"),
                C("start_date", "date", "开始日期", "start date"),
                C("end_date", "date", "结束日期", "end date"),
                C("budget", "decimal", "预算", "budget", min_value=0),
            ),
            key=("campaign_id",),
        ),
        Table(
            "marketing_spend", "营销花费", "marketing spend",
            (
                C("date", "date", "日期", "date", required=True),
                C("channel", "text", "渠道", "channel", required=True),
                C("campaign_id", "id", "活动编号", "campaign id", required=True),
                C("spend", "decimal", "花费", "spend", required=True, min_value=0),
                C("impressions", "int", "曝光", "impressions", min_value=0),
                C("clicks", "int", "点击", "clicks", min_value=0),
            ),
            key=("date", "channel", "campaign_id"),
            time_column="date",
        ),
        Table(
            "experiments", "实验", "experiments",
            (
                C("experiment_id", "id", "实验编号", "experiment id", required=True),
                C("name", "text", "实验名称", "experiment name"),
                C("hypothesis", "text", "假设", "hypothesis"),
                C("primary_metric", "text", "主指标", "primary metric"),
                C("guardrails", "json", "护栏指标", "guardrail metrics"),
                C("start_date", "date", "开始日期", "start date"),
                C("end_date", "date", "结束日期", "end date"),
            ),
            key=("experiment_id",),
        ),
        Table(
            "assignments", "实验分组", "assignments",
            (
                C("experiment_id", "id", "实验编号", "experiment id", required=True),
                C("unit_id", "id", "分流单元", "unit id", required=True),
                C("variant", "text", "组别", "variant", required=True),
                C("assigned_at", "timestamp", "分组时间", "assigned at"),
            ),
            key=("experiment_id", "unit_id"),
            time_column="assigned_at",
        ),
        Table(
            "mentions", "舆情提及", "mentions",
            (
                C("mention_id", "id", "提及编号", "mention id", required=True),
                C("platform", "text", "平台", "platform", required=True),
                C("published_at", "timestamp", "发布时间", "published at", required=True),
                C("author", "text", "作者", "author"),
                C("author_followers", "int", "粉丝数", "author followers", min_value=0),
                C("text", "text", "内容", "text", required=True),
                C("likes", "int", "点赞", "likes", min_value=0),
                C("comments", "int", "评论", "comments", min_value=0),
                C("shares", "int", "转发", "shares", min_value=0),
                C("rating", "float", "评分", "rating", min_value=0),
            ),
            key=("mention_id",),
            time_column="published_at",
        ),
        Table(
            "communities", "社群", "communities",
            (
                C("date", "date", "日期", "date", required=True),
                C("group_id", "id", "群编号", "group id", required=True),
                C("members", "int", "成员数", "members", min_value=0),
                C("active_members", "int", "活跃成员", "active members", min_value=0),
                C("messages", "int", "消息数", "messages", min_value=0),
                C("promo_messages", "int", "促销消息数", "promotional messages", min_value=0),
            ),
            key=("date", "group_id"),
            time_column="date",
        ),
        Table(
            "content", "内容", "content",
            (
                C("content_id", "id", "内容编号", "content id", required=True),
                C("platform", "text", "平台", "platform"),
                C("published_at", "timestamp", "发布时间", "published at"),
                C("format", "text", "形式", "format"),
                C("views", "int", "浏览量", "views", min_value=0),
                C("natural_views", "int", "自然流量浏览", "natural views", min_value=0),
                C("engagements", "int", "互动数", "engagements", min_value=0),
            ),
            key=("content_id",),
            time_column="published_at",
        ),
        Table(
            "tickets", "客诉工单", "tickets",
            (
                C("ticket_id", "id", "工单编号", "ticket id", required=True),
                C("customer_id", "id", "客户编号", "customer id"),
                C("created_at", "timestamp", "创建时间", "created at", required=True),
                C("category", "text", "类别", "category"),
                C("resolved_at", "timestamp", "解决时间", "resolved at"),
            ),
            key=("ticket_id",),
            time_column="created_at",
        ),
    )
}
del C


def get_table(name: str) -> Table:
    """Look up a canonical table by name; the error lists the known ones."""
    from luopan.errors import ConfigError

    try:
        return TABLES[name]
    except KeyError:
        raise ConfigError(
            f"unknown canonical table {name!r}",
            fix=f"use one of: {', '.join(TABLES)}",
        ) from None


def model_markdown() -> str:
    """The documentation page of the canonical model (docs/canonical-model.md), in zh and en."""
    out = [
        "# 规范数据模型 / Canonical model",
        "",
        "Generated from `luopan/tables.py` by `luopan docs model`; a test keeps it in sync.",
        "由 `luopan/tables.py` 生成；测试保证与代码一致。",
        "",
        "Every table also carries the lineage columns / 每张表都带有血缘列: "
        + ", ".join(f"`{n}` ({zh} / {en})" for n, _, zh, en in LINEAGE_COLUMNS)
        + ".",
        "",
    ]
    for table in TABLES.values():
        core = " · core / 核心表" if table.core else ""
        out += [f"## `{table.name}` — {table.zh} / {table.en}{core}", ""]
        out.append(f"Key / 主键: `{', '.join(table.key)}`")
        for ref in table.references:
            out.append(
                f"References / 引用: `{', '.join(ref.columns)}` → "
                f"`{ref.table}.{', '.join(ref.to_columns)}`"
            )
        out += ["", "| column | type | required | 中文 | English | rule |", "|---|---|---|---|---|---|"]
        for c in table.columns:
            rule = []
            if c.min_value is not None:
                rule.append(f"≥ {c.min_value:g}")
            if c.allowed:
                rule.append("one of " + ", ".join(c.allowed))
            if c.kind == "pii":
                rule.append("hashed at ingest / 入库时哈希")
            out.append(
                f"| `{c.name}` | {c.kind} ({duckdb_type(c.kind)}) | {'yes' if c.required else ''} "
                f"| {c.zh} | {c.en} | {'; '.join(rule)} |"
            )
        out.append("")
    return "\n".join(out)
