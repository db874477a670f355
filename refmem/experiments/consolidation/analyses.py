"""Analyses of the consolidated VAE, part 1: recall (E2), latent space (E4), interpolation (E5).

Each function returns a dict of plain numbers (for ``results.json``) plus, under the
key ``"arrays"``, the images a figure needs. Relational inference (E6), imagination (E7)
and few-shot learning (E8) are in :mod:`.relational`, :mod:`.imagination` and
:mod:`.fewshot`.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from refmem._utils import as_rng, check_array
from refmem.neocortex.recall import decode, encode_mu, reconstruct
from refmem.analysis.metrics import per_image_error

__all__ = ["recall_noisy", "latent_structure", "interpolation"]


def recall_noisy(vae, untrained_vae, images: np.ndarray, fraction: float = 0.1, rng=None) -> Dict:
    """E2: recall of held-out scenes with a fraction of their elements zeroed (docs/paper-experiments.md, E2).

    The corrupted input (``refmem.datasets.transforms.noise``, mode "zero", docs/paper-experiments.md, 1.8)
    is recalled as ``decode(mu(x_noisy))``; errors are the paper's metric (docs/paper-experiments.md, 1.5)
    against the *clean* image, averaged over images.

    Parameters
    ----------
    vae, untrained_vae : refmem.neocortex.vae.VAE
        The consolidated VAE and the same architecture before training (same init seed).
    images : (N, H, W, C) ndarray
        Clean held-out scenes in [0, 1].
    fraction : float
        Fraction of elements set to 0 (paper: 0.1).

    Returns
    -------
    dict
        ``error_recall``, ``error_corrupted_input``, ``error_untrained_recall``,
        ``error_clean_recall`` (recall of the clean image, for reference),
        ``fraction_images_improved`` (per-image recall error < corrupted-input error) and
        ``passed`` (recall error below both the corrupted input's and the untrained VAE's).
    """
    from refmem.datasets.transforms import noise

    images = check_array(images, "images", ndim=4)
    noisy = noise(images, fraction, rng, mode="zero")  # exactly int(size f) elements -> 0
    recall = reconstruct(vae, noisy)
    e_recall = per_image_error(images, recall)
    e_input = per_image_error(images, noisy)
    e_untrained = per_image_error(images, reconstruct(untrained_vae, noisy))
    e_clean = per_image_error(images, reconstruct(vae, images))
    out = {"n": int(len(images)), "fraction": float(fraction),
           "error_recall": float(e_recall.mean()), "error_corrupted_input": float(e_input.mean()),
           "error_untrained_recall": float(e_untrained.mean()), "error_clean_recall": float(e_clean.mean()),
           "fraction_images_improved": float(np.mean(e_recall < e_input))}
    out["passed"] = bool(out["error_recall"] < out["error_corrupted_input"]
                         and out["error_recall"] < out["error_untrained_recall"])
    out["arrays"] = {"clean": images[:10], "noisy": noisy[:10], "recall": recall[:10]}
    return out


def latent_structure(vae, images: np.ndarray, labels: np.ndarray, k: int = 5) -> Dict:
    """E4: 2-D PCA of ``mu`` and shape agreement of nearest neighbours (docs/paper-experiments.md, E4).

    Parameters
    ----------
    images : (N, H, W, C) ndarray
        Held-out scenes.
    labels : (N,) ndarray of int
        Shape labels.
    k : int
        Neighbours in the agreement score (docs/paper-experiments.md, E4: 5).

    Returns
    -------
    dict
        ``knn_agreement_mu``, ``knn_agreement_pixels`` (fraction of the k nearest
        neighbours sharing the item's shape, :func:`refmem.analysis.knn_agreement`),
        ``silhouette_mu``, ``silhouette_pixels`` (:func:`refmem.analysis.silhouette_score`),
        ``chance`` (agreement expected from the class frequencies) and ``passed``
        (mu agreement > 0.6 and > pixels, and silhouette of mu > silhouette of pixels). ``arrays`` holds the projection and labels.
    """
    from refmem.analysis.stats import knn_agreement, pca, silhouette_score

    images = check_array(images, "images", ndim=4)
    labels = check_array(labels, "labels", shape=(len(images),), dtype_kind="iu")
    mu = encode_mu(vae, images).astype(np.float64)
    pixels = images.reshape(len(images), -1).astype(np.float64)
    proj = pca(mu, n_components=2)[0]  # (X - mean) V_2
    freq = np.bincount(labels) / len(labels)
    out = {"n": int(len(images)), "k": int(k),
           "knn_agreement_mu": float(knn_agreement(mu, labels, k=k)),
           "knn_agreement_pixels": float(knn_agreement(pixels, labels, k=k)),
           "silhouette_mu": float(silhouette_score(mu, labels)),
           "silhouette_pixels": float(silhouette_score(pixels, labels)),
           "chance": float(np.sum(freq ** 2))}
    out["passed"] = bool(out["knn_agreement_mu"] > 0.6 and out["knn_agreement_mu"] > out["knn_agreement_pixels"]
                         and out["silhouette_mu"] > out["silhouette_pixels"])  # E4 criterion
    out["arrays"] = {"projection": np.asarray(proj)[:, :2], "labels": labels}
    return out


def interpolation(vae, images: np.ndarray, n_pairs: int = 10, n_steps: int = 10,
                  n_reference: int = 1000, rng=None) -> Dict:
    """E5: decoded latent interpolations vs pixel blends (docs/paper-experiments.md, E5).

    For random pairs (a, b) of held-out scenes, ``z(t) = (1 - t) mu_a + t mu_b`` at
    ``n_steps`` evenly spaced t in [0, 1] (endpoints included) is decoded and compared
    with the pixel blend ``(1 - t) x_a + t x_b``. Realism of an intermediate image is its
    distance (:func:`refmem.analysis.nearest_distance`, MAE per element) to the nearest of up to ``n_reference`` held-out scenes,
    excluding the pair's own endpoints (which a blend near t = 0 or 1 would trivially match).

    Returns
    -------
    dict
        ``decoded_distance``, ``blend_distance``: mean over pairs and interior steps;
        per-step means ``decoded_distance_by_step``, ``blend_distance_by_step``;
        ``fraction_decoded_closer`` over all (pair, interior step); ``passed``
        (decoded mean < blend mean). ``arrays`` holds both image sequences.
    """
    from refmem.analysis.stats import nearest_distance

    images = check_array(images, "images", ndim=4)
    rng = as_rng(rng)
    n = len(images)
    ref_idx = np.arange(min(n_reference, n))
    pairs = np.array([rng.choice(n, 2, replace=False) for _ in range(n_pairs)])
    t = np.linspace(0.0, 1.0, n_steps)
    mu = encode_mu(vae, images[pairs.ravel()]).reshape(n_pairs, 2, -1)
    z = (1 - t)[None, :, None] * mu[:, :1] + t[None, :, None] * mu[:, 1:]  # z(t) = (1-t) mu_a + t mu_b
    decoded = decode(vae, z.reshape(n_pairs * n_steps, -1).astype(mu.dtype))
    xa, xb = images[pairs[:, 0]], images[pairs[:, 1]]
    tt = t.astype(images.dtype)[None, :, None, None, None]
    blends = ((1 - tt) * xa[:, None] + tt * xb[:, None]).reshape(decoded.shape)  # (1-t) x_a + t x_b
    decoded = decoded.reshape((n_pairs, n_steps) + images.shape[1:])
    blends = blends.reshape(decoded.shape)
    d_dec, d_bl = np.empty((n_pairs, n_steps)), np.empty((n_pairs, n_steps))
    for p, (ia, ib) in enumerate(pairs):
        ref = images[ref_idx[(ref_idx != ia) & (ref_idx != ib)]]  # real scenes other than the endpoints
        d_dec[p] = nearest_distance(decoded[p], ref, metric="mae")  # min_r mean |x - r|
        d_bl[p] = nearest_distance(blends[p], ref, metric="mae")
    inner = slice(1, n_steps - 1)
    out = {"n_pairs": int(n_pairs), "n_steps": int(n_steps), "n_reference": int(len(ref_idx)),
           "decoded_distance": float(d_dec[:, inner].mean()), "blend_distance": float(d_bl[:, inner].mean()),
           "decoded_distance_by_step": d_dec.mean(axis=0).tolist(),
           "blend_distance_by_step": d_bl.mean(axis=0).tolist(),
           "fraction_decoded_closer": float(np.mean(d_dec[:, inner] < d_bl[:, inner]))}
    out["passed"] = bool(out["decoded_distance"] < out["blend_distance"])
    out["arrays"] = {"decoded": decoded, "blends": blends}
    return out
