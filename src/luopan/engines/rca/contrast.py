"""Contrast search for ratio KPIs: the coarsest slice that stands out, then drill down.

A ratio KPI (success rate, conversion rate, average order value) moves when the ratio moves
inside some slice; leaves deeper in that slice follow it only roughly, because their ratios
rest on few events. Methods that score elements by the uniformity of the change over their
leaves (the ripple effect of HotSpot, Squeeze, RiskLoc) therefore answer with children of
the true slice. This search works on aggregated ratios instead:

1. *contrast* of an element e: ``1 − |dev(rest)| / |dev(e)|``, where ``dev`` is the
   deviation ``2(K̂ − K)/(K̂ + K)`` of the ratio aggregated over e, or over the leaves
   outside e not yet explained; it is 1 when only e moved and ≤ 0 when the rest moved as
   much. Layer by layer, the element with the largest explanatory power (Adtributor's
   exact share of a derived measure's change) among those with contrast ≥
   ``risk_threshold``, share ≥ ``min_share`` and a deviation significant under leaf noise
   ``dev_i ~ N(0, s²/volume_i)`` (s² from the median leaf, Bonferroni over about
   leaves × dimensions elements at ``noise_alpha``) is taken;
2. *drill-down*: the element is replaced by its child (one more condition) with the largest
   share while the child's siblings moved, in aggregate, by less than ``sibling_share`` of
   the child's deviation — the slice moved only through that child (R-Adtributor's
   recursion, with a stopping rule on the siblings rather than on a fixed depth);
3. the element is removed and the search repeats on the rest. Only moves in the direction
   of the total are searched (a ratio that rose in one slice while the total fell is not
   reported).

References:
    Bhagwan et al., *Adtributor: Revenue debugging in advertising systems*, NSDI 2014
        (explanatory power and surprise for derived measures).
    R-Adtributor (recursive Adtributor, 2018; as implemented in shaido987/riskloc @ 08cd777).
    Li et al., *Squeeze*, ISSRE 2019, and Kalander, *RiskLoc*, arXiv:2205.10004 (2022)
        (layer-by-layer search, removal of found causes).
"""

from __future__ import annotations

from itertools import combinations
from statistics import NormalDist

import numpy as np

from luopan.engines.rca._core import Cuboids, F, Leaves, make_cause, safe_div
from luopan.engines.rca.model import Cause, RcaParams

__all__ = ["contrast_search"]


def _dev(ar: F, ap: F, br: F, bp: F) -> F:
    kr, kp = safe_div(ar, br), safe_div(ap, bp)
    return 2 * safe_div(kp - kr, kp + kr)


def _sums(data: Leaves, g: F, n: int, mask: F) -> tuple[F, F, F, F, F]:
    w = mask.astype(float)
    return (
        np.bincount(g, data.num_r * w, n),
        np.bincount(g, data.num_p * w, n),
        np.bincount(g, data.den_r * w, n),
        np.bincount(g, data.den_p * w, n),
        np.bincount(g, data.contrib * w, n),
    )


def _contrast(dev_in: F, dev_out: F, direction: float) -> F:
    out = 1.0 - safe_div(np.abs(dev_out), np.abs(dev_in))
    return np.where(np.sign(dev_in) == direction, out, -np.inf)


def _noise(data: Leaves) -> float:
    """s² of the leaf deviations under dev_i ~ N(0, s²/volume_i), robustly (median).

    The median of a χ²₁ variable is 0.455; causes sit in the tail and barely move it.
    """
    volume = (data.den_r + data.den_p) / 2
    kr, kp = safe_div(data.num_r, data.den_r), safe_div(data.num_p, data.den_p)
    used = (volume > 0) & (data.den_r > 0) & (data.den_p > 0)
    if not used.any():
        return 0.0
    dev = 2 * safe_div(kp - kr, kp + kr)[used]
    return float(np.median(dev**2 * volume[used]) / 0.455)


