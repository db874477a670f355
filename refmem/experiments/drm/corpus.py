"""The DRM experiment's corpus: the synthetic stories, or a file the user names.

``--corpus FILE`` reads one story per line, or a CSV in the ROCStories layout (a header
with the columns ``sentence1`` ... ``sentence5``, which are joined with spaces). The
paper also kept only stories containing a DRM word as a substring, which keeps almost
every story; that filter is not applied here.
"""
from __future__ import annotations

import csv
import os
from typing import List, Sequence, Tuple

import numpy as np
import scipy.sparse

from refmem.datasets.drm import DRM_LISTS, LURES, BagOfWords, generate_corpus, tokenize

from refmem.experiments.drm.config import CorpusConfig

__all__ = ["read_stories", "synthetic_stories", "decouple_stories", "vectorize"]

_SENTENCES = [f"sentence{i}" for i in range(1, 6)]


def read_stories(path) -> List[str]:
    """Stories from a text file (one per line) or a ROCStories-style CSV.

    A file whose first line, parsed as CSV, contains the columns ``sentence1`` ...
    ``sentence5`` (case-insensitive) is read as CSV and each row's five sentences are
    joined; any other file is one story per line. Blank lines are skipped.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file is empty, not UTF-8 text, a CSV row lacks a sentence column, or a
        ``.csv`` file has no sentence columns.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"corpus file {path!r} does not exist")
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise ValueError(f"corpus file {path!r} is not UTF-8 text ({exc})") from None
    lines = text.splitlines()
    if not any(ln.strip() for ln in lines):
        raise ValueError(f"corpus file {path!r} holds no stories")
    header = next(csv.reader(lines[:1]), []) if lines else []
    cols = {h.strip().lower(): i for i, h in enumerate(header)}
    if all(s in cols for s in _SENTENCES):
        stories = []
        for n, row in enumerate(csv.reader(lines[1:]), start=2):
            if not any(c.strip() for c in row):
                continue
            if len(row) <= max(cols[s] for s in _SENTENCES):
                raise ValueError(f"{path}:{n}: row has {len(row)} columns, expected the five sentence columns")
            stories.append(" ".join(row[cols[s]].strip() for s in _SENTENCES))
    elif path.lower().endswith(".csv"):
        raise ValueError(f"{path}: a CSV corpus needs the columns sentence1 ... sentence5 "
                         f"(ROCStories layout), got {header[:8]}")
    else:
        stories = [ln.strip() for ln in lines if ln.strip()]
    if not stories:
        raise ValueError(f"corpus file {path!r} holds no stories")
    return stories


def synthetic_stories(cfg: CorpusConfig, rng, lure_weight=None, decouple: bool = False) -> List[str]:
    """The synthetic corpus of ``cfg`` (optionally another lure weight, or decoupled lures)."""
    return generate_corpus(
        cfg.n_stories, rng, lure_weight=cfg.lure_weight if lure_weight is None else lure_weight,
        n_theme=tuple(cfg.n_theme), p_second=cfg.p_second, zipf=cfg.zipf,
        n_filler=tuple(cfg.n_filler), filler_zipf=cfg.filler_zipf,
        n_background=tuple(cfg.n_background), n_background_topics=cfg.n_background_topics,
        background_topic_size=cfg.background_topic_size, background_zipf=cfg.background_zipf,
        decouple_lures=decouple)


def decouple_stories(stories: Sequence[str]) -> List[str]:
    """A real corpus without lure-associate co-occurrence: every lure token is deleted
    from each story that also contains one of that lure's associates (as a token).

    Stories are re-expressed as their tokens (order kept), which leaves the bag of
    words of every other token unchanged.
    """
    assoc = {l: set(DRM_LISTS[l]) for l in LURES}
    out = []
    for s in stories:
        toks = tokenize(s)
        present = set(toks)
        drop = {l for l in LURES if l in present and present & assoc[l]}
        out.append(" ".join(t for t in toks if t not in drop))
    return out


def vectorize(stories: Sequence[str], max_df: float, min_df: float
              ) -> Tuple[scipy.sparse.csr_matrix, dict]:
    """Binary bags of words (CSR, float32) and the vocabulary (word -> column).

    The vocabulary is :class:`~refmem.datasets.drm.BagOfWords`'s (document frequency
    in [min_df, max_df]); the matrix equals its binary ``transform``, built sparse.
    """
    bow = BagOfWords(max_df=max_df, min_df=min_df, binary=True, dtype=np.float32).fit(stories)
    voc = dict(bow.vocabulary_)
    indptr, indices = [0], []
    for s in stories:
        cols = sorted({voc[t] for t in tokenize(s) if t in voc})
        indices.extend(cols)
        indptr.append(len(indices))
    X = scipy.sparse.csr_matrix((np.ones(len(indices), np.float32), np.array(indices, np.int32),
                                 np.array(indptr, np.int64)), shape=(len(stories), len(voc)))
    return X, voc
