"""The DRM model as the paper ran it: text-VAE latents stored with list ids in an
unnormalised modern Hopfield network, recalled from the id alone (paper.md E15).

For list n with studied bag of words b_n (V,), the trace is

    x_n = [ μ(b_n) (L) ; e_{V+n} (V + 20) ],      d = L + V + 20,

where μ is the VAE encoder mean and e_{V+n} the one-hot of the id token ``id_n`` in the
vocabulary extended by 20 id slots. The 20 traces are stored in a modern Hopfield
network with ``beta_eff = beta`` (unnormalised, paper: 100). Recall of list n iterates
ξ ← softmax(β ξ Xᵀ) X from the query ξ₀ = [0 (L); e_{V+n}] to an exact fixed point,
decodes the retrieved latent ξ[:L] to word probabilities p = g(ξ[:L]) and recalls the
words with p > threshold (0.5).

A *recall function* maps the (20, V) studied bags to (20, V) probabilities; the model
and the controls are all recall functions, so every measurement treats them alike.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from refmem import ModernHopfield
from refmem._utils import as_rng, check_float_array
from refmem.datasets.drm import DRM_LISTS, LURES

__all__ = ["N_IDS", "make_traces", "id_queries", "hopfield_recall", "vae_recall_fn",
           "hippocampus_only_recall_fn", "prior_recall_fn", "study_bags", "list_indices"]

#: number of id slots appended to the vocabulary (one per DRM list)
N_IDS = 20

RecallFn = Callable[[np.ndarray], Tuple[np.ndarray, np.ndarray]]


def make_traces(content, vocab_size: int) -> np.ndarray:
    """Traces ``[content_n ; one-hot(id_n) over vocab_size + 20]`` in float64.

    Parameters
    ----------
    content : (n, C) array_like, n <= 20
        Per-list content (the VAE latent μ, or the bag itself for the
        hippocampus-only control).
    vocab_size : int
        V; the id of list n is slot ``V + n`` of a ``V + 20`` one-hot.

    Returns
    -------
    (n, C + V + 20) float64 ndarray
    """
    c = check_float_array(content, "content", ndim=2, min_size=1)
    n = c.shape[0]
    if n > N_IDS:
        raise ValueError(f"at most {N_IDS} lists have ids, got {n}")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 1:
        raise ValueError(f"vocab_size must be a positive int, got {vocab_size!r}")
    ids = np.zeros((n, vocab_size + N_IDS))
    ids[np.arange(n), vocab_size + np.arange(n)] = 1.0  # e_{V+n}
    return np.concatenate([c.astype(np.float64), ids], axis=1)


def id_queries(traces: np.ndarray, content_dim: int) -> np.ndarray:
    """The recall cues: each trace with its content zeroed, ``[0 (C); e_{V+n}]``."""
    q = np.array(traces, dtype=np.float64, copy=True)
    q[:, :content_dim] = 0.0
    return q


def hopfield_recall(traces: np.ndarray, content_dim: int, beta: float = 100.0,
                    max_iter: int = 100) -> Tuple[np.ndarray, np.ndarray]:
    """Store ``traces`` in an unnormalised modern Hopfield network; recall each from its id.

    Returns
    -------
    content : (n, content_dim) float64 ndarray
        The content part of each retrieved state.
    converged : (n,) bool ndarray
        Whether the query reached an exact fixed point (ξ_new == ξ) within ``max_iter``.
    """
    net = ModernHopfield(beta, normalize=False).store(traces)
    state, info = net.retrieve(id_queries(traces, content_dim), max_iter=max_iter, tol=0.0,
                               return_info=True)
    return state[:, :content_dim], np.asarray(info["converged"], dtype=bool)


def vae_recall_fn(vae, beta: float = 100.0, max_iter: int = 100) -> RecallFn:
    """The paper's model: traces of VAE means, id-cued Hopfield recall, decoding."""
    def recall(bags):
        mu, _ = vae.encode(np.asarray(bags, dtype=vae.dtype))
        latent, conv = hopfield_recall(make_traces(mu, bags.shape[1]), mu.shape[1], beta, max_iter)
        return np.asarray(vae.decode(latent.astype(vae.dtype)), dtype=np.float64), conv
    return recall


def hippocampus_only_recall_fn(beta: float = 100.0, max_iter: int = 100) -> RecallFn:
    """Control: the bags themselves stored and retrieved (no VAE); p = retrieved bag."""
    def recall(bags):
        bags = np.asarray(bags, dtype=np.float64)
        content, conv = hopfield_recall(make_traces(bags, bags.shape[1]), bags.shape[1], beta, max_iter)
        return content, conv
    return recall


def prior_recall_fn(vae) -> RecallFn:
    """Control: a constant decoder output g(0) for every list (no trace is used)."""
    def recall(bags):
        p0 = np.asarray(vae.decode(np.zeros((1, vae.latent_dim), vae.dtype)), dtype=np.float64)
        return np.repeat(p0, bags.shape[0], axis=0), np.ones(bags.shape[0], dtype=bool)
    return recall


def list_indices(vocabulary: Dict[str, int]) -> Tuple[List[Optional[int]], List[List[int]], List[str]]:
    """Vocabulary indices of each list's lure (None if absent) and associates (present
    ones only), and the DRM words missing from the vocabulary."""
    lures = [vocabulary.get(l) for l in LURES]
    assoc = [[vocabulary[w] for w in DRM_LISTS[l] if w in vocabulary] for l in LURES]
    missing = [w for l in LURES for w in (l,) + DRM_LISTS[l] if w not in vocabulary]
    return lures, assoc, missing


def study_bags(vocabulary: Dict[str, int], k: int, rng=None, dtype=np.float32
               ) -> Tuple[np.ndarray, List[List[int]]]:
    """Draw k random associates of every list (as the paper's ``random.sample``).

    Words not in the vocabulary are ignored in the bag, as out-of-vocabulary words
    are by a bag-of-words vectoriser (so a list may hold fewer than k words).

    Returns
    -------
    bags : (20, V) ndarray of 0/1
    studied : list of 20 lists of vocabulary indices
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 15:
        raise ValueError(f"k must be an int in 1..15, got {k!r}")
    gen = as_rng(rng)
    bags = np.zeros((len(LURES), len(vocabulary)), dtype=dtype)
    studied = []
    for i, lure in enumerate(LURES):
        words = [DRM_LISTS[lure][j] for j in gen.choice(15, size=int(k), replace=False)]
        idx = sorted(vocabulary[w] for w in words if w in vocabulary)
        bags[i, idx] = 1
        studied.append(idx)
    return bags, studied
