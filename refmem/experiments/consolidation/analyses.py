"""Analyses of the consolidated VAE, part 1: recall (E2), latent space (E4), interpolation (E5).

Each function returns a dict of plain numbers (for ``results.json``) plus, under the
key ``"arrays"``, the images a figure needs, and under ``"controls"`` the same numbers
for negative controls (broken models that the pass rules in :mod:`.criteria` must
reject). Relational inference (E6), imagination (E7)
and few-shot learning (E8) are in :mod:`.relational`, :mod:`.imagination` and
:mod:`.fewshot`.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from refmem._utils import as_rng, check_array
from refmem.neocortex.recall import decode, encode_mu, reconstruct
from refmem.analysis.metrics import per_image_error

__all__ = ["recall_noisy", "latent_structure", "interpolation", "path_numbers"]


def recall_noisy(vae, untrained_vae, images: np.ndarray, fraction: float = 0.1, rng=None) -> Dict:
    """E2: recall of held-out scenes with a fraction of their elements zeroed (docs/paper-experiments.md, E2).

    The corrupted input (``refmem.datasets.transforms.noise``, mode "zero", docs/paper-experiments.md, 1.8)
    is recalled as ``decode(mu(x_noisy))``; errors are the paper's metric (docs/paper-experiments.md, 1.5)
    against the *clean* image, averaged over images. The scenes are held out (the
    paper's code showed training images; its acceptance asks for held-out ones).

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
        ``error_mean_scene`` (a constant decoder that always outputs the mean of the
        scenes), ``error_clean_recall`` (recall of the clean image, for reference),
        ``fraction_images_improved`` (per-image recall error < corrupted-input error) and
        ``controls["untrained"]`` (the same numbers with the untrained VAE recalling).
    """
    from refmem.datasets.transforms import noise

    images = check_array(images, "images", ndim=4)
    noisy = noise(images, fraction, rng, mode="zero")  # exactly int(size f) elements -> 0
    recall = reconstruct(vae, noisy)
    e_input = per_image_error(images, noisy)
    e_const = per_image_error(images, np.broadcast_to(images.mean(axis=0), images.shape)).mean()
    e_clean = per_image_error(images, reconstruct(vae, images))

    def numbers(rec):
        e = per_image_error(images, rec)
        return {"error_recall": float(e.mean()), "error_corrupted_input": float(e_input.mean()),
                "error_mean_scene": float(e_const), "fraction_images_improved": float(np.mean(e < e_input))}

    out = {"n": int(len(images)), "fraction": float(fraction), **numbers(recall),
           "error_clean_recall": float(e_clean.mean())}
    ctl = numbers(reconstruct(untrained_vae, noisy))
    out["error_untrained_recall"] = ctl["error_recall"]
    out["controls"] = {"untrained": ctl}
    out["arrays"] = {"clean": images[:10], "noisy": noisy[:10], "recall": recall[:10]}
    return out


def latent_structure(vae, images: np.ndarray, labels: np.ndarray, k: int = 5, untrained_vae=None) -> Dict:
    """E4: 2-D PCA of ``mu`` and shape agreement of nearest neighbours (docs/paper-experiments.md, E4).

    Parameters
    ----------
    images : (N, H, W, C) ndarray
        Held-out scenes.
    labels : (N,) ndarray of int
        Shape labels.
    k : int
        Neighbours in the agreement score (docs/paper-experiments.md, E4: 5).
    untrained_vae : VAE, optional
        The same architecture before training: its numbers go to ``controls["untrained"]``.

    Returns
    -------
    dict
        ``knn_agreement_mu``, ``knn_agreement_pixels`` (fraction of the k nearest
        neighbours sharing the item's shape, :func:`refmem.analysis.knn_agreement`),
        ``silhouette_mu``, ``silhouette_pixels`` (:func:`refmem.analysis.silhouette_score`),
        ``chance`` (agreement expected from the class frequencies); ``arrays`` holds the
        projection and labels.
    """
    from refmem.analysis.stats import knn_agreement, pca, silhouette_score

    images = check_array(images, "images", ndim=4)
    labels = check_array(labels, "labels", shape=(len(images),), dtype_kind="iu")
    pixels = images.reshape(len(images), -1).astype(np.float64)
    freq = np.bincount(labels) / len(labels)
    base = {"n": int(len(images)), "k": int(k), "knn_agreement_pixels": float(knn_agreement(pixels, labels, k=k)),
            "silhouette_pixels": float(silhouette_score(pixels, labels)), "chance": float(np.sum(freq ** 2))}

    def numbers(model):
        mu = encode_mu(model, images).astype(np.float64)
        return mu, {**base, "knn_agreement_mu": float(knn_agreement(mu, labels, k=k)),
                    "silhouette_mu": float(silhouette_score(mu, labels))}

    mu, out = numbers(vae)
    if untrained_vae is not None:
        out["controls"] = {"untrained": numbers(untrained_vae)[1]}
    proj = pca(mu, n_components=2)[0]  # (X - mean) V_2
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
        :func:`path_numbers` of the decoded paths, and under ``controls`` of two broken
        models: ``constant`` (a decoder that ignores z and always outputs one realistic
        scene) and ``identity`` (an autoencoder whose code is the image, so that latent
        interpolation is the pixel blend). ``arrays`` holds both image sequences.
    """
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
    refs = [ref_idx[(ref_idx != ia) & (ref_idx != ib)] for ia, ib in pairs]  # real scenes but the endpoints

    def dist(paths):
        return _path_distances(paths, images, refs)

    d_bl = dist(blends)
    out = {"n_pairs": int(n_pairs), "n_steps": int(n_steps), "n_reference": int(len(ref_idx)),
           **path_numbers(decoded, dist(decoded), d_bl, xa, xb)}
    constant = np.broadcast_to(decoded[:1, :1], decoded.shape)  # ignores z: always one realistic scene
    out["controls"] = {"constant": path_numbers(constant, dist(constant), d_bl, xa, xb),
                       "identity": path_numbers(blends, d_bl, d_bl, xa, xb)}  # encoder = decoder = identity
    out["arrays"] = {"decoded": decoded, "blends": blends}
    return out


def _path_distances(paths: np.ndarray, images: np.ndarray, refs) -> np.ndarray:
    """(P, S) MAE of every step of path p to its nearest scene among ``images[refs[p]]``.

    A path whose steps are one image repeated (a broadcast view, step stride 0, as the
    constant control) is measured once: every row's distance is computed independently,
    so the copies would all give that number.
    """
    from refmem.analysis.stats import nearest_distance

    def one(p, r):
        if p.strides[0] == 0:
            return np.repeat(nearest_distance(p[:1], images[r], metric="mae"), len(p))
        return nearest_distance(p, images[r], metric="mae")  # min_r mean |x - r|

    return np.stack([one(p, r) for p, r in zip(paths, refs)])


def _mae(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference over the trailing (H, W, C) axes."""
    return np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean(axis=(-3, -2, -1))


def path_numbers(paths: np.ndarray, d_path: np.ndarray, d_blend: np.ndarray, xa: np.ndarray, xb: np.ndarray,
                 distinct_tol: float = 1e-3) -> Dict:
    """Realism, spread and direction of interpolation paths ``(P, S, H, W, C)`` from A to B.

    ``d_path`` and ``d_blend`` ``(P, S)`` are the MAE of every step of the paths and of
    the pixel blends to the nearest real scene; ``xa``, ``xb`` ``(P, H, W, C)`` the endpoints.

    Returns
    -------
    dict
        ``decoded_distance`` / ``blend_distance``: mean over pairs and interior steps of
        the MAE to the nearest real scene, for ``paths`` and for the pixel blends
        (``d_blend``), ``fraction_decoded_closer``, per-step means
        ``decoded_distance_by_step`` / ``blend_distance_by_step``;
        ``fraction_steps_distinct`` (adjacent steps differing by MAE > ``distinct_tol``);
        ``span`` (mean over pairs of MAE(path(0), path(1)) / MAE(x_a, x_b)); and
        ``monotonicity`` (mean over pairs of (rho(t, MAE(path_t, x_a)) - rho(t, MAE(path_t, x_b))) / 2,
        Spearman rho, 0 for a constant distance: 1 when every step moves away from A and
        towards B).
    """
    from refmem.analysis.stats import spearman

    d = d_path
    S = paths.shape[1]
    inner = slice(1, S - 1)
    steps = np.arange(S)

    def rho(v):  # Spearman with the step; 0 for a constant distance (no trend)
        return 0.0 if np.ptp(v) == 0 else float(spearman(steps, v)[0])

    to_a, to_b = _mae(paths, xa[:, None]), _mae(paths, xb[:, None])
    return {"decoded_distance": float(d[:, inner].mean()), "blend_distance": float(d_blend[:, inner].mean()),
            "decoded_distance_by_step": d.mean(axis=0).tolist(),
            "blend_distance_by_step": d_blend.mean(axis=0).tolist(),
            "fraction_decoded_closer": float(np.mean(d[:, inner] < d_blend[:, inner])),
            "fraction_steps_distinct": float(np.mean(_mae(paths[:, 1:], paths[:, :-1]) > distinct_tol)),
            "span": float(np.mean(_mae(paths[:, 0], paths[:, -1]) / np.maximum(_mae(xa, xb), 1e-12))),
            "monotonicity": float(np.mean([(rho(a) - rho(b)) / 2 for a, b in zip(to_a, to_b)]))}
