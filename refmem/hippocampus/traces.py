"""Trace construction and the hybrid-recall combination rule of the extended model
(docs/paper-experiments.md, E12; Spens & Burgess 2024 [1]_): pure functions on arrays, plus batched VAE
passes. :mod:`refmem.systems.extended` builds storage and recall on them.

Validation happens once, at the public boundary (:func:`refmem.systems.extended.encode`,
:class:`refmem.systems.extended.ExtendedModel`, the extended experiment's sweep), with the
``check_*`` helpers below; the trace functions themselves trust their callers' arrays.

Labels are those of ``docs/extended.md``:

=====  ==================================================  ==========================
 label formula                                             code
=====  ==================================================  ==========================
 (X1)  x_hat = g(mu(x))                                    :func:`vae_forward`
 (X2)  e_p = mean_c |x_pc - x_hat_pc|                      :func:`prediction_error`
 (X3)  m_p = [e_p > t]                                     :func:`sensory_mask`
 (X4)  s_pc = m_p (2 x_pc - 1)                             :func:`sensory_part`
 (X5)  trace = [vec(s); mu(x)]                             :func:`make_traces`
 (X7)  [s_hat; z_hat] = retrieved trace                    :func:`split_traces`
 (X8)  v = g(z_hat)                                        :func:`vae_decode`
 (X9)  y = s_hat if |s_hat| > tau else 2v - 1; (y + 1)/2   :func:`combine`
=====  ==================================================  ==========================

References
----------
.. [1] Spens, E. & Burgess, N. (2024). A generative model of memory construction and
   consolidation. Nat. Hum. Behav. 8, 526-543. Code: ellie-as/generative-memory
   (``extended_model.py``).
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from refmem._utils import check_float_array, check_positive

__all__ = [
    "prediction_error", "sensory_mask", "sensory_part", "make_traces", "split_traces",
    "combine", "vae_forward", "vae_decode", "check_threshold", "check_images", "check_vae",
]

# --------------------------------------------------------------------------- checks
def check_threshold(threshold: Any) -> float:
    """Return ``float(threshold)`` after checking it is finite and >= 0."""
    return check_positive(threshold, "threshold", allow_zero=True)


def check_images(x: Any, name: str = "x", image_shape: Optional[Tuple[int, ...]] = None) -> np.ndarray:
    """Validate a non-empty batch of images in [0, 1].

    Parameters
    ----------
    x : (N, H, W, C) array_like
    image_shape : tuple of int, optional
        Required ``(H, W, C)`` (e.g. the VAE's ``input_shape``).

    Returns
    -------
    x : (N, H, W, C) ndarray, float (integer input becomes float64)
    """
    shape = (None,) + tuple(image_shape) if image_shape is not None else None
    arr = check_float_array(x, name, ndim=4, shape=shape)
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one image, got shape {arr.shape}")
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got range [{arr.min():.4g}, {arr.max():.4g}]")
    return arr


def check_vae(vae: Any, image_shape: Tuple[int, ...]) -> None:
    """Check ``vae`` has the VAE interface and ``input_shape == image_shape`` (else ``ValueError``)."""
    for attr in ("encode", "decode", "input_shape", "latent_dim"):
        if not hasattr(vae, attr):
            raise TypeError(f"vae must be a refmem.neocortex.vae.VAE (missing {attr!r}), got {type(vae).__name__}")
    if tuple(vae.input_shape) != tuple(image_shape):
        raise ValueError(f"images of shape {tuple(image_shape)} do not match the VAE input shape "
                         f"{tuple(vae.input_shape)}")


# ------------------------------------------------------------------ VAE, batched
def vae_forward(vae: Any, x: np.ndarray, batch_size: int = 50) -> Tuple[np.ndarray, np.ndarray]:
    """Reconstruction through the latent mean, ``x_hat = g(mu(x))`` (X1).

    Same as ``vae.reconstruct`` (decode of the mean) but also returns ``mu``, so each
    image is encoded once.

    Parameters
    ----------
    vae : refmem.neocortex.vae.VAE
    x : (N, H, W, C) ndarray in [0, 1]
    batch_size : int
        Images per forward pass (memory only).

    Returns
    -------
    x_hat : (N, H, W, C) ndarray, dtype of ``x``
    mu : (N, L) ndarray, dtype of ``x``
    """
    mu = vae.encode(x, batch_size=batch_size)[0]
    x_hat = vae.decode(mu, batch_size=batch_size)  # x_hat = g(mu(x))   (X1)
    return x_hat.astype(x.dtype, copy=False), mu.astype(x.dtype, copy=False)


def vae_decode(vae: Any, z: np.ndarray, batch_size: int = 50) -> np.ndarray:
    """Decode latents ``v = g(z)`` (X8) in batches, keeping the dtype of ``z``.

    Parameters
    ----------
    z : (N, L) ndarray

    Returns
    -------
    v : (N, H, W, C) ndarray in [0, 1]
    """
    return vae.decode(z, batch_size=batch_size).astype(z.dtype, copy=False)


# ------------------------------------------------------------- trace construction
def prediction_error(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """Per-pixel prediction error, the channel mean of ``|x - x_hat|`` (X2).

    Parameters
    ----------
    x, x_hat : (N, H, W, C) ndarray

    Returns
    -------
    e : (N, H, W) ndarray, dtype of ``x``
    """
    x = check_float_array(x, "x", ndim=4)
    x_hat = check_float_array(x_hat, "x_hat", shape=x.shape)
    return np.mean(np.abs(x - x_hat.astype(x.dtype, copy=False)), axis=-1)  # e_p = mean_c |x - x_hat|  (X2)


def sensory_mask(error: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels whose prediction error exceeds the threshold, ``m_p = [e_p > t]`` (X3).

    Parameters
    ----------
    error : (N, H, W) ndarray
    threshold : float, >= 0

    Returns
    -------
    mask : (N, H, W) ndarray of bool
    """
    error = check_float_array(error, "error")
    return error > check_threshold(threshold)  # m_p = [e_p > t]  (X3)


def sensory_part(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sensory part of a trace: ``2x - 1`` at masked pixels (all channels), 0 elsewhere (X4).

    Parameters
    ----------
    x : (N, H, W, C) ndarray in [0, 1]
    mask : (N, H, W) ndarray of bool

    Returns
    -------
    s : (N, H, W, C) ndarray in [-1, 1], dtype of ``x``
    """
    return np.where(mask[..., None], 2 * x - 1, 0).astype(x.dtype, copy=False)  # s = m (2x - 1)  (X4)


def make_traces(sensory: np.ndarray, latent: np.ndarray) -> np.ndarray:
    """Hippocampal traces, the concatenation ``[vec(s); mu]`` (X5).

    Parameters
    ----------
    sensory : (N, H, W, C) ndarray
    latent : (N, L) ndarray

    Returns
    -------
    traces : (N, H*W*C + L) ndarray, dtype of ``sensory``
    """
    flat = sensory.reshape(len(sensory), -1)  # (N, H*W*C)
    return np.concatenate([flat, latent.astype(sensory.dtype, copy=False)], axis=1)  # [vec(s); mu]  (X5)


def split_traces(traces: np.ndarray, image_shape: Tuple[int, int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """Split traces into sensory images and latents, inverse of :func:`make_traces` (X7).

    Parameters
    ----------
    traces : (N, H*W*C + L) ndarray
    image_shape : (H, W, C)

    Returns
    -------
    sensory : (N, H, W, C) ndarray
    latent : (N, L) ndarray
    """
    k = int(np.prod(image_shape))
    return traces[:, :k].reshape((len(traces),) + tuple(image_shape)), traces[:, k:]


def combine(sensory: np.ndarray, decoded: np.ndarray, tol: float = 0.01) -> np.ndarray:
    """Hybrid recall: retrieved sensory element where ``|s| > tol``, else the decoded image (X9).

    ``y = s`` where ``|s| > tol`` else ``2v - 1``, returned as ``(y + 1) / 2`` in [0, 1].
    The paper's code tests ``not np.isclose(s, 0, atol=1e-2)``, which is the same rule.

    Parameters
    ----------
    sensory : (N, H, W, C) ndarray in [-1, 1]
        Retrieved sensory part ``s_hat``.
    decoded : (N, H, W, C) ndarray in [0, 1]
        Decoded retrieved latent ``v``.
    tol : float, default 0.01

    Returns
    -------
    out : (N, H, W, C) ndarray in [0, 1], dtype of ``sensory``
    """
    s = check_float_array(sensory, "sensory")
    v = check_float_array(decoded, "decoded", shape=s.shape).astype(s.dtype, copy=False)
    tol = check_positive(tol, "tol", allow_zero=True)
    y = np.where(np.abs(s) > tol, s, 2 * v - 1)  # y = s if |s| > tau else 2v - 1  (X9)
    return ((y + 1) / 2).astype(s.dtype, copy=False)  # back to [0, 1]
