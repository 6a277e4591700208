"""Unlabelled in-domain texts in sentiment training: the LSA projection, its weights folded into
the hashed weights, the bridge it builds to unlabelled vocabulary, and the 200-label adaptation
on real food-delivery reviews with the rest of the corpus unlabelled (evaluation only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from luopan.engines.listening import SentimentModel, evaluate
from luopan.errors import EngineError, InsufficientDataError

# labelled: taste only; unlabelled: taste beside delivery words the labels never contain
LABELLED = ["好吃", "真好吃", "很好吃", "好吃好吃", "挺好吃的"] * 2 + [
    "难吃",
    "真难吃",
    "很难吃",
    "难吃难吃",
    "挺难吃的",
] * 2
Y = [1] * 10 + [0] * 10
UNLABELLED = [
    "好吃，准时",
    "很好吃，送餐准时",
    "准时送到，好吃",
    "真好吃又准时",
    "难吃，超时",
    "太难吃了，又超时",
    "超时送到，难吃",
    "真难吃又超时",
] * 2


def test_projection_shape_scale_and_errors() -> None:
    m = SentimentModel(n_bits=12)
    docs = LABELLED + UNLABELLED
    P = m.lsa_projection(docs, dims=4)
    assert P.shape == (2**12, 4)
    mapped = np.asarray((m.transform(docs) @ P).todense())
    assert np.mean(np.linalg.norm(mapped, axis=1)) == pytest.approx(1.0, abs=1e-5)
    # n-grams in fewer than two texts have no latent coordinates
    once = m.transform(["鲜榨"]).indices
    assert P[once].nnz == 0
    with pytest.raises(InsufficientDataError, match="at least 200 texts"):
        m.lsa_projection(docs, dims=100)
    with pytest.raises(EngineError, match="nb=True"):
        SentimentModel(n_bits=12, nb=True).lsa_projection(docs, dims=4)


def test_latent_weights_fold_into_the_hashed_weights() -> None:
    # the model fitted with unlabelled texts scores exactly like the unfolded one on
    # hashed + latent features, with a weight vector of the plain size
    m = SentimentModel(n_bits=12, epochs=5).fit(LABELLED, Y, unlabelled=UNLABELLED, lsa_dims=4)
    assert m.coef_.shape == (2**12,) and m.coef_.dtype == np.float32 and m._lsa is None
    twin = SentimentModel(n_bits=12, epochs=5)
    twin._lsa = twin.lsa_projection(LABELLED + UNLABELLED, dims=4)
    twin._fit_rows([twin._rows(LABELLED, np.asarray(Y), 1.0)])
    assert twin.coef_.shape == (2**12 + 4,)
    probe = ["准时", "超时", "好吃，但超时", "", "鲜榨"]
    assert np.allclose(m.decision(probe), twin.decision(probe), atol=1e-5)
    again = SentimentModel.from_bytes(m.to_bytes())
    assert np.allclose(again.decision(probe), m.decision(probe), atol=1e-6)


def test_unlabelled_texts_bridge_to_unseen_words() -> None:
    plain = SentimentModel(n_bits=12).fit(LABELLED, Y)
    d0 = plain.decision(["准时", "超时"])
    # no labelled text holds 准 or 超; the shared 时 scores alike: no difference
    assert d0[0] - d0[1] == pytest.approx(0.0, abs=1e-6)
    m = SentimentModel(n_bits=12).fit(LABELLED, Y, unlabelled=UNLABELLED, lsa_dims=4)
    d = m.decision(["准时", "超时"])
    assert d[0] - d[1] > 0.5
    assert m.score_one("准时") > 0.5 > m.score_one("超时")


def test_fit_calibrated_with_unlabelled_keeps_the_full_fit() -> None:
    m = SentimentModel(n_bits=12, epochs=5)
    thr = m.fit_calibrated(LABELLED, Y, folds=3, unlabelled=UNLABELLED, lsa_dims=4)
    plain = SentimentModel(n_bits=12, epochs=5).fit(LABELLED, Y, unlabelled=UNLABELLED, lsa_dims=4)
    assert np.allclose(m.coef_, plain.coef_) and m.intercept_ == pytest.approx(plain.intercept_)
    assert 0.0 < thr < 1.0 and m.threshold() == thr and m._lsa is None


def test_waimai_200_labels_adapt_with_unlabelled_rest(shared_data: Path) -> None:
    # draw 0 of benchmarks/listening.py's protocol with the 11,787 other reviews passed
    # unlabelled (their 100-dim LSA space). Measured 2026-12-02: macro-F1 0.847, AUC 0.916 (labels
    # only: 0.843); over the 10 draws see benchmarks/RESULTS.md
    from luopan.engines.listening.corpus import bundled_corpus

    df = pd.read_csv(shared_data / "listening" / "waimai_10k.csv")
    y, x = df["label"].to_numpy(), df["review"].tolist()
    idx = np.random.default_rng(0).choice(len(y), 200, replace=False)
    rest = np.setdiff1d(np.arange(len(y)), idx)
    rest_x = [x[i] for i in rest]
    m = SentimentModel()
    thr = m.fit_calibrated([x[i] for i in idx], y[idx], base=bundled_corpus(), unlabelled=rest_x)
    assert m.size_bytes == 2**19 * 4 + 8
    r = evaluate(y[rest], m.score(rest_x), threshold=thr)
    assert r.macro_f1 > 0.84 and r.auc > 0.91
