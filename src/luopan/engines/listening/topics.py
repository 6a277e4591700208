"""Complaint topics: terms over-represented in a pool (negative or burst) against a baseline.

Terms are jieba words (length ≥ 2, not digits, not stop words). Each term gets the weighted
log-odds ratio with an informative Dirichlet prior and its z-score (Monroe, Colaresi and Quinn
2008, eq. 16–22): the prior is the pooled counts of both corpora scaled to ``prior_size``, which
shrinks rare terms instead of ranking them first, and unlike raw TF-IDF a word that is frequent
everywhere (好吃, 外卖) does not rise. A watchlist of sensitive terms (food safety, health, injury,
discrimination, regulators) is matched on the raw text.

References:
    Monroe, B. L., Colaresi, M. P. and Quinn, K. M. (2008). Fightin' words: lexical feature
    selection and evaluation for identifying the content of political conflict. Political
    Analysis 16(4), 372-403.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from luopan.errors import OptionalDependencyError

__all__ = ["DEFAULT_WATCHLIST", "TopicTerm", "Watchlist", "complaint_terms", "tokenize"]

STOP = frozenset(
    "的 了 是 我 也 都 就 还 在 和 有 没 不 很 太 啊 吧 吗 呢 又 说 这 那 个 一个 我们 你们 他们 "
    "没有 什么 这个 那个 就是 还是 但是 因为 所以 而且 然后 已经 可以 真的 非常 一下 今天 昨天 "
    "不是 不会 不能 不要 大家 必须 应该 一定 还在 有人 怎么 为什么 这是 那是".split()
)
_KEEP = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]+$")

# category -> terms; YAML of the same shape replaces it (see Watchlist.from_mapping)
DEFAULT_WATCHLIST: dict[str, tuple[str, ...]] = {
    "food_safety": (
        "变质",
        "发霉",
        "过期",
        "异物",
        "虫子",
        "头发",
        "食物中毒",
        "食品安全",
        "腐烂",
        "发臭",
    ),
    "health": ("腹泻", "拉肚子", "肚子疼", "呕吐", "住院", "过敏", "中毒"),
    "injury": ("受伤", "划伤", "烫伤", "摔倒", "伤人"),
    "discrimination": ("歧视", "辱骂", "侮辱", "殴打"),
    "regulator": ("12315", "市场监管", "监管部门", "工商", "报警", "曝光", "起诉"),
}
CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "food_safety": {"zh": "食品安全", "en": "food safety"},
    "health": {"zh": "健康损害", "en": "health harm"},
    "injury": {"zh": "人身伤害", "en": "injury"},
    "discrimination": {"zh": "歧视辱骂", "en": "discrimination"},
    "regulator": {"zh": "监管投诉", "en": "regulator"},
}


@dataclass(frozen=True)
class Watchlist:
    """Sensitive terms by category; ``hits(text)`` returns the categories matched."""

    terms: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_WATCHLIST))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Iterable[str]]) -> Watchlist:
        """From parsed YAML ``{category: [term, …]}``."""
        return cls({str(k): tuple(str(t) for t in v) for k, v in data.items()})

    def hits(self, text: str) -> set[str]:
        return {cat for cat, words in self.terms.items() if any(w in text for w in words)}

    def matched_terms(self, text: str) -> list[str]:
        return [w for words in self.terms.values() for w in words if w in text]


@lru_cache(maxsize=1)
def _jieba():  # noqa: ANN202 - the module
    try:
        import jieba
    except ModuleNotFoundError:
        raise OptionalDependencyError("complaint topics (jieba)", "listening") from None
    jieba.setLogLevel(logging.WARNING)
    return jieba


def tokenize(text: str, *, extra_words: Iterable[str] = ()) -> list[str]:
    """jieba words of length ≥ 2 that are not stop words or numbers."""
    jb = _jieba()
    for w in extra_words:
        jb.add_word(w)
    return [w for w in jb.lcut(str(text)) if _KEEP.match(w) and w not in STOP]


@dataclass(frozen=True)
class TopicTerm:
    term: str
    count: int  # occurrences in the pool
    baseline_count: int
    log_odds: float  # delta of Monroe et al. (2008)
    z: float


def _counts(texts: Sequence[str], extra: tuple[str, ...]) -> Counter[str]:
    c: Counter[str] = Counter()
    for t in texts:
        c.update(set(tokenize(t, extra_words=extra)))  # document frequency: one per text
    return c


def complaint_terms(
    pool: Sequence[str],
    baseline: Sequence[str],
    *,
    top: int = 10,
    prior_size: float = 500.0,
    min_count: int = 2,
    watchlist: Watchlist | None = None,
) -> list[TopicTerm]:
    """Terms whose log-odds rise most in ``pool`` against ``baseline`` (highest z first).

    Args:
        pool: texts of interest (negative mentions, or the burst window).
        baseline: comparison texts (positive mentions, or the weeks before).
        prior_size: total pseudo-count α₀ of the informative Dirichlet prior.
        min_count: drop terms seen in fewer pool texts.
        watchlist: its terms are added to jieba's dictionary so they stay whole.
    """
    extra = tuple(w for ws in (watchlist or Watchlist()).terms.values() for w in ws)
    a, b = _counts(pool, extra), _counts(baseline, extra)
    vocab = sorted(set(a) | set(b))
    if not vocab:
        return []
    ya = np.array([a[w] for w in vocab], float)
    yb = np.array([b[w] for w in vocab], float)
    tot = ya + yb
    alpha = prior_size * tot / tot.sum()
    a0 = alpha.sum()
    na, nb = ya.sum(), yb.sum()
    la = np.log((ya + alpha) / (na + a0 - ya - alpha))
    lb = np.log((yb + alpha) / (nb + a0 - yb - alpha))
    delta = la - lb
    var = 1.0 / (ya + alpha) + 1.0 / (yb + alpha)
    z = delta / np.sqrt(var)
    frame = pd.DataFrame({"term": vocab, "ya": ya, "yb": yb, "d": delta, "z": z})
    frame = frame[frame.ya >= min_count].sort_values(["z", "term"], ascending=[False, True])
    return [
        TopicTerm(r.term, int(r.ya), int(r.yb), float(r.d), float(r.z))
        for r in frame.head(top).itertuples()
    ]
