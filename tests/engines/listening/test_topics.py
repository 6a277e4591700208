"""Complaint topics: Monroe et al. (2008) log-odds, and the watchlist."""

from __future__ import annotations

import math

import pytest

from luopan.engines.listening import Watchlist, complaint_terms


def test_log_odds_golden() -> None:
    # pool: 变质 in 4 of 4 texts; baseline: 好吃 in 4 of 4 and 变质 never; 配送 in all
    pool = ["配送的鸡肉变质", "配送变质了", "变质配送", "配送 变质"]
    base = ["好吃配送", "好吃配送快", "配送好吃", "配送 好吃"]
    terms = complaint_terms(pool, base, prior_size=4.0, min_count=1)
    assert terms[0].term == "变质" and terms[0].count == 4 and terms[0].baseline_count == 0
    # by hand (eq. 16, 22): pool 变质 4, 配送 4, 鸡肉 1; baseline 好吃 4, 配送 4 (快 is 1 char)
    names = [t.term for t in terms]
    assert "好吃" not in names[:2] and names.index("配送") > names.index("变质")
    pooled = {"变质": 4, "配送": 8, "鸡肉": 1, "好吃": 4}
    tot = sum(pooled.values())
    alpha = {k: 4.0 * v / tot for k, v in pooled.items()}
    na, nb = 9, 8  # 变质 4 + 配送 4 + 鸡肉 1; 好吃 4 + 配送 4
    a = alpha["变质"]
    delta = math.log((4 + a) / (na + 4 - 4 - a)) - math.log(a / (nb + 4 - a))
    assert terms[0].log_odds == pytest.approx(delta, rel=1e-6)
    assert terms[0].z == pytest.approx(delta / math.sqrt(1 / (4 + a) + 1 / a), rel=1e-6)


def test_watchlist_categories_and_yaml_shape() -> None:
    wl = Watchlist()
    assert wl.hits("吃完拉肚子，已经打12315") == {"health", "regulator"}
    assert wl.hits("很好吃") == set()
    custom = Watchlist.from_mapping({"recall": ["召回"]})
    assert custom.hits("产品召回") == {"recall"} and custom.matched_terms("召回了") == ["召回"]


def test_swapping_pools_flips_the_sign() -> None:
    a = ["配送太慢变质", "变质了难吃", "太慢了", "鸡蛋变质"]
    b = ["好吃新鲜", "新鲜配送快", "好吃实惠", "配送太慢但好吃"]
    fwd = {t.term: t.log_odds for t in complaint_terms(a, b, top=50, min_count=0)}
    rev = {t.term: t.log_odds for t in complaint_terms(b, a, top=50, min_count=0)}
    assert fwd.keys() == rev.keys() and len(fwd) >= 5
    for term, d in fwd.items():
        assert rev[term] == pytest.approx(-d, abs=1e-12)