def _coarsest(
    data: Leaves,
    cuboids: Cuboids,
    active: F,
    change: float,
    direction: float,
    noise: float,
    z: float,
    params: RcaParams,
) -> tuple[tuple[int, ...], F, float] | None:
    n_dims = data.codes.shape[1]
    totals = [float(x[active].sum()) for x in (data.num_r, data.num_p, data.den_r, data.den_p)]
    for layer in range(1, n_dims + 1):
        best: tuple[float, tuple[int, ...], F, float] | None = None
        for cuboid in combinations(range(n_dims), layer):
            g, first = cuboids.groups(cuboid)
            ar, ap, br, bp, c = _sums(data, g, len(first), active)
            share = c / change
            dev_in = _dev(ar, ap, br, bp)
            dev_out = _dev(totals[0] - ar, totals[1] - ap, totals[2] - br, totals[3] - bp)
            contrast = _contrast(dev_in, dev_out, direction)
            significant = dev_in**2 * (br + bp) / 2 >= z**2 * noise
            ok = (share >= params.min_share) & (contrast >= params.risk_threshold) & significant
            if ok.any():
                gid = int(np.flatnonzero(ok)[np.argmax(share[ok])])
                if best is None or share[gid] > best[0]:
                    best = (float(share[gid]), cuboid, g == gid, float(contrast[gid]))
        if best is not None:
            return best[1], best[2], best[3]
    return None


def _drill(
    data: Leaves,
    cuboid: tuple[int, ...],
    in_element: F,
    active: F,
    change: float,
    params: RcaParams,
) -> tuple[tuple[int, ...], F]:
    while True:
        mask = active & in_element
        best: tuple[float, int, int] | None = None
        for j in range(data.codes.shape[1]):
            if j in cuboid:
                continue
            n = len(data.values[j])
            ar, ap, br, bp, c = _sums(data, data.codes[:, j], n, mask)
            v = int(np.argmax(c / change))
            dev_child = _dev(ar[v : v + 1], ap[v : v + 1], br[v : v + 1], bp[v : v + 1])[0]
            rest = [float(x.sum() - x[v]) for x in (ar, ap, br, bp)]
            dev_sib = _dev(*(np.array([x]) for x in rest))[0]
            if rest[2] + rest[3] == 0 or dev_child == 0:
                continue  # the element has one child here: the condition adds nothing
            moved = dev_sib / dev_child
            if moved < params.sibling_share and (best is None or c[v] / change > best[0]):
                best = (float(c[v] / change), j, v)
        if best is None:
            return cuboid, in_element
        _, j, v = best
        cuboid = tuple(sorted((*cuboid, j)))
        in_element = in_element & (data.codes[:, j] == v)


def contrast_search(
    data: Leaves, dims: tuple[str, ...], params: RcaParams, limit: int, change: float
) -> list[Cause]:
    """Causes of a ratio KPI's change, coarsest standing-out slices first."""
    total = _dev(*(np.array([x.sum()]) for x in (data.num_r, data.num_p, data.den_r, data.den_p)))
    direction = float(np.sign(total[0])) or 1.0
    cuboids = Cuboids(data.codes)
    noise = _noise(data)
    # Bonferroni over the elements one search may look at (about leaves × dimensions)
    z = float(NormalDist().inv_cdf(1 - params.noise_alpha / (2 * data.contrib.size * len(dims))))
    active = np.ones(len(data.contrib), dtype=bool)
    causes: list[Cause] = []
    while len(causes) < limit and data.contrib[active].sum() / change >= params.min_share:
        found = _coarsest(data, cuboids, active, change, direction, noise, z, params)
        if found is None:
            break
        cuboid, in_element, contrast = found
        cuboid, in_element = _drill(data, cuboid, in_element, active, change, params)
        mask = active & in_element
        causes.append(make_cause(data, dims, cuboid, in_element, mask, change, contrast))
        active &= ~mask
    return causes
