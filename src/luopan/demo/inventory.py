"""Store inventory: periodic order-up-to replenishment, FIFO sales, spoilage, censored demand.

Each store x SKU is reviewed daily (shelf life <= 7 days) or weekly, orders up to
``S = demand_rate * (review + lead) * cover`` and receives the order after a one-day lead
time. Sales take the oldest stock first; stock older than its shelf life (<= 30 days) is
wasted. When stock runs out the rest of the day's demand is lost (censored), so sales are
``min(demand, available)``. Some series are deliberately under-covered to produce stock-outs.
"""

from __future__ import annotations

import numpy as np

W = 31  # age buckets; shelf lives above 30 days never spoil in the simulation
LEAD = 1


class InventorySim:
    def __init__(
        self, rng: np.random.Generator, rate: np.ndarray, shelf: np.ndarray, n_stores: int
    ) -> None:
        """``rate``: expected daily demand per series (store-major, store x sku flattened)."""
        self.rng = rng
        n = rate.size
        n_sku = shelf.size
        self.shelf = np.tile(shelf, n_stores)
        self.perishable = self.shelf <= 30
        self.review = np.where(self.shelf <= 7, 1, 7)
        self.offset = rng.integers(0, 7, n)
        cover = rng.uniform(1.15, 1.6, n)
        under = rng.random(n) < 0.12
        cover[under] = rng.uniform(0.75, 0.95, int(under.sum()))
        self.target = np.ceil(rate * (self.review + LEAD) * cover + 1).astype(np.int64)
        self.buckets = np.zeros((n, W), dtype=np.int64)
        self.buckets[:, 0] = self.target // 2
        self.pipeline = np.zeros((n, LEAD + 1), dtype=np.int64)
        self.n_sku = n_sku

    def on_hand(self) -> np.ndarray:
        return self.buckets.sum(1)

    def step(self, d: int, demand: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Run day ``d`` (calendar index); returns sales and the day's flows."""
        slot = d % W
        # spoilage at opening: perishable stock received ``shelf`` days ago
        exp_slot = (d - self.shelf) % W
        idx = np.arange(self.buckets.shape[0])
        waste = np.where(self.perishable, self.buckets[idx, exp_slot], 0)
        self.buckets[idx, exp_slot] -= waste
        # receipts
        received = self.pipeline[:, 0].copy()
        self.pipeline[:, :-1] = self.pipeline[:, 1:]
        self.pipeline[:, -1] = 0
        self.buckets[:, slot] += received
        # sales, oldest first
        available = self.buckets.sum(1)
        sold = np.minimum(demand, available)
        order = (d + 1 + np.arange(W)) % W
        b = self.buckets[:, order]
        cum = np.cumsum(b, axis=1)
        take = np.clip(np.minimum(cum, sold[:, None]) - (cum - b), 0, None)
        self.buckets[:, order] = b - take
        # occasional shrinkage (damage, theft)
        loss = np.zeros_like(sold)
        hit = self.rng.random(sold.size) < 0.002
        if hit.any():
            oh = self.buckets[hit, slot]
            loss_hit = np.minimum(oh, self.rng.integers(1, 4, int(hit.sum())))
            loss[hit] = loss_hit
            self.buckets[hit, slot] -= loss_hit
        # review and order
        due = ((d + self.offset) % self.review) == 0
        position = self.buckets.sum(1) + self.pipeline.sum(1)
        qty = np.where(due, np.maximum(self.target - position, 0), 0)
        self.pipeline[:, LEAD - 1] += qty
        flows = {
            "received": received,
            "waste": waste,
            "loss": loss,
            "ordered": qty,
            "on_hand": self.buckets.sum(1),
            "on_order": self.pipeline.sum(1),
        }
        return sold, flows
