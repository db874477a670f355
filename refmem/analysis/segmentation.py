"""Colour segmentation by k-means and the object-height measure of boundary extension.

The paper measures the size of the object in a scene (paper.md E11) by segmenting the
image into ``k = 5`` colour clusters (OpenCV's ``cv2.kmeans``: random centres, 10
attempts, at most 100 iterations or a centre shift below 0.2), replacing every pixel
by its cluster's centre colour (cast to uint8), and counting the pixels of the middle
column that have the object's colour.

* :func:`kmeans`: Lloyd's k-means with OpenCV's initialisation and stopping rule, all
  attempts run at once (vectorised); :func:`kmeans_reference` is the plain loop.
* :func:`quantize_colors`: an image with every pixel replaced by its centre colour.
* :func:`object_height`: the height of the object in the middle column.
* :func:`size_change`: ``(h_out - h_in) / h_in`` (0 where ``h_in = 0``).

Examples
--------
>>> img = np.zeros((64, 64, 3)); img[:, :] = (0.2, 0.2, 0.8)   # blue background
>>> img[20:44, 24:40] = (1.0, 0.0, 0.0)                          # a red box, 24 rows tall
>>> object_height(img, rng=0)
24
>>> float(size_change(20, 25)), float(size_change(0, 7))
(0.25, 0.0)
"""
from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from refmem._utils import as_rng, check_float_array, check_int, check_magnitude, check_positive

__all__ = ["kmeans", "kmeans_reference", "quantize_colors", "object_height", "size_change"]


def _check_points(points: Any, k: int) -> np.ndarray:
    x = check_magnitude(check_float_array(points, "points", ndim=2), "points")
    if x.shape[0] < 1:
        raise ValueError("points must hold at least one row")
    if k > x.shape[0]:
        raise ValueError(f"k = {k} exceeds the number of points ({x.shape[0]})")
    return x


