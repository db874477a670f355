"""Per-epoch measurements of consolidation (paper.md E3, 1.5 and 1.9).

* :func:`encode_mu`, :func:`reconstruct`: batched calls of the VAE (recall uses the mean
  ``mu``, paper.md 1.4).
* :func:`recon_error`: the paper's reconstruction metric (paper.md 1.5), mean over images.
* :func:`decoding_accuracy`: semantic decoding of a label from ``mu`` with the paper's
  probe (standardised RBF SVC, paper.md 1.9).
* :func:`probe_split`: the fixed fit/test split of held-out scenes used at every epoch.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from .._utils import as_rng, check_array

__all__ = ["encode_mu", "reconstruct", "recon_error", "decoding_accuracy", "probe_split",
           "fit_probe", "EVAL_BATCH"]

#: images per forward call when encoding / decoding whole sets (bounds memory use)
EVAL_BATCH = 250


def encode_mu(vae, x: np.ndarray, batch: int = EVAL_BATCH) -> np.ndarray:
    """Latent means ``mu`` of a set of images, computed in batches.

    Parameters
    ----------
    vae : refmem.vae.VAE
    x : (N, H, W, C) ndarray
        Images in [0, 1].

    Returns
    -------
    mu : (N, latent_dim) ndarray of the VAE's dtype
    """
    return vae.encode(check_array(x, "x", ndim=4), batch_size=batch)[0]


def decode(vae, z: np.ndarray, batch: int = EVAL_BATCH) -> np.ndarray:
    """Decode latents in batches: ``(N, latent_dim) -> (N, H, W, C)``."""
    return vae.decode(check_array(z, "z", ndim=2), batch_size=batch)


def reconstruct(vae, x: np.ndarray, batch: int = EVAL_BATCH) -> np.ndarray:
    """Recall ``x_hat = decode(mu(x))`` (paper.md 1.4: recall uses the mean), in batches.

    Parameters
    ----------
    x : (N, H, W, C) ndarray

    Returns
    -------
    x_hat : (N, H, W, C) ndarray of the VAE's dtype
    """
    return vae.reconstruct(check_array(x, "x", ndim=4), batch_size=batch)


def recon_error(x: np.ndarray, x_hat: np.ndarray) -> float:
    """Mean over images of Σ_pixels mean_channels |x - x_hat| (paper.md 1.5).

    Parameters
    ----------
    x, x_hat : (N, H, W, C) ndarray

    Returns
    -------
    float
        The paper's reconstruction loss ``(1 / (N C)) Σ |x - x_hat|``.
    """
    from ..losses import recon_l1_channel_mean

    return float(recon_l1_channel_mean(x, x_hat)[0])  # L = 1/(N C) Σ |x - x̂|


def per_image_error(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """Per-image reconstruction error Σ_pixels mean_channels |x - x_hat|: ``(N,)`` float64."""
    x = check_array(x, "x", ndim=4)
    x_hat = check_array(x_hat, "x_hat", shape=x.shape)
    d = np.abs(x.astype(np.float64) - x_hat.astype(np.float64))
    return d.sum(axis=(1, 2, 3)) / x.shape[-1]


def probe_split(n: int, n_fit: int, n_test: int, rng) -> Tuple[np.ndarray, np.ndarray]:
    """Disjoint random index sets (fit, test) of sizes ``n_fit`` and ``n_test`` from ``range(n)``.

    As paper.md 1.9 (a random 50/50 split of the test images, the probe fitted on the
    first 200 of one half and scored on the other half), with the sizes as parameters.
    """
    if n_fit + n_test > n:
        raise ValueError(f"n_fit + n_test ({n_fit} + {n_test}) must not exceed n ({n})")
    perm = as_rng(rng).permutation(n)
    return np.sort(perm[:n_fit]), np.sort(perm[n_fit:n_fit + n_test])


def fit_probe(features: np.ndarray, labels: np.ndarray, kind: str = "svc"):
    """Fit ``refmem.probes.make_probe(kind)`` (scaler + classifier) on float64 features."""
    from ..probes import make_probe

    probe = make_probe(kind)
    probe.fit(np.asarray(features, dtype=np.float64), np.asarray(labels))
    return probe


def decoding_accuracy(mu: np.ndarray, labels: np.ndarray, fit_idx: np.ndarray, test_idx: np.ndarray,
                      kind: str = "svc") -> float:
    """Accuracy of a probe fitted on ``mu[fit_idx]`` and scored on ``mu[test_idx]`` (paper.md 1.9).

    Parameters
    ----------
    mu : (N, L) ndarray
        Latent means of held-out scenes.
    labels : (N,) ndarray of int
        The decoded label (object shape in the paper; 4 classes, chance 0.25).
    fit_idx, test_idx : (n_fit,), (n_test,) ndarray of int

    Returns
    -------
    float
        Fraction of test items classified correctly; NaN if the fit set holds fewer than
        two classes (a probe cannot be fitted).
    """
    mu = check_array(mu, "mu", ndim=2)
    labels = check_array(labels, "labels", shape=(mu.shape[0],), dtype_kind="iub")
    if len(np.unique(labels[fit_idx])) < 2:
        return float("nan")
    probe = fit_probe(mu[fit_idx], labels[fit_idx], kind)
    return float(probe.score(np.asarray(mu[test_idx], dtype=np.float64), labels[test_idx]))
