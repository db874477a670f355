"""Measurements of the DRM experiment: full lists (a), list length (b), corpus statistics.

Every function takes a *recall function* ``bags (20, V) -> (p (20, V), converged (20,))``
(:mod:`refmem.experiments.drm.model`), so the model and its controls are measured alike.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np
import scipy.sparse

from refmem.analysis import sem
from refmem.datasets.drm import DRM_LISTS, LURES

from refmem.experiments.drm.model import list_indices, study_bags

__all__ = ["full_lists", "list_length_curve", "corpus_stats"]


def full_lists(recall, vocabulary: Dict[str, int], threshold: float = 0.5, top: int = 15) -> dict:
    """Measurement (a): study every full 15-word list, recall each from its id.

    Returns
    -------
    dict
        ``lists``: per lure ``{"lure", "lure_p", "lure_recalled", "n_studied",
        "n_studied_recalled", "intrusions" (unstudied non-lure words with p > threshold),
        "top" (the ``top`` most probable words with p)}``; ``n_lures_recalled``,
        ``lures_recalled`` (names), ``studied_recall`` (mean fraction), ``converged``.
    """
    names = list(vocabulary)
    lures, _, _ = list_indices(vocabulary)
    bags, studied = study_bags(vocabulary, 15, rng=0)  # all 15 words: the draw order is irrelevant
    p, conv = recall(bags)
    rows = []
    for i, lure in enumerate(LURES):
        on = set(np.flatnonzero(p[i] > threshold).tolist())
        li = lures[i]
        intr = sorted(on - set(studied[i]) - ({li} if li is not None else set()), key=lambda j: -p[i, j])
        order = np.argsort(-p[i])[:top]
        rows.append({"lure": lure, "lure_p": None if li is None else float(p[i, li]),
                     "lure_recalled": bool(li is not None and p[i, li] > threshold),
                     "n_studied": len(studied[i]),
                     "n_studied_recalled": int(sum(p[i, j] > threshold for j in studied[i])),
                     "intrusions": [[names[j], round(float(p[i, j]), 3)] for j in intr],
                     "top": [[names[j], round(float(p[i, j]), 3)] for j in order]})
    rec = [r["lure"] for r in rows if r["lure_recalled"]]
    return {"lists": rows, "n_lures_recalled": len(rec), "lures_recalled": rec,
            "studied_recall": float(np.mean([r["n_studied_recalled"] / max(r["n_studied"], 1) for r in rows])),
            "mean_intrusions": float(np.mean([len(r["intrusions"]) for r in rows])),
            "converged": bool(np.all(conv))}


def list_length_curve(recall, vocabulary: Dict[str, int], ks: Sequence[int], n_reps: int,
                      rng, threshold: float = 0.5) -> dict:
    """Measurement (b): for each k, ``n_reps`` times draw k random associates of every
    list, rebuild the memory and test each lure (``n_reps * 20`` trials per k).

    Returns
    -------
    dict
        ``ks``; ``rate`` (P(lure recalled) per k), ``sem`` (population sd / sqrt(trials),
        the paper's convention), ``studied_recall`` (mean fraction of studied words
        recalled), ``intrusions`` (mean number of unstudied non-lure words recalled per
        list), ``per_list_rate`` (20 rates per k), ``n_trials``, ``n_not_converged``.
    """
    lures, assoc, _ = list_indices(vocabulary)
    out = {"ks": [int(k) for k in ks], "rate": [], "sem": [], "studied_recall": [], "intrusions": [],
           "per_list_rate": [], "n_trials": [], "n_not_converged": 0}
    lure_col = np.array([-1 if l is None else l for l in lures])
    for k in ks:
        hits = np.zeros((n_reps, len(LURES)), dtype=bool)
        studied_frac = np.zeros((n_reps, len(LURES)))
        intr = np.zeros((n_reps, len(LURES)))
        for r in range(n_reps):
            bags, studied = study_bags(vocabulary, int(k), rng=rng)
            p, conv = recall(bags)
            out["n_not_converged"] += int(np.sum(~conv))
            on = p > threshold
            for i in range(len(LURES)):
                hits[r, i] = lure_col[i] >= 0 and on[i, lure_col[i]]
                studied_frac[r, i] = on[i, studied[i]].mean() if studied[i] else np.nan
                intr[r, i] = on[i].sum() - on[i, studied[i]].sum() - hits[r, i]
        out["rate"].append(float(hits.mean()))
        out["sem"].append(float(sem(hits.astype(np.float64))))
        out["studied_recall"].append(float(np.nanmean(studied_frac)))
        out["intrusions"].append(float(intr.mean()))
        out["per_list_rate"].append(hits.mean(axis=0).round(4).tolist())
        out["n_trials"].append(int(hits.size))
    return out


def corpus_stats(X, vocabulary: Dict[str, int]) -> dict:
    """Statistics of a vectorised corpus ``X`` (n, V) (dense or sparse, binary).

    ``df_ratio``: document frequency of each lure over the mean document frequency of
    its associates, averaged over lists (1 = the lure is as frequent as a typical
    associate); ``p_lure_given_assoc``: P(lure in story | story holds >= 1 of its
    associates), averaged over lists; ``p_lure_given_no_assoc`` the same without.
    """
    Xc = scipy.sparse.csc_matrix(X)
    n, v = Xc.shape
    df = np.asarray(Xc.sum(axis=0)).ravel()
    lures, assoc, missing = list_indices(vocabulary)
    ratio, p_with, p_without = [], [], []
    for li, ai in zip(lures, assoc):
        if li is None or not ai:
            continue
        ratio.append(df[li] / max(df[ai].mean(), 1e-12))
        has = np.asarray(Xc[:, ai].sum(axis=1)).ravel() > 0
        lure = Xc[:, li].toarray().ravel() > 0
        p_with.append(lure[has].mean() if has.any() else np.nan)
        p_without.append(lure[~has].mean() if (~has).any() else np.nan)
    words = np.asarray(Xc.sum(axis=1)).ravel()
    return {"n_stories": int(n), "vocab_size": int(v), "density": float(Xc.nnz / max(n * v, 1)),
            "words_per_story": float(words.mean()), "df_ratio": float(np.mean(ratio)) if ratio else None,
            "p_lure_given_assoc": float(np.nanmean(p_with)) if p_with else None,
            "p_lure_given_no_assoc": float(np.nanmean(p_without)) if p_without else None,
            "missing_drm_words": missing}
