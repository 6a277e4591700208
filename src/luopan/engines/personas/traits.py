"""One row of persona traits per customer, computed in the warehouse through Ibis.

Every trait is single-valued per customer, so a segment's profile is a set of shares of
customers and its lift against the whole base is well defined:

================  =====================================================================
trait             value of a customer
================  =====================================================================
gender            ``customers.gender`` as recorded
age_band          age at ``as_of`` from ``customers.birth_year``: <25, 25–34, 35–44, 45–54, 55+
region            ``customers.region``
acquisition       ``customers.acquisition_channel``
member_level      ``customers.member_level``
channel           the order channel with most of the customer's orders
category          the product category with most of the customer's net line spend
price_band        low / mid / high tertile (over all buyers) of the customer's spend-weighted
                  mean log price index, where a line's index is its unit price over the median
                  unit price of its category (a premium buyer pays above the category median)
daypart           the part of day with most of the customer's orders: morning 06–11,
                  midday 11–14, afternoon 14–18, evening 18–22, night 22–06
weekday           ``weekend`` when at least half of the customer's orders fall on Sat/Sun
festival          ``sensitive`` when the customer has ≥ 2 orders and the share of them placed
                  in shopping-festival windows (618, 双11, 双12, 年货节, 38节; see
                  ``luopan.engines.anomaly.calendar``) is at least twice the base's share
================  =====================================================================

Ties in the "most of" traits go to the alphabetically first value, so results are
deterministic. Orders count when their net amount (paid − refunded) is positive, as
everywhere else in customer intelligence. Missing values are kept as ``None`` and never
ranked as a trait.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from luopan.engines.anomaly.calendar import shopping_festivals
from luopan.errors import DataContractError, InsufficientDataError

__all__ = ["AGE_BANDS", "DAYPARTS", "TRAITS", "customer_traits"]

TRAITS = (
    "gender",
    "age_band",
    "region",
    "acquisition",
    "member_level",
    "channel",
    "category",
    "price_band",
    "daypart",
    "weekday",
    "festival",
)
AGE_BANDS = ((0, 25, "<25"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"))
DAYPARTS = ((6, 11, "morning"), (11, 14, "midday"), (14, 18, "afternoon"), (18, 22, "evening"))
_CUSTOMER_COLUMNS = ("customer_id", "gender", "birth_year", "region", "acquisition_channel")


def _require(table: ir.Table, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataContractError(
            f"table {name} has no column {', '.join(map(repr, missing))}",
            fix=f"map the source columns to {name}.{missing[0]} (see `luopan docs model`)",
        )


def _net_orders(orders: ir.Table) -> ir.Table:
    amount = orders.paid_amount.cast("float64").fill_null(0) - orders.refund_amount.cast(
        "float64"
    ).fill_null(0)
    return orders.filter(orders.customer_id.notnull(), amount > 0)


def _main_value(counts: pd.DataFrame, column: str, weight: str) -> pd.Series:
    """Per customer, the value of ``column`` with the largest ``weight`` (ties: first value)."""
    ordered = counts.sort_values(["customer_id", weight, column], ascending=[True, False, True])
    return ordered.drop_duplicates("customer_id").set_index("customer_id")[column]


def _age_band(birth_year: pd.Series, as_of: date) -> pd.Series:
    age = as_of.year - pd.to_numeric(birth_year, errors="coerce")
    out = pd.Series(None, index=birth_year.index, dtype=object)
    for low, high, name in AGE_BANDS:
        out[(age >= low) & (age < high)] = name
    out[age >= AGE_BANDS[-1][1]] = "55+"
    return out


def _festival_days(first: date, last: date) -> list[date]:
    days: list[date] = []
    for w in shopping_festivals(range(first.year, last.year + 1)):
        days += [d.date() for d in pd.date_range(w.start, w.end)]
    return days


def customer_traits(
    customers: ir.Table,
    orders: ir.Table,
    lines: ir.Table | None = None,
    products: ir.Table | None = None,
    *,
    as_of: date | None = None,
) -> pd.DataFrame:
    """Persona traits of every customer (see the module docstring for each trait).

    Args:
        customers, orders: the warehouse tables (Ibis).
        lines, products: ``order_lines`` and ``products``; without them the category and
            price-band traits are ``None``.
        as_of: the date ages are computed at; default the last order day.

    Returns:
        One row per customer (index ``customer_id``), one column per name in ``TRAITS``,
        plus ``orders`` (net-positive orders) and ``spend``.

    Raises:
        DataContractError: a required column is missing.
        InsufficientDataError: no customer has an order.
    """
    _require(customers, "customers", _CUSTOMER_COLUMNS)
    _require(orders, "orders", ("order_id", "customer_id", "channel", "ordered_at"))
    paid = _net_orders(orders)
    paid = paid.mutate(
        net=paid.paid_amount.cast("float64").fill_null(0)
        - paid.refund_amount.cast("float64").fill_null(0),
        hour=paid.ordered_at.hour(),
        dow=paid.ordered_at.day_of_week.index(),
        day=paid.ordered_at.date(),
    )
    per_customer = (
        paid.group_by("customer_id")
        .aggregate(
            orders=paid.order_id.nunique(),
            spend=paid.net.sum(),
            weekend=(paid.dow >= 5).cast("int64").sum(),
            first_day=paid.day.min(),
            last_day=paid.day.max(),
        )
        .to_pandas()
        .set_index("customer_id")
    )
    if per_customer.empty:
        raise InsufficientDataError("no customer has a paid order", fix="ingest orders first")
    part = ibis.cases(
        *((paid.hour.between(lo, hi - 1), name) for lo, hi, name in DAYPARTS), else_="night"
    )
    by_channel = (
        paid.group_by(["customer_id", "channel"]).aggregate(n=paid.order_id.nunique()).to_pandas()
    )
    by_part = (
        paid.mutate(part=part)
        .group_by(["customer_id", "part"])
        .aggregate(n=lambda t: t.order_id.nunique())
        .to_pandas()
    )
    first = min(per_customer["first_day"])
    last = max(per_customer["last_day"])
    fest = _festival_days(first, last)
    in_fest = paid.day.isin(fest) if fest else ibis.literal(False)
    festival_orders = (
        paid.mutate(fest=in_fest.cast("int64"))
        .group_by("customer_id")
        .aggregate(fest=lambda t: t.fest.sum())
        .to_pandas()
        .set_index("customer_id")["fest"]
    )
    people = (
        customers.select(
            *_CUSTOMER_COLUMNS, *(["member_level"] if "member_level" in customers.columns else [])
        )
        .to_pandas()
        .drop_duplicates("customer_id")
        .set_index("customer_id")
    )
    idx = per_customer.index
    as_of = as_of or last
    out = pd.DataFrame(index=idx)
    person = people.reindex(idx)
    out["gender"] = person["gender"]
    out["age_band"] = _age_band(person["birth_year"], as_of)
    out["region"] = person["region"]
    out["acquisition"] = person["acquisition_channel"]
    out["member_level"] = person["member_level"] if "member_level" in person else None
    out["channel"] = _main_value(by_channel.dropna(subset=["channel"]), "channel", "n")
    out["category"] = None
    out["price_band"] = None
    if lines is not None and products is not None:
        category, band = _basket_traits(paid, lines, products)
        out["category"] = category
        out["price_band"] = band
    out["daypart"] = _main_value(by_part, "part", "n")
    n = per_customer["orders"].astype(float)
    out["weekday"] = np.where(per_customer["weekend"] * 2 >= n, "weekend", "weekday")
    share = festival_orders.reindex(idx).fillna(0) / n
    base = festival_orders.sum() / n.sum()
    sensitive = (n >= 2) & (share >= 2 * base) & (base > 0)
    out["festival"] = np.where(sensitive, "sensitive", "not_sensitive")
    out["orders"] = per_customer["orders"]
    out["spend"] = per_customer["spend"]
    return out.astype({t: object for t in TRAITS}).where(out.notna(), None)


def _basket_traits(
    paid: ir.Table, lines: ir.Table, products: ir.Table
) -> tuple[pd.Series, pd.Series]:
    """Main category by net spend and the price-band tertile, per customer."""
    _require(lines, "order_lines", ("order_id", "sku", "quantity", "unit_price"))
    _require(products, "products", ("sku", "category"))
    keyed = paid.select("order_id", "customer_id")
    joined = lines.join(keyed, "order_id").join(products.select("sku", "category"), "sku")
    joined = joined.filter(joined.unit_price.cast("float64") > 0, joined.category.notnull())
    spend_expr = (
        joined.paid_amount.cast("float64")
        if "paid_amount" in lines.columns
        else joined.unit_price.cast("float64") * joined.quantity
    )
    joined = joined.mutate(
        spend=spend_expr.fill_null(joined.unit_price.cast("float64") * joined.quantity)
    )
    medians = joined.group_by("category").aggregate(med=joined.unit_price.cast("float64").median())
    priced = joined.join(medians, "category")
    priced = priced.mutate(li=(priced.unit_price.cast("float64") / priced.med).ln())
    w = priced.spend.abs()
    index = (
        priced.group_by("customer_id")
        .aggregate(num=(priced.li * w).sum(), den=w.sum())
        .to_pandas()
        .set_index("customer_id")
    )
    by_cat = (
        joined.group_by(["customer_id", "category"])
        .aggregate(spend=lambda t: t.spend.sum())
        .to_pandas()
    )
    category = _main_value(by_cat, "category", "spend")
    score = (index["num"] / index["den"].where(index["den"] > 0)).dropna()
    band = pd.Series(None, index=score.index, dtype=object)
    if len(score) >= 3:
        ranks = score.rank(method="first", pct=True)
        band[:] = np.select([ranks <= 1 / 3, ranks <= 2 / 3], ["low", "mid"], "high")
    return category, band
