"""Recall from the neocortex: the VAE's encoder and decoder over whole sets, in batches.

Every recall in the paper decodes the latent *mean*: ``x_hat = g(mu(x))`` (no sampling).
These helpers bound memory use by calling the VAE :data:`EVAL_BATCH` images at a time.
They add no checks of their own: the VAE's ``encode``/``decode`` validate their input.
"""
from __future__ import annotations

import numpy as np

__all__ = ["encode_mu", "decode", "reconstruct", "EVAL_BATCH"]

#: images per forward call when encoding / decoding whole sets (bounds memory use)
EVAL_BATCH = 250


def encode_mu(vae, x: np.ndarray, batch: int = EVAL_BATCH) -> np.ndarray:
    """Latent means ``mu`` of a set of images, computed in batches.

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
    x : (N, H, W, C) ndarray
        Images in [0, 1].

    Returns
    -------
    mu : (N, latent_dim) ndarray of the VAE's dtype
    """
    return vae.encode(x, batch_size=batch)[0]


def decode(vae, z: np.ndarray, batch: int = EVAL_BATCH) -> np.ndarray:
    """Decode latents in batches: ``(N, latent_dim) -> (N, H, W, C)``."""
    return vae.decode(z, batch_size=batch)


def reconstruct(vae, x: np.ndarray, batch: int = EVAL_BATCH) -> np.ndarray:
    """Recall ``x_hat = decode(mu(x))`` (recall uses the mean), in batches.

    Parameters
    ----------
    x : (N, H, W, C) ndarray

    Returns
    -------
    x_hat : (N, H, W, C) ndarray of the VAE's dtype
    """
    return vae.reconstruct(x, batch_size=batch)
