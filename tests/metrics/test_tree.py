"""Tree attribution: LMDI-I and Shapley parts add up to the change, at every depth.

The golden case is the two-factor example worked by hand from Ang (2005)'s formula
ΔV_k = L(V¹, V⁰)·ln(x_k¹/x_k⁰); the properties are the ones the method promises (no residual).
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from luopan.metrics.tree import decompose, log_mean, rescale, scale_factor

positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
# metric values: zero, or at least a millionth in size (no subnormal products)
anyreal = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False).filter(
    lambda v: v == 0 or abs(v) >= 1e-6
)


def test_log_mean_golden() -> None:
    # L(2, 1) = 1 / ln 2; L(a, a) = a
    assert math.isclose(log_mean(2.0, 1.0), 1 / math.log(2), rel_tol=1e-15)
    assert log_mean(3.5, 3.5) == 3.5


def test_lmdi_two_factor_golden() -> None:
    # buyers 100 → 120, AOV 50 → 45: GMV 5000 → 5400, ΔV = 400.
    parts, method = decompose("multiplicative", [100.0, 50.0], [120.0, 45.0])
    weight = (5400 - 5000) / math.log(5400 / 5000)  # L(5400, 5000) = 5197.4…
    assert method == "lmdi"
    assert math.isclose(parts[0], weight * math.log(1.2), rel_tol=1e-12)
    assert math.isclose(parts[1], weight * math.log(0.9), rel_tol=1e-12)
    # by hand: L = 400 / ln 1.08 = 5197.4276; 5197.4276 × ln 1.2 = 947.6044
    assert math.isclose(parts[0], 947.6044, rel_tol=1e-6)
    assert math.isclose(parts[1], -547.6044, rel_tol=1e-6)
    assert math.isclose(sum(parts), 400.0, rel_tol=1e-12)


def test_shapley_two_factor_golden() -> None:
    # with a zero LMDI is undefined; 2-factor Shapley = Δx·(mean of the other's two values)
    parts, method = decompose("multiplicative", [0.0, 50.0], [120.0, 45.0])
    assert method == "shapley"
    assert parts == [120 * (50 + 45) / 2, (45 - 50) * (0 + 120) / 2]
    assert math.isclose(sum(parts), 5400.0, rel_tol=1e-12)


def _close(total: float, parts: list[float], scale: float) -> bool:
    return abs(math.fsum(parts) - total) <= 1e-9 * max(abs(total), scale, 1e-300)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(positive, positive), min_size=2, max_size=6))
def test_multiplicative_parts_sum_to_change(pairs: list[tuple[float, float]]) -> None:
    v0, v1 = [a for a, _ in pairs], [b for _, b in pairs]
    parts, method = decompose("multiplicative", v0, v1)
    total = math.prod(v1) - math.prod(v0)
    assert method == "lmdi"
    # relative to the larger level: a change that is a tiny difference of large products
    # cannot be resolved better than the products' own rounding
    assert _close(total, parts, max(math.prod(v0), math.prod(v1)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(anyreal, anyreal), min_size=2, max_size=5))
def test_shapley_fallback_sums_to_change(pairs: list[tuple[float, float]]) -> None:
    v0, v1 = [a for a, _ in pairs], [b for _, b in pairs]
    parts, _ = decompose("multiplicative", v0, v1)
    total = math.prod(v1) - math.prod(v0)
    # cancellation error is relative to the largest term summed
    scale = max(1.0, *(abs(math.prod(v)) for v in (v0, v1)), *map(abs, parts))
    assert abs(math.fsum(parts) - total) <= 1e-9 * scale


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(anyreal, anyreal), min_size=1, max_size=12))
def test_additive_parts_are_differences(pairs: list[tuple[float, float]]) -> None:
    v0, v1 = [a for a, _ in pairs], [b for _, b in pairs]
    parts, method = decompose("additive", v0, v1)
    assert method == "difference"
    assert parts == [b - a for a, b in pairs]
    total = math.fsum(v1) - math.fsum(v0)
    assert _close(total, parts, max(map(abs, (*v0, *v1))))


@settings(max_examples=200, deadline=None)
@given(st.tuples(positive, positive), st.tuples(positive, positive), st.tuples(positive, positive))
def test_nested_tree_sums_at_every_depth(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]
) -> None:
    """V = x·y with y = u·w: the grandchildren's rescaled parts add up to y's share."""
    x, u, w = a, b, c
    y = (u[0] * w[0], u[1] * w[1])
    top, _ = decompose("multiplicative", [x[0], y[0]], [x[1], y[1]])
    sub, _ = decompose("multiplicative", [u[0], w[0]], [u[1], w[1]])
    down = rescale(sub, scale_factor("lmdi", (v0 := x[0] * y[0], v1 := x[1] * y[1]), y, top[1]))
    scale = max(v0, v1)
    assert _close(v1 - v0, [top[0], *down], scale)
    # nested LMDI is consistent: the grandchild's part equals its one-level LMDI part
    flat, _ = decompose("multiplicative", [x[0], u[0], w[0]], [x[1], u[1], w[1]])
    for got, want in zip(down, flat[1:], strict=True):
        assert abs(got - want) <= 1e-9 * scale


def test_unchanged_child_keeps_its_childrens_offsetting_parts() -> None:
    # y = u·w with u: 1→2 and w: 2→1, so y stays 2 while V = x·y, x = 1, also stays 2:
    # nested LMDI gives u and w ±L(2, 2)·ln 2 = ±2 ln 2 (the one-level LMDI values)
    sub, _ = decompose("multiplicative", [1.0, 2.0], [2.0, 1.0])
    down = rescale(sub, scale_factor("lmdi", (2.0, 2.0), (2.0, 2.0), 0.0))
    assert down == [2 * math.log(2), -2 * math.log(2)]
    # a Shapley or additive parent passes its share on in proportion
    assert scale_factor("difference", (0, 0), (1.0, 3.0), 2.0) == 1.0
    assert scale_factor("shapley", (0, 0), (1.0, 3.0), 1.0) == 0.5
    assert scale_factor("shapley", (0, 0), (3.0, 3.0), 0.0) == 0.0
