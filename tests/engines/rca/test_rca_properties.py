"""Invariants of root-cause localisation, on generated leaf tables (hypothesis).

- the causes' contributions and the residual add up to the total change of the KPI, and each
  leaf is counted once (checked against an independent sum over the leaves);
- for a ratio KPI, the change is A/B − Â/B̂ (Adtributor's exact decomposition);
- a change planted in one leaf is found exactly, for additive and ratio KPIs;
- adding a dimension unrelated to the change (each leaf split in two with the same
  relative deviation) leaves the answer unchanged.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luopan.engines.rca import localize
from luopan.errors import DataContractError, InsufficientDataError

# derandomized: the same examples on every run, so CI is reproducible; a counterexample found
# by a wider search is kept as a regression test below (see KNOWN_SPLIT_CASE)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def leaf_grid(sizes: tuple[int, ...]) -> pd.DataFrame:
    names = "abcdef"
    rows = itertools.product(*[[f"{names[j]}{i}" for i in range(n)] for j, n in enumerate(sizes)])
    return pd.DataFrame(list(rows), columns=list(names[: len(sizes)]))


@st.composite
def additive_case(draw: st.DrawFn) -> tuple[pd.DataFrame, int, float]:
    sizes = tuple(draw(st.lists(st.integers(3, 5), min_size=2, max_size=4)))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    frame = leaf_grid(sizes)
    n = len(frame)
    frame["predict"] = rng.lognormal(mean=4.0, sigma=0.5, size=n)
    frame["real"] = frame["predict"] * (1 + rng.normal(0, 0.01, size=n))
    leaf = int(np.argsort(frame["predict"].to_numpy())[n // 2 + draw(st.integers(0, n // 2 - 1))])
    factor = draw(st.sampled_from([0.2, 0.4, 2.5, 4.0]))
    return frame, leaf, factor


def planted(frame: pd.DataFrame, leaf: int, factor: float, column: str = "real") -> pd.DataFrame:
    out = frame.copy()
    out.loc[leaf, column] = out.loc[leaf, column] * factor
    return out


def leaf_element(frame: pd.DataFrame, leaf: int, dims: list[str]) -> str:
    return "&".join(sorted(f"{d}={frame.loc[leaf, d]}" for d in dims))


def covered(frame: pd.DataFrame, result) -> np.ndarray:
    mask = np.zeros(len(frame), dtype=bool)
    for cause in result.causes:
        inside = np.ones(len(frame), dtype=bool)
        for d, v in cause.conditions:
            inside &= (frame[d] == v).to_numpy()
        mask |= inside
    return mask


@given(additive_case(), st.integers(0, 3))
@SETTINGS
def test_additive_contributions_add_up_to_the_total_change(case, extra) -> None:
    frame, leaf, factor = case
    frame = planted(frame, leaf, factor)
    # a second, broader change so that several causes overlap the leaf set
    first = frame.columns[0]
    frame.loc[frame[first] == f"{first}{extra % 3}", "real"] *= 0.7
    result = localize(frame)
    change = frame["real"].sum() - frame["predict"].sum()
    assert result.change == pytest.approx(change, rel=1e-9)
    mask = covered(frame, result)
    explained = (frame["real"] - frame["predict"])[mask].sum()
    assert sum(c.contribution for c in result.causes) == pytest.approx(
        explained, rel=1e-9, abs=1e-6
    )
    assert sum(c.contribution for c in result.causes) + result.residual == pytest.approx(
        change, rel=1e-9, abs=1e-6
    )
    assert sum(c.share for c in result.causes) == pytest.approx(explained / change, rel=1e-9)


@given(additive_case())
@SETTINGS
def test_ratio_contributions_add_up_to_the_change_of_the_ratio(case) -> None:
    frame, leaf, factor = case
    ratio = frame.rename(columns={"predict": "predict_b", "real": "real_b"})
    rng = np.random.default_rng(leaf)
    rate = rng.uniform(0.6, 0.95, size=len(ratio))
    ratio["predict_a"] = ratio["predict_b"] * rate
    ratio["real_a"] = ratio["real_b"] * rate * (1 + rng.normal(0, 0.005, size=len(ratio)))
    ratio = planted(ratio, leaf, min(factor, 0.5), column="real_a")
    result = localize(ratio, kind="ratio")
    k_real = ratio["real_a"].sum() / ratio["real_b"].sum()
    k_expected = ratio["predict_a"].sum() / ratio["predict_b"].sum()
    assert result.real == pytest.approx(k_real, rel=1e-12)
    assert result.expected == pytest.approx(k_expected, rel=1e-12)
    assert sum(c.contribution for c in result.causes) + result.residual == pytest.approx(
        k_real - k_expected, rel=1e-9, abs=1e-12
    )


@given(additive_case())
@SETTINGS
def test_a_change_planted_in_one_leaf_is_found_exactly(case) -> None:
    frame, leaf, factor = case
    dims = [c for c in frame.columns if c not in ("real", "predict")]
    changed = planted(frame, leaf, factor)
    result = localize(changed)
    assert result.elements == (leaf_element(frame, leaf, dims),)
    leaf_change = changed.loc[leaf, "real"] - changed.loc[leaf, "predict"]
    total = changed["real"].sum() - changed["predict"].sum()
    assert result.causes[0].share == pytest.approx(leaf_change / total, rel=1e-9)


@given(additive_case())
@SETTINGS
def test_a_ratio_change_planted_in_one_leaf_is_found_exactly(case) -> None:
    frame, leaf, factor = case
    dims = [c for c in frame.columns if c not in ("real", "predict")]
    ratio = frame.rename(columns={"predict": "predict_b"})
    ratio["real_b"] = ratio["predict_b"]
    ratio["predict_a"] = ratio["predict_b"] * 0.9
    # leaf ratios wobble by ~0.1%: the planted leaf is one of up to 625, so the KPI moves by
    # as little as 0.1%, and with a 1% wobble some slice moves by 3-4 σ in a few cases out
    # of thousands (hypothesis finds them) and holds > 10% of that small change
    noise = (frame["real"] / frame["predict"] - 1) * 0.1
    ratio["real_a"] = ratio["predict_a"] * (1 + noise)
    ratio = planted(ratio.drop(columns="real"), leaf, 0.5, column="real_a")
    result = localize(ratio, kind="ratio")
    assert result.elements == (leaf_element(frame, leaf, dims),)


def split_by_unrelated_dimension(
    frame: pd.DataFrame, seed: int, columns: list[str]
) -> pd.DataFrame:
    """Each leaf becomes two leaves z=z0/z1 holding q and 1−q of every measure."""
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.2, 0.8, size=len(frame))
    left, right = frame.copy(), frame.copy()
    for c in columns:
        left[c] = frame[c] * q
        right[c] = frame[c] * (1 - q)
    left["z"], right["z"] = "z0", "z1"
    return pd.concat([left, right], ignore_index=True)


@given(additive_case(), st.integers(0, 1000))
@SETTINGS
def test_an_unrelated_dimension_does_not_change_the_answer(case, seed) -> None:
    """Splitting adds leaves, and the weighted risk counts leaves (pseudo-count 1), so a lone
    leaf that moved by less than a factor 3 can cross the threshold after a split; the
    planted leaf here moves by a factor 4-5 (or 1/4-1/5)."""
    frame, leaf, factor = case
    factor = {0.2: 0.2, 0.4: 0.25, 2.5: 4.0, 4.0: 5.0}[factor]
    frame = planted(frame, leaf, factor)
    # a second cause away from the leaf, moving the same way: one value of the first
    # dimension, narrowed by the second on tables of 3+ dimensions so that the leaf keeps a
    # share well above pep (2%) next to it
    dims = [c for c in frame.columns if c not in ("real", "predict")]
    first = dims[0]
    other = next(v for v in frame[first].unique() if v != frame.loc[leaf, first])
    in_slice = frame[first] == other
    slice_element = f"{first}={other}"
    if len(dims) >= 3:
        in_slice &= frame[dims[1]] == f"{dims[1]}0"
        slice_element = f"{first}={other}&{dims[1]}={dims[1]}0"
    frame.loc[in_slice, "real"] *= 2.0 if factor > 1 else 0.5
    before = localize(frame)
    after = localize(split_by_unrelated_dimension(frame, seed, ["real", "predict"]))
    assert set(before.elements) == {leaf_element(frame, leaf, dims), slice_element}
    assert set(after.elements) == set(before.elements)
    assert after.change == pytest.approx(before.change, rel=1e-9)


@given(additive_case(), st.integers(0, 1000))
@SETTINGS
def test_an_unrelated_dimension_does_not_change_a_ratio_answer(case, seed) -> None:
    frame, leaf, _ = case
    ratio = frame.rename(columns={"predict": "predict_b"})
    ratio["real_b"] = ratio["predict_b"]
    ratio["predict_a"] = ratio["predict_b"] * 0.9
    ratio["real_a"] = ratio["predict_a"] * frame["real"] / frame["predict"]
    ratio = ratio.drop(columns="real")
    first = frame.columns[0]
    ratio.loc[ratio[first] == f"{first}1", "real_a"] *= 0.8
    measures = ["real_a", "predict_a", "real_b", "predict_b"]
    before = localize(ratio, kind="ratio")
    after = localize(split_by_unrelated_dimension(ratio, seed, measures), kind="ratio")
    assert before.elements == (f"{first}={first}1",)
    assert set(after.elements) == set(before.elements)


def test_no_change_gives_no_cause() -> None:
    frame = leaf_grid((3, 3))
    frame["real"] = frame["predict"] = 10.0
    result = localize(frame)
    assert result.causes == () and result.change == 0 and result.residual == 0


def test_bad_input_is_named() -> None:
    frame = leaf_grid((3, 3))
    frame["real"] = 1.0
    with pytest.raises(DataContractError, match="predict"):
        localize(frame)
    frame["predict"] = [1.0] * 8 + [float("nan")]
    with pytest.raises(DataContractError, match="row 8"):
        localize(frame)
    with pytest.raises(DataContractError, match="real_a"):
        localize(frame, kind="ratio")
    with pytest.raises(InsufficientDataError):
        localize(frame.iloc[:0])


@given(additive_case(), st.sampled_from([0.3, 0.5]), st.sampled_from([1.8, 2.5]))
@SETTINGS
def test_causes_on_both_sides_of_the_change_are_found(case, down, up) -> None:
    """One slice falls while another rises (a channel down, a region up): both are causes,
    whichever way the total moved; their shares have opposite signs."""
    frame, _, _ = case
    first = frame.columns[0]
    frame.loc[frame[first] == f"{first}0", "real"] *= down
    frame.loc[frame[first] == f"{first}1", "real"] *= up
    result = localize(frame)
    assert set(result.elements) == {f"{first}={first}0", f"{first}={first}1"}
    shares = {c.element: c.share for c in result.causes}
    assert shares[f"{first}={first}0"] * shares[f"{first}={first}1"] < 0


# Found by hypothesis (400 examples, 2026-12-01): leaf a3/b1 is 1.9% below its expected
# ratio, inside the leaf noise, so alone it is not a cause. This is a ratio KPI, so the
# contrast search runs: its noise s² (contrast._noise) is the median over leaves of
# dev² × volume, and a split that gives both halves the same ratios (no noise of their own)
# halves each leaf's volume but not its deviation, so s² falls from 0.0091 to 0.0036 and
# (a=a3, b=b1) passes the significance test as a second cause. Estimating s² per cuboid from
# that cuboid's own elements answers this case but lowered RS micro-F1 from 0.730 to 0.700
# (2026-12-02), so it was not adopted.
KNOWN_SPLIT_CASE = """a,b,predict,real
a0,b0,33.511683,33.422077
a0,b1,18.752625,18.958252
a0,b2,52.503451,52.038847
a1,b0,37.886253,37.658891
a1,b1,34.639169,34.972586
a1,b2,22.572357,22.187269
a2,b0,56.013053,55.426229
a2,b1,70.228637,70.243483
a2,b2,22.909697,22.942731
a3,b0,62.371312,63.646906
a3,b1,117.688546,115.400797
a3,b2,93.346861,91.855499
a4,b0,43.686054,43.936727
a4,b1,19.019621,19.242291
a4,b2,44.01319,43.89052
"""


@pytest.mark.xfail(
    strict=True,
    reason="known defect: a proportional split by an unrelated dimension lowers the leaf noise",
)
def test_known_split_case_keeps_its_answer() -> None:
    frame = pd.read_csv(io.StringIO(KNOWN_SPLIT_CASE))
    ratio = frame.rename(columns={"predict": "predict_b"})
    ratio["real_b"] = ratio["predict_b"]
    ratio["predict_a"] = ratio["predict_b"] * 0.9
    ratio["real_a"] = ratio["predict_a"] * frame["real"] / frame["predict"]
    ratio = ratio.drop(columns="real")
    ratio.loc[ratio["a"] == "a1", "real_a"] *= 0.8
    measures = ["real_a", "predict_a", "real_b", "predict_b"]
    before = localize(ratio, kind="ratio")
    assert before.elements == ("a=a1",)
    after = localize(split_by_unrelated_dimension(ratio, 66, measures), kind="ratio")
    assert set(after.elements) == {"a=a1"}
