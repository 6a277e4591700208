"""Event sources for the lenses: the ``events`` table, with orders as a final funnel step.

A paid order is the step every operations funnel ends with, and it lives in ``orders``, not
in the app's ``events``. ``with_orders`` appends one event per order (user = customer_id,
time = paid_at, else ordered_at) so that ``funnel(..., steps=[..., "order"])`` works.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from luopan.errors import EngineError

__all__ = ["EVENT_COLUMNS", "with_orders"]

EVENT_COLUMNS = ("event_id", "user_id", "event_time", "event_name", "channel")


def with_orders(
    events: ir.Table, orders: ir.Table, *, name: str = "order", paid_only: bool = True
) -> ir.Table:
    """``events`` (its event_id, user_id, event_time, event_name, channel) plus orders as
    events named ``name``.

    Args:
        events: the canonical ``events`` table.
        orders: the canonical ``orders`` table.
        name: the event name given to orders.
        paid_only: keep only orders with a ``paid_at`` (unpaid orders are not conversions).

    Raises:
        EngineError: a required column is missing.
    """
    for table, cols in (
        (events, EVENT_COLUMNS),
        (orders, ("order_id", "customer_id", "ordered_at", "paid_at", "channel")),
    ):
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise EngineError(f"missing column(s) {missing}", fix="map them at ingest")
    e = events.select(
        event_id=events.event_id.cast("string"),
        user_id=events.user_id.cast("string"),
        event_time=events.event_time.cast("timestamp"),
        event_name=events.event_name,
        channel=events.channel.cast("string"),
    )
    o = orders.filter(orders.customer_id.notnull())
    if paid_only:
        o = o.filter(o.paid_at.notnull())
    o = o.select(
        event_id=ibis.literal("order:") + o.order_id.cast("string"),
        user_id=o.customer_id.cast("string"),
        event_time=o.paid_at.fill_null(o.ordered_at).cast("timestamp"),
        event_name=ibis.literal(name),
        channel=o.channel.cast("string"),
    )
    return e.union(o, distinct=False)
