"""Row-level scopes: which rows of which table and metric a principal may read.

A principal may be limited to stores, regions and/or categories; every limit applies (AND).
The rules, enforced here for every route and export (never in templates):

- **stores / regions**: a region scope means the stores of those regions (read from the
  ``stores`` table of the snapshot); with both, the intersection. Store-attributed rows
  (orders, inventory, inventory events, prices, stores) are filtered by ``store_id``; online
  orders with no store are therefore outside every store scope. A price row whose
  ``store_id`` names no store (a channel's list, or the national list such as ``ALL``) is no
  store's data and stays visible: a store forecasts with the promotions planned for it.
- **customers** (and rows keyed by customer: tickets) are those who bought at least once in
  the allowed stores (or, for a category scope, an allowed category). A region-only scope falls
  back to the customer's own region for metrics whose models reach no store (events, tickets,
  customers).
- **categories**: product rows by ``products.category``; order lines, inventory and prices by
  their SKU's category. Order-level tables and metrics (an order mixes categories) are refused.
- Anything that cannot be filtered to the scope (marketing spend, campaigns, mentions,
  experiments …) is refused with ``ScopeError`` (HTTP 403) — never returned unscoped.

Metric scopes become ``luopan.metrics.Condition`` filters that ``query_metric`` applies to
every simple input of the metric; the reference used is chosen per metric so that it resolves
on the semantic model of every input (``store_id`` directly or through ``order``;
``product__category``; ``customer__region``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from luopan.api.errors import ScopeError
from luopan.errors import MetricError
from luopan.metrics.catalog import Catalog
from luopan.metrics.refs import _primary_model, resolve_ref
from luopan.metrics.spec import Condition, SemanticModel

__all__ = [
    "ScopeSpec",
    "incident_visible",
    "leaf_models",
    "metric_conditions",
    "scope_table",
]

_STORE_REFS = ("store_id", "order__store_id")
_CUSTOMER_REGION_REFS = ("region", "customer__region", "order__customer__region")
_CATEGORY_REFS = ("product__category", "category", "order__product__category")
_STORE_TABLES = {"orders", "inventory", "inventory_events", "prices", "stores"}
_SKU_TABLES = {"order_lines", "inventory", "inventory_events", "prices", "products"}
_CUSTOMER_TABLES = {"customers": "customer_id", "tickets": "customer_id"}

STORE_KEYS = frozenset({"store_id", "store", "store__store_id", "order__store_id"})
REGION_KEYS = frozenset({"region", "store__region", "order__store__region"})
CATEGORY_KEYS = frozenset({"category", "product__category", "order__product__category"})


@dataclass(frozen=True)
class ScopeSpec:
    """A principal's scope resolved against the warehouse.

    ``stores`` is the set of allowed store ids (None: no store limit); ``regions`` the raw
    region limit (used for customer-region fallbacks); ``categories`` the allowed categories.
    """

    stores: frozenset[str] | None
    regions: frozenset[str] | None
    categories: frozenset[str] | None
    region_only: bool = False

    @property
    def unscoped(self) -> bool:
        return self.stores is None and self.categories is None


def _refuse(what: str) -> ScopeError:
    return ScopeError(
        f"{what} cannot be limited to your stores/regions/categories, so it is not shown",
        fix="ask an administrator for an unscoped account, or pick a store-level view",
    )


def leaf_models(catalog: Catalog, name: str) -> set[str]:
    """Semantic models of every simple metric that ``name`` is computed from."""
    m = catalog.metric(name)
    if m.type == "simple":
        return {str(m.model)}
    out: set[str] = set()
    for dep in catalog.dependencies(name):
        out |= leaf_models(catalog, dep)
    return out


def _target(catalog: Catalog, model: SemanticModel, ref: str) -> tuple[str, str] | None:
    try:
        hops, col = resolve_ref(catalog, model, ref)
    except MetricError:
        return None
    table = model.table
    for hop in hops:
        nxt = _primary_model(catalog, hop)
        if nxt is None:
            return None
        table = nxt.table
    return table, col


def _pick(
    catalog: Catalog, models: set[str], refs: Iterable[str], ok: Callable[[str, str], bool]
) -> str | None:
    for ref in refs:
        targets = [_target(catalog, catalog.models[m], ref) for m in models]
        if all(t is not None and ok(*t) for t in targets):
            return ref
    return None


def metric_conditions(
    catalog: Catalog, name: str | Iterable[str], scope: ScopeSpec
) -> list[Condition]:
    """The filters limiting metric ``name`` (or every metric of a list, with one shared
    filter, e.g. the nodes of a metric tree) to ``scope``.

    Raises:
        ScopeError: the metric cannot be limited to the scope.
        MetricError: unknown metric.
    """
    if scope.unscoped:
        return []
    names = [name] if isinstance(name, str) else list(name)
    models = {m for n in names for m in leaf_models(catalog, n)}
    name = ", ".join(names)
    conds: list[Condition] = []
    if scope.stores is not None:
        ref = _pick(catalog, models, _STORE_REFS, lambda t, c: c == "store_id")
        if ref is not None:
            conds.append(Condition(field=ref, op="in", value=sorted(scope.stores)))
        elif scope.region_only and scope.regions is not None:
            ref = _pick(
                catalog,
                models,
                _CUSTOMER_REGION_REFS,
                lambda t, c: (t, c) == ("customers", "region"),
            )
            if ref is None:
                raise _refuse(f"metric {name!r}")
            conds.append(Condition(field=ref, op="in", value=sorted(scope.regions)))
        else:
            raise _refuse(f"metric {name!r}")
    if scope.categories is not None:
        ref = _pick(
            catalog, models, _CATEGORY_REFS, lambda t, c: (t, c) == ("products", "category")
        )
        if ref is None:
            raise _refuse(f"metric {name!r}")
        conds.append(Condition(field=ref, op="in", value=sorted(scope.categories)))
    return conds


def scope_table(con: Any, name: str, scope: ScopeSpec) -> Any:
    """Canonical table ``name`` on backend ``con`` filtered to ``scope`` (an Ibis expression).

    Raises:
        ScopeError: the table cannot be limited to the scope.
    """
    table = con.table(name)
    if scope.unscoped:
        return table
    cols = set(table.columns)
    if scope.stores is not None:
        stores = sorted(scope.stores)
        if name == "prices":  # a channel's or the national list (no store's id) is no store's
            known = con.table("stores").select("store_id")
            table = table.filter(table.store_id.isin(stores) | ~table.store_id.isin(known.store_id))
        elif name in _STORE_TABLES:
            table = table.filter(table.store_id.isin(stores))
        elif name == "order_lines":
            orders = con.table("orders")
            mine = orders.filter(orders.store_id.isin(stores)).select("order_id")
            table = table.filter(table.order_id.isin(mine.order_id))
        elif name in _CUSTOMER_TABLES:
            orders = con.table("orders")
            buyers = orders.filter(orders.store_id.isin(stores)).select("customer_id")
            key = _CUSTOMER_TABLES[name]
            table = table.filter(table[key].isin(buyers.customer_id))
        elif name != "products":  # the product master is not store data
            raise _refuse(f"table {name!r}")
    if scope.categories is not None:
        cats = sorted(scope.categories)
        products = con.table("products")
        skus = products.filter(products.category.isin(cats)).select("sku")
        if name == "products":
            table = table.filter(table.category.isin(cats))
        elif name in _SKU_TABLES and "sku" in cols:
            table = table.filter(table.sku.isin(skus.sku))
        elif name in _CUSTOMER_TABLES:
            lines = con.table("order_lines")
            orders = con.table("orders")
            in_cat = lines.filter(lines.sku.isin(skus.sku)).select("order_id")
            buyers = orders.filter(orders.order_id.isin(in_cat.order_id)).select("customer_id")
            key = _CUSTOMER_TABLES[name]
            table = table.filter(table[key].isin(buyers.customer_id))
        else:
            raise _refuse(f"table {name!r}")
    return table


def incident_visible(slice_: dict[str, Any], scope: ScopeSpec) -> bool:
    """Whether an incident on ``slice_`` lies wholly inside ``scope``.

    An incident is visible to a scoped principal only when its slice names a store (in the
    allowed stores), a region (for a region-only scope, one of its regions) and/or a category
    (an allowed one) covering every limit the principal has; aggregate incidents are seen only
    by unscoped users.
    """
    if scope.unscoped:
        return True
    keys = {str(k): str(v) for k, v in slice_.items()}
    if scope.stores is not None:
        store = next((v for k, v in keys.items() if k in STORE_KEYS), None)
        region = next((v for k, v in keys.items() if k in REGION_KEYS), None)
        if store is not None:
            if store not in scope.stores:
                return False
        elif not (scope.region_only and region is not None and region in (scope.regions or ())):
            return False
    if scope.categories is not None:
        category = next((v for k, v in keys.items() if k in CATEGORY_KEYS), None)
        if category is None or category not in scope.categories:
            return False
    return True
