"""Shared leaf arrays of the localisation searches (private to the package).

Leaves are encoded once: integer codes per dimension, the additive contribution of each
leaf to the KPI change, its deviation score and RiskLoc's partition and weights.

References:
    Kalander, *RiskLoc*, arXiv:2205.10004 (2022) (deviation, cutoff, weights).
    Bhagwan et al., *Adtributor*, NSDI 2014 (explanatory power of derived measures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from luopan.engines.rca.model import Cause, RcaParams
from luopan.errors import DataContractError

F = np.ndarray


@dataclass(frozen=True)
class Leaves:
    codes: F  # (n, D) int64 codes per dimension
    values: tuple[F, ...]  # per dimension, the text of each code
    dev: F
    contrib: F
    weight: F
    abnormal: F  # bool
    vr: F  # leaf KPI observed (additive: real; ratio: a/b)
    vp: F  # leaf KPI expected
    num_r: F  # what the element KPI sums: additive real / ratio numerator
    num_p: F
    den_r: F  # ratio denominator (ones for additive)
    den_p: F
    ratio: bool


def numeric(frame: pd.DataFrame, column: str) -> F:
    try:
        out = pd.to_numeric(frame[column]).to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise DataContractError(
            f"measure column {column!r} is not numeric", fix="pass numbers in the measures"
        ) from None
    if not np.isfinite(out).all():
        row = int(np.flatnonzero(~np.isfinite(out))[0])
        raise DataContractError(
            f"measure column {column!r} has a missing or infinite value at row {row}",
            fix="fill missing measures with 0 or drop the leaf",
        )
    return out


def safe_div(a: F, b: F) -> F:
    out = np.zeros_like(a, dtype=float)
    np.divide(a, b, out=out, where=b != 0)
    return out


def prepare(
    frame: pd.DataFrame,
    dims: list[str],
    measures: list[str],
    ratio: bool,
    params: RcaParams,
    *,
    falling: bool | None = None,
) -> Leaves:
    codes = np.empty((len(frame), len(dims)), dtype=np.int64)
    values = []
    for j, d in enumerate(dims):
        c, uniques = pd.factorize(frame[d].astype(str), sort=True)
        codes[:, j] = c
        values.append(np.asarray(uniques, dtype=object))
    cols = [numeric(frame, m) for m in measures]
    if ratio:
        ar, ap, br, bp = cols
        fa, fb, b_total = ap.sum(), bp.sum(), br.sum()
        denom = fb * b_total
        contrib = ((ar - ap) * fb - (br - bp) * fa) / denom if denom else np.zeros_like(ar)
        vr, vp = safe_div(ar, br), safe_div(ap, bp)
        num_r, num_p, den_r, den_p = ar, ap, br, bp
    else:
        r, p = cols
        contrib = r - p
        vr, vp = r, p
        num_r, num_p, den_r, den_p = r, p, np.ones_like(r), np.ones_like(p)
    # |p| + |r|: the same as p + r for non-negative measures, bounded for refunds (< 0)
    dev = 2 * safe_div(vp - vr, np.abs(vp) + np.abs(vr))
    # abnormal leaves lie on the side the total moved to (dev > 0 when the KPI fell)
    right = bool(contrib.sum() < 0) if falling is None else falling
    cutoff = quiet_cutoff(dev, params.n_remove, right)
    abnormal = dev > cutoff if right else dev < cutoff
    weight = np.abs(cutoff - dev)
    weight[(vr == 0) & (vp == 0)] = 0.0
    weight = np.where(abnormal, np.abs(dev), weight)
    weight = np.minimum(weight, 1.0)
    return Leaves(
        codes=codes,
        values=tuple(values),
        dev=dev,
        contrib=contrib,
        weight=weight,
        abnormal=abnormal,
        vr=vr,
        vp=vp,
        num_r=num_r,
        num_p=num_p,
        den_r=den_r,
        den_p=den_p,
        ratio=ratio,
    )


def quiet_cutoff(dev: F, n_remove: int, right: bool) -> float:
    """The cutoff between normal and abnormal leaves, mirrored from the quiet side.

    RiskLoc takes the deviation of the (n_remove+1)-th most extreme distinct leaf on each
    side and mirrors the smaller one; the side of the anomaly is the sign of that cutoff.
    Here the side is the one the total moved to, and the cutoff is mirrored from the other
    (quiet) side: a change confined to fewer than n_remove leaves then still picks its side
    (RiskLoc's rule reads it from the noise). On small tables at most 5% of the distinct
    deviations are skipped, so that the tails never cross.
    """
    unique = np.unique(dev)
    k = min(n_remove, len(unique) // 20)
    quiet = unique[k] if right else unique[len(unique) - 1 - k]
    return float(-quiet) if (quiet < 0) == right and quiet != 0 else 0.0


class Cuboids:
    """Group ids of the leaves per cuboid (a set of dimensions), computed on first use."""

    def __init__(self, codes: F) -> None:
        self.codes = codes
        self._cache: dict[tuple[int, ...], tuple[F, F]] = {}

    def groups(self, cuboid: tuple[int, ...]) -> tuple[F, F]:
        """(group id of each leaf, index of one leaf per group)."""
        if cuboid not in self._cache:
            key = np.zeros(len(self.codes), dtype=np.int64)
            for j in cuboid:
                radix = int(self.codes[:, j].max()) + 1
                if (int(key.max()) + 1) * radix >= 2**62:  # many wide dims: renumber first
                    key = np.unique(key, return_inverse=True)[1].ravel().astype(np.int64)
                key = key * radix + self.codes[:, j]
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            self._cache[cuboid] = (inverse.ravel(), first)
        return self._cache[cuboid]


def make_cause(
    data: Leaves,
    dims: tuple[str, ...],
    cuboid: tuple[int, ...],
    in_element: F,
    counted: F,
    change: float,
    risk: float,
) -> Cause:
    leaf = int(np.flatnonzero(in_element)[0])
    conditions = tuple((dims[j], str(data.values[j][data.codes[leaf, j]])) for j in cuboid)
    num_r, num_p = data.num_r[in_element].sum(), data.num_p[in_element].sum()
    den_r, den_p = data.den_r[in_element].sum(), data.den_p[in_element].sum()
    real = num_r / den_r if data.ratio and den_r else (0.0 if data.ratio else num_r)
    expected = num_p / den_p if data.ratio and den_p else (0.0 if data.ratio else num_p)
    contribution = float(data.contrib[counted].sum())
    return Cause(
        conditions=conditions,
        real=float(real),
        expected=float(expected),
        contribution=contribution,
        share=float(contribution / change),
        confidence=float(min(max(risk, 0.0), 1.0)),
        leaves=int(in_element.sum()),
    )
