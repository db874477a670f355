"""Recall by the hippocampus, the neocortex, or both (paper.md E9, E16).

Cues and recalls are images in [0, 1]; the Hopfield network works on patterns in
[-1, 1] (:func:`~refmem.hippocampus.replay.to_pattern`).

* :func:`hippocampal_recall`: retrieve the cue from the Hopfield network (intact recall).
* :func:`neocortical_recall`: ``decode(mu(cue))`` (recall after a complete lesion).
* :func:`arbitrated_recall`: after a partial lesion, the surviving network and the VAE
  each propose a recall and the one closer to the cue is kept (no knowledge of which
  memories survived is used).
* :func:`gist_then_hopfield`: the VAE's gist, rescaled to the pattern range, is the
  Hopfield query (the preprint's hybrid recall of a partly consolidated memory).
* :func:`cosine_to`, :func:`exact_recovery`: agreement of a recall with the stored scene.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from refmem._utils import check_array, check_int, check_real
from refmem.hippocampus.replay import from_pattern, to_pattern
from refmem.neocortex.recall import reconstruct

__all__ = ["hippocampal_recall", "neocortical_recall", "arbitrated_recall", "gist_then_hopfield",
           "cosine_to", "exact_recovery"]


def _images(x, name):
    return check_array(x, name, ndim=4)


def hippocampal_recall(net, cues: np.ndarray, max_iter: int = 10) -> Tuple[np.ndarray, np.ndarray]:
    """Hopfield retrieval of image cues: ``from_pattern(retrieve(to_pattern(cue)))``.

    Parameters
    ----------
    net : refmem.hippocampus.ModernHopfield
        Holds the memories as patterns (``build_hippocampus``).
    cues : (Q, H, W, C) ndarray in [0, 1]
    max_iter : int
        Hopfield updates (paper: 10).

    Returns
    -------
    recall : (Q, H, W, C) ndarray in [0, 1]
    winner : (Q,) int ndarray
        Index of the stored pattern with the largest final attention weight.
    """
    cues = _images(cues, "cues")
    if cues.shape[1] * cues.shape[2] * cues.shape[3] != net.dim:
        raise ValueError(f"cues of shape {cues.shape[1:]} do not match patterns of length {net.dim}")
    query = to_pattern(cues).astype(net.dtype, copy=False)
    out, info = net.retrieve(query, max_iter=check_int(max_iter, "max_iter", 1), return_info=True)
    return from_pattern(out, cues.shape[1:]), np.asarray(info["winner"], np.int64)


def neocortical_recall(vae, cues: np.ndarray) -> np.ndarray:
    """The VAE's recall ``decode(mu(cue))`` (paper.md 1.4): ``(Q, H, W, C)``."""
    return reconstruct(vae, _images(cues, "cues"))


def arbitrated_recall(net, vae, cues: np.ndarray, max_iter: int = 10) -> Tuple[np.ndarray, np.ndarray]:
    """Recall after a partial lesion: whichever of Hopfield and VAE recall is closer to the cue.

    For each cue ``c`` the candidates are ``h = hippocampal_recall(net, c)`` and
    ``v = decode(mu(c))``; the recall is ``h`` if ``sum |h - c| <= sum |v - c|`` and ``v``
    otherwise. A surviving memory is retrieved exactly and matches its cue except at the
    corrupted elements; a removed one makes the network retrieve another memory, which
    the cue contradicts, so the VAE's recall is used.

    Parameters
    ----------
    net : ModernHopfield or None
        The lesioned network (None after a complete lesion: the VAE alone).
    vae : refmem.neocortex.vae.VAE
    cues : (Q, H, W, C) ndarray in [0, 1]

    Returns
    -------
    recall : (Q, H, W, C) ndarray
    used_hippocampus : (Q,) bool ndarray
    """
    cues = _images(cues, "cues")
    v = neocortical_recall(vae, cues)
    if net is None:
        return v, np.zeros(len(cues), bool)
    h, _ = hippocampal_recall(net, cues, max_iter)
    axes = tuple(range(1, cues.ndim))
    use_h = np.abs(h - cues).sum(axis=axes) <= np.abs(v - cues).sum(axis=axes)
    out = np.where(use_h[:, None, None, None], h, v).astype(v.dtype, copy=False)
    return out, use_h


def gist_then_hopfield(vae, net, cues: np.ndarray, max_iter: int = 10) -> Tuple[np.ndarray, np.ndarray]:
    """Hybrid recall: the VAE's gist ``g = decode(mu(cue))`` queries the Hopfield network.

    The query is ``2 g - 1`` (the pattern range); ``max_iter`` updates restore the
    stored details.

    Returns
    -------
    recall : (Q, H, W, C) ndarray in [0, 1]
    gist : (Q, H, W, C) ndarray in [0, 1]
    """
    gist = neocortical_recall(vae, cues)
    recall, _ = hippocampal_recall(net, gist, max_iter)
    return recall, gist


def cosine_to(recall: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """Cosine between each recall and its stored scene, in the pattern range [-1, 1]: ``(Q,)``.

    >>> x = np.full((1, 2, 2, 3), 0.9)
    >>> round(float(cosine_to(x, x)[0]), 12)
    1.0
    """
    recall = _images(recall, "recall")
    stored = check_array(stored, "stored", shape=recall.shape)
    a = to_pattern(recall).astype(np.float64)
    b = to_pattern(stored).astype(np.float64)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    num = np.einsum("ij,ij->i", a, b)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)  # <a, b> / (|a| |b|)


def exact_recovery(recall: np.ndarray, stored: np.ndarray, threshold: float = 0.99) -> np.ndarray:
    """Which recalls reproduce their stored scene: ``cosine_to(recall, stored) >= threshold``."""
    threshold = check_real(threshold, "threshold", 0.0, 1.0, low_open=True)
    return cosine_to(recall, stored) >= threshold