def _random_centres(x: np.ndarray, k: int, attempts: int, rng: np.random.Generator) -> np.ndarray:
    """(attempts, k, D) centres uniform in the data's bounding box (OpenCV KMEANS_RANDOM_CENTERS)."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    return lo + rng.random((attempts, k, x.shape[1])) * (hi - lo)  # c ~ U[min, max] per dimension


def _fix_empty(x, labels, centres, d2) -> None:
    """OpenCV's rule for an empty cluster: move it to the point farthest from its own centre.

    ``x`` (N, D), ``labels`` (A, N), ``centres`` (A, k, D), ``d2`` (A, N, k); in place.
    """
    n = x.shape[0]
    for a in range(centres.shape[0]):
        counts = np.bincount(labels[a], minlength=centres.shape[1])
        for j in np.flatnonzero(counts == 0):
            far = int(np.argmax(d2[a, np.arange(n), labels[a]]))
            centres[a, j] = x[far]
            labels[a, far] = j
            d2[a, far, labels[a, far]] = 0.0


def _sq_dist(x, c):
    """(A, k, N) squared distances up to the constant ``|x|^2``: ``|c|^2 - 2 c.x``."""
    A, k, D = c.shape
    cross = (c.reshape(A * k, D) @ x.T).reshape(A, k, -1)  # c . x
    return np.einsum("akd,akd->ak", c, c)[:, :, None] - 2 * cross


def _nearest(d2):
    """argmin over axis 1 of (A, k, N) as k - 1 comparisons of contiguous (A, N) blocks."""
    best, lab = d2[:, 0].copy(), np.zeros((d2.shape[0], d2.shape[2]), np.int64)
    for j in range(1, d2.shape[1]):
        closer = d2[:, j] < best  # strict: ties keep the lower index, as argmin
        best[closer] = d2[:, j][closer]
        lab[closer] = j
    return lab, best


def kmeans(points: Any, k: int = 5, rng: Any = None, *, attempts: int = 10, max_iter: int = 100,
           eps: float = 0.2) -> Tuple[np.ndarray, np.ndarray, float]:
    """k-means clustering with OpenCV's random initialisation and stopping rule.

    Each attempt starts from ``k`` centres drawn uniformly in the data's bounding box
    and alternates ``label_i = argmin_j ||x_i - c_j||^2`` and
    ``c_j = mean{x_i : label_i = j}`` until the largest centre shift is at most ``eps``
    or ``max_iter`` updates ran; an empty cluster takes the point farthest from its
    centre. The attempt with the smallest compactness ``sum_i ||x_i - c_{label_i}||^2``
    wins. The attempts run together as arrays, on the distinct points weighted by their
    multiplicity (the same result as :func:`kmeans_reference`, except that when two
    clusters are empty at once they cannot both take copies of the same point).

    Parameters
    ----------
    points : (N, D) array_like
    k : int, default 5
    rng : None, int or numpy.random.Generator
    attempts : int, default 10
    max_iter : int, default 100
    eps : float, default 0.2

    Returns
    -------
    centres : (k, D) float64 ndarray
    labels : (N,) int64 ndarray
    compactness : float
    """
    k = check_int(k, "k", minimum=1)
    attempts = check_int(attempts, "attempts", minimum=1)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    eps = check_positive(eps, "eps", allow_zero=True)
    eps2 = np.square(np.float64(eps))  # inf for a huge eps: stop after the first update
    x = _check_points(points, k).astype(np.float64)
    c = _random_centres(x, k, attempts, as_rng(rng))  # (A, k, D)
    # equal points always share a cluster: cluster the distinct points, weighted by their counts
    u, inv, w = np.unique(x, axis=0, return_inverse=True, return_counts=True)
    inv, w = inv.reshape(-1), w.astype(np.float64)
    u2 = np.einsum("nd,nd->n", u, u)
    active = np.ones(attempts, bool)
    for _ in range(max_iter):
        run = np.flatnonzero(active)  # converged attempts are left alone
        ca = c[run]
        d2 = _sq_dist(u, ca)
        labels, _ = _nearest(d2)  # (a, U): nearest centre
        new = ca.copy()
        counts = np.zeros((len(run), k))
        for j in range(k):
            member = (labels == j) * w  # (a, U): weight of the points in cluster j
            counts[:, j] = member.sum(axis=1)
            ok = counts[:, j] > 0
            new[ok, j] = (member[ok] @ u) / counts[ok, j][:, None]  # c_j = mean of its points
        for a in np.flatnonzero(np.any(counts == 0, axis=1)):
            _fix_empty(u, labels[a:a + 1], new[a:a + 1], (d2[a].T + u2[:, None])[None])
        shift = np.max(np.sum((new - ca) ** 2, axis=2), axis=1)  # largest squared centre shift
        c[run] = new
        active[run] = shift > eps2
        if not active.any():
            break
    labels, best = _nearest(_sq_dist(u, c))
    comp = (np.maximum(best + u2[None, :], 0) * w).sum(axis=1)  # sum_i |x_i - c_label(i)|^2
    a = int(np.argmin(comp))
    return c[a], labels[a][inv], float(comp[a])


def kmeans_reference(points: Any, k: int = 5, rng: Any = None, *, attempts: int = 10, max_iter: int = 100,
                     eps: float = 0.2) -> Tuple[np.ndarray, np.ndarray, float]:
    """Plain-loop reference of :func:`kmeans` (one attempt at a time; same draws, same result)."""
    x = _check_points(points, k).astype(np.float64)
    starts = _random_centres(x, int(k), int(attempts), as_rng(rng))
    best = None
    for a in range(int(attempts)):
        c = starts[a].copy()
        for _ in range(int(max_iter)):
            d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
            labels = d2.argmin(axis=1)
            new = c.copy()
            for j in range(int(k)):
                if np.any(labels == j):
                    new[j] = x[labels == j].mean(axis=0)
            if np.any(np.bincount(labels, minlength=int(k)) == 0):
                _fix_empty(x, labels[None], new[None], d2[None])
            shift = np.max(((new - c) ** 2).sum(axis=1))
            c = new
            if shift <= np.square(np.float64(eps)):
                break
        d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        labels = d2.argmin(axis=1)
        comp = float(np.maximum(d2[np.arange(len(x)), labels], 0).sum())
        if best is None or comp < best[2]:
            best = (c, labels.astype(np.int64), comp)
    return best


def quantize_colors(image: Any, k: int = 5, rng: Any = None, **kwargs: Any) -> np.ndarray:
    """Replace every pixel by its k-means centre colour, on the 0-255 scale (paper.md E11).

    Parameters
    ----------
    image : (H, W, 3) array_like
        An image in [0, 1]; clustered as ``255 x`` (not rounded), as the paper.
    k : int, default 5
    rng : None, int or numpy.random.Generator
    **kwargs
        ``attempts``, ``max_iter``, ``eps`` of :func:`kmeans`.

    Returns
    -------
    (H, W, 3) uint8 ndarray
        ``uint8(centre)`` of each pixel's cluster (truncated, as ``np.uint8``).
    """
    img = check_float_array(image, "image", ndim=3)
    if img.shape[2] != 3:
        raise ValueError(f"image must have 3 colour channels, got shape {img.shape}")
    centres, labels, _ = kmeans(img.reshape(-1, 3).astype(np.float64) * 255.0, k, rng, **kwargs)
    colours = np.clip(centres, 0, 255).astype(np.uint8)  # uint8(centre): truncation
    return colours[labels].reshape(img.shape)


def object_height(image: Any, rng: Any = None, *, k: int = 5, column: int = 32, rows: Tuple[int, int] = (32, 50),
                  **kwargs: Any) -> int:
    """Object height in pixels: the middle column's pixels of the object's colour (paper.md E11).

    The image is colour-quantised (:func:`quantize_colors`); the object's colour is the
    most frequent colour in rows ``rows[0]`` to ``rows[1]`` (inclusive) of ``column``;
    the height is the number of pixels of the whole column with exactly that colour.

    Parameters
    ----------
    image : (H, W, 3) array_like in [0, 1]
    rng : None, int or numpy.random.Generator
    k : int, default 5
    column : int, default 32
    rows : (int, int), default (32, 50)

    Returns
    -------
    int
    """
    img = check_float_array(image, "image", ndim=3)
    h, w = img.shape[:2]
    column = check_int(column, "column")
    r0, r1 = check_int(rows[0], "rows[0]"), check_int(rows[1], "rows[1]")
    if not 0 <= column < w or not 0 <= r0 <= r1 < h:
        raise ValueError(f"column {column} and rows ({r0}, {r1}) must lie inside the {h}x{w} image")
    q = quantize_colors(img, k, rng, **kwargs)
    col = q[:, column].astype(np.int64)
    code = (col[:, 0] << 16) | (col[:, 1] << 8) | col[:, 2]  # one integer per colour
    values, counts = np.unique(code[r0:r1 + 1], return_counts=True)
    obj = values[np.argmax(counts)]  # most frequent colour of the object's rows (ties: smallest code)
    return int(np.count_nonzero(code == obj))


def size_change(h_in: Any, h_out: Any) -> np.ndarray:
    """Relative size change ``(h_out - h_in) / h_in``, and 0 where ``h_in = 0`` (paper.md E11).

    Parameters
    ----------
    h_in, h_out : array_like of the same shape (heights, >= 0)

    Returns
    -------
    ndarray of float64
    """
    a = check_float_array(h_in, "h_in").astype(np.float64)
    b = check_float_array(h_out, "h_out").astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"h_in and h_out must have the same shape, got {a.shape} and {b.shape}")
    if np.any(a < 0) or np.any(b < 0):
        raise ValueError("heights must be finite and >= 0")
    with np.errstate(over="ignore"):
        out = np.divide(b - a, a, out=np.zeros_like(a), where=a > 0)  # (h_out - h_in) / h_in
    if not np.all(np.isfinite(out)):
        raise ValueError("the relative size change overflows: an input height is too close to 0")
    return out
