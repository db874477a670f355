"""The paper's stimulus manipulations, in NumPy/SciPy.

Every function takes images as float arrays in ``[0, 1]`` laid out ``(H, W, C)`` or
``(N, H, W, C)``, keeps the caller's float dtype (integer input becomes float64) and
returns a new array. Random functions take ``rng`` (see :func:`refmem._utils.as_rng`).

* :func:`noise`: the paper's corruption of a fixed fraction of elements (Section 1.8 of
  the experiment catalogue; recall cues in E2, E11, E12, E14).
* :func:`border_width`, :func:`zoom`, :func:`resize_bicubic`: zoom out / zoom in for
  boundary extension (E11).
* :func:`add_white_squares`, :data:`PAPER_SQUARES`: semi-transparent white squares
  (E12, E13).
* :func:`carmichael_stimulus`: blurred object plus one opaque white square (E14).

The paper's code works on ``uint8`` PIL images: it truncates ``x * 255`` to ``uint8``
before each manipulation and PIL rounds the result. The functions here work in float;
``quantize=True`` reproduces the ``uint8`` round trip where it matters.
See ``docs/datasets-digits-drm-transforms.md``.

References
----------
.. [1] Spens, E. & Burgess, N. (2024). A generative model of memory construction and
   consolidation. Nat. Hum. Behav. 8, 526-543. Code: github.com/ellie-as/generative-memory
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage

from refmem._utils import as_rng, check_float_array, check_int, check_positive, check_real

__all__ = [
    "noise",
    "border_width",
    "resize_bicubic",
    "zoom",
    "add_white_squares",
    "PAPER_SQUARES",
    "PAPER_ZOOM_LEVELS",
    "carmichael_stimulus",
    "disc_mask",
]

#: The three squares every E12/E13 stimulus gets, as ``(alpha, column, row)`` of the
#: square's top-left corner. They are the draws of the paper's
#: ``add_multiple_white_squares`` (Python ``random.seed(4321)``, then per square
#: ``randint(0, 255) / 255``, ``randrange(0, 56)`` for x, ``randrange(0, 56)`` for y):
#: alpha = 130/255 = 0.5098, 32/255 = 0.1255, 187/255 = 0.7333.
PAPER_SQUARES: Tuple[Tuple[float, int, int], ...] = (
    (130 / 255, 3, 26),
    (32 / 255, 11, 41),
    (187 / 255, 7, 43),
)

#: Zoom levels of the boundary-extension experiment (E11), in percent.
PAPER_ZOOM_LEVELS: Tuple[int, ...] = (80, 85, 90, 95, 100, 105, 110, 115, 120)


# --------------------------------------------------------------------------- helpers
def _check_images(x, name: str = "x", unit_range: bool = True) -> np.ndarray:
    """Float images (H, W, C) or (N, H, W, C), optionally checked to lie in [0, 1]."""
    arr = check_float_array(x, name)
    if arr.ndim not in (3, 4):
        raise ValueError(f"{name} must have shape (H, W, C) or (N, H, W, C), got {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if unit_range and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(f"{name} must lie in [0, 1], got values in [{arr.min()}, {arr.max()}]")
    return arr


def _check_fraction(value, name: str) -> float:
    return check_real(value, name, 0.0, 1.0)


def _to_uint8_levels(x: np.ndarray) -> np.ndarray:
    """The paper's ``(x * 255).astype('uint8')``: truncation to 256 levels (float output)."""
    return np.floor(x * 255)


def _from_uint8_levels(y: np.ndarray, dtype) -> np.ndarray:
    """PIL's rounding back to uint8, then ``/ 255``."""
    return (np.clip(np.round(y), 0, 255) / 255).astype(dtype, copy=False)


# --------------------------------------------------------------------------- noise
def noise(x, fraction: float, rng=None, mode: str = "zero") -> np.ndarray:
    """Corrupt exactly ``int(x.size * fraction)`` elements, then clip to [0, 1].

    The paper's ``noise`` (Section 1.8 of the catalogue): the whole array is flattened
    (all images and channels together, so a pixel can lose one channel only), exactly
    ``k = int(size * fraction)`` distinct elements are chosen uniformly without
    replacement and set to 0 (``mode="zero"``) or to draws from N(0.5, 1)
    (``mode="gaussian"``), and the result is clipped to [0, 1].

    Parameters
    ----------
    x : (...) array_like
        Any shape (images are usually in [0, 1]; everything is clipped as in the paper).
    fraction : float
        Fraction f in [0, 1] of elements to corrupt.
    rng : None, int or numpy.random.Generator
    mode : {"zero", "gaussian"}

    Returns
    -------
    out : (...) ndarray
        New array, same shape and float dtype as ``x``.
    """
    arr = check_float_array(x, "x")
    f = _check_fraction(fraction, "fraction")
    if mode not in ("zero", "gaussian"):
        raise ValueError(f"mode must be 'zero' or 'gaussian', got {mode!r}")
    gen = as_rng(rng)
    out = arr.reshape(-1).copy()
    k = int(out.size * f)  # k = int(size * f), as the paper's code
    if k > 0:
        idx = gen.choice(out.size, size=k, replace=False)  # without replacement
        if mode == "zero":
            out[idx] = 0
        else:
            out[idx] = gen.normal(0.5, 1.0, size=k)  # x_i ~ N(0.5, 1)
    np.clip(out, 0.0, 1.0, out=out)  # clip to [0, 1]
    return out.reshape(arr.shape)


# --------------------------------------------------------------------------- zoom
def border_width(zoom_percent: float, image_size: int = 64) -> int:
    """Border in pixels added (zoom out) or cropped (zoom in) per side for zoom z%.

    The paper's formula for 64-pixel images, ``b = |int(32 / (z/100) - 32)|``,
    generalised to ``b = |int((H/2) / (z/100) - H/2)|``: an object of width w at the
    centre keeps ``w * H / (H + 2b) ~= w * z/100`` after resizing back to H.
    For z = 80, 85, ..., 120 and H = 64 it gives 8, 5, 3, 1, 0, 1, 2, 4, 5.

    Parameters
    ----------
    zoom_percent : float
        Zoom z in percent (> 0); z < 100 zooms out, z > 100 zooms in.
    image_size : int, default 64
        Image side H.

    Returns
    -------
    int
    """
    z = check_positive(zoom_percent, "zoom_percent")
    h = check_int(image_size, "image_size")
    if h <= 0:
        raise ValueError(f"image_size must be a positive integer, got {image_size}")
    half = h / 2
    b = (half / (z / 100)) - half  # b = |int(H/2 / (z/100) - H/2)|
    if not np.isfinite(b):
        raise ValueError(f"zoom_percent {zoom_percent!r} is too small: the border would be infinite")
    return abs(int(b))


def _cubic(t: np.ndarray, a: float = -0.5) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (Pillow's BICUBIC filter)."""
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = (((t - 5) * t + 8) * t - 4) * a
    return np.where(t < 1, near, np.where(t < 2, far, 0.0))


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) interpolation weights of Pillow's bicubic resize along one axis.

    Pixel centres are aligned (output pixel i samples input position (i + 0.5) * s - 0.5
    with s = n_in / n_out); when shrinking, the kernel is stretched by s (antialiasing);
    taps outside the image are dropped and the weights renormalised, as Pillow does.
    """
    scale = n_in / n_out
    fscale = max(scale, 1.0)
    support = 2.0 * fscale
    centre = (np.arange(n_out) + 0.5) * scale
    lo = np.maximum(np.trunc(centre - support + 0.5), 0)[:, None]
    hi = np.minimum(np.trunc(centre + support + 0.5), n_in)[:, None]
    j = np.arange(n_in)[None, :]
    w = _cubic((j - centre[:, None] + 0.5) / fscale)
    w = np.where((j >= lo) & (j < hi), w, 0.0)
    return w / w.sum(axis=1, keepdims=True)


def resize_bicubic(x, height: int, width: int) -> np.ndarray:
    """Resize images to exactly ``(height, width)`` with Pillow-style bicubic resampling.

    Separable cubic convolution (Keys, a = -0.5), pixel-centre aligned, antialiased
    when shrinking (kernel support scaled by the shrink factor), edge taps renormalised:
    the resampling of ``PIL.Image.resize`` (default filter BICUBIC for RGB in Pillow
    9.4, used by the paper's zoom code), computed in floating point.
    ``y[i, j] = sum_{p, q} R[i, p] x[p, q] C[j, q]``.

    Parameters
    ----------
    x : (H, W, C) or (N, H, W, C) array_like
    height, width : int
        Output size.

    Returns
    -------
    (height, width, C) or (N, height, width, C) ndarray
        Same float dtype as ``x``; not clipped (cubic kernels overshoot slightly).
    """
    arr = _check_images(x, unit_range=False)
    height, width = check_int(height, "height"), check_int(width, "width")
    if height <= 0 or width <= 0:
        raise ValueError(f"height and width must be positive, got ({height}, {width})")
    r = _resize_matrix(arr.shape[-3], height).astype(arr.dtype)
    c = _resize_matrix(arr.shape[-2], width).astype(arr.dtype)
    y = np.einsum("ip,...pqc->...iqc", r, arr, optimize=True)  # rows: R x
    return np.einsum("jq,...iqc->...ijc", c, y, optimize=True)  # columns: (R x) C^T


#: smallest zoom of :func:`zoom`: zooming out to z % pads each image to 100 / z times its side
MIN_ZOOM_PERCENT = 10.0


def zoom(x, zoom_percent: float, *, quantize: bool = False) -> np.ndarray:
    """Zoom images out (z < 100) or in (z > 100) about the centre, keeping the size.

    As the paper's E11 code: for z < 100 pad ``b`` pixels on every side replicating the
    edge pixels (``np.pad(mode="edge")``), for z > 100 crop ``b`` pixels from every
    side, then resize back to H x W (:func:`resize_bicubic`) and clip to [0, 1]; z = 100
    (b = 0) returns a copy. ``b = border_width(z, H)`` for rows and
    ``border_width(z, W)`` for columns (equal for square images).

    Parameters
    ----------
    x : (H, W, C) or (N, H, W, C) array_like
        Images in [0, 1].
    zoom_percent : float
        Zoom z in percent, >= ``MIN_ZOOM_PERCENT`` (10; the paper: 80, 85, ..., 120).
    quantize : bool, default False
        Mimic the paper's uint8 pipeline: truncate ``x * 255`` to integers before and
        round the resized result to integers (then divide by 255).

    Returns
    -------
    (H, W, C) or (N, H, W, C) ndarray
        Same float dtype as ``x``, values in [0, 1].
    """
    arr = _check_images(x)
    h, w = arr.shape[-3], arr.shape[-2]
    bh, bw = border_width(zoom_percent, h), border_width(zoom_percent, w)
    z = float(zoom_percent)
    if z < MIN_ZOOM_PERCENT:
        raise ValueError(f"zoom_percent must be >= {MIN_ZOOM_PERCENT:g} (zooming out to z% pads every image to "
                         f"100/z times its side), got {zoom_percent!r}")
    work = _to_uint8_levels(arr).astype(arr.dtype) if quantize else arr
    if bh == 0 and bw == 0:
        out = work.copy()
    elif z < 100:
        pad = [(0, 0)] * (arr.ndim - 3) + [(bh, bh), (bw, bw), (0, 0)]
        out = resize_bicubic(np.pad(work, pad, mode="edge"), h, w)  # pad b, resize to H
    else:  # b = int(H/2 - H/2 * 100/z) < H/2, so the crop is never empty
        crop = work[..., bh:h - bh, bw:w - bw, :]
        out = resize_bicubic(crop, h, w)  # crop b, resize to H
    if quantize:
        return _from_uint8_levels(out, arr.dtype)
    return np.clip(out, 0.0, 1.0).astype(arr.dtype, copy=False)


# --------------------------------------------------------------------------- squares
def _check_squares(squares) -> list:
    try:
        items = list(squares)
    except TypeError:
        raise TypeError("squares must be a sequence of (alpha, col, row) triples") from None
    out = []
    for sq in items:
        if len(sq) != 3:
            raise ValueError(f"each square must be (alpha, col, row), got {sq!r}")
        alpha = _check_fraction(sq[0], "square alpha")
        out.append((alpha, check_int(sq[1], "square col"), check_int(sq[2], "square row")))
    return out


def _paste_squares(img: np.ndarray, squares, size: int, quantize: bool) -> None:
    """Blend ``patch <- alpha * 1 + (1 - alpha) * patch`` in place (levels if quantize)."""
    h, w = img.shape[-3], img.shape[-2]
    white = 255.0 if quantize else 1.0
    for alpha, col, row in squares:
        r0, r1 = max(row, 0), min(row + size, h)
        c0, c1 = max(col, 0), min(col + size, w)
        if r0 >= r1 or c0 >= c1:
            continue  # entirely outside the image
        patch = img[..., r0:r1, c0:c1, :]
        blended = alpha * white + (1 - alpha) * patch  # patch <- a * 1 + (1 - a) * patch
        img[..., r0:r1, c0:c1, :] = np.floor(blended) if quantize else blended


def add_white_squares(x, squares=PAPER_SQUARES, size: int = 8, *,
                      quantize: bool = False) -> np.ndarray:
    """Alpha-blend white ``size x size`` squares into every image (E12, E13).

    Per square, the patch with top-left corner (row, col) becomes
    ``patch <- alpha * 1 + (1 - alpha) * patch``; squares are applied in order and
    clipped at the image edge. All images get the same squares, as in the paper (whose
    random generator is re-seeded on every call). The paper works in uint8:
    ``im = uint8(255 x)``, then ``patch <- uint8(255 alpha + (1 - alpha) patch)``, then
    ``im / 255``; ``quantize=True`` reproduces that truncation exactly (whole image).

    Parameters
    ----------
    x : (H, W, C) or (N, H, W, C) array_like
        Images in [0, 1].
    squares : sequence of (alpha, col, row), default PAPER_SQUARES
        Opacity in [0, 1] and integer top-left position (col = x, row = y).
    size : int, default 8
        Square side (the paper: H / 8 = 8 for 64-pixel images).
    quantize : bool, default False

    Returns
    -------
    (H, W, C) or (N, H, W, C) ndarray
        New array, same float dtype as ``x``.
    """
    arr = _check_images(x)
    sq = _check_squares(squares)
    size = check_int(size, "size")
    if size <= 0:
        raise ValueError(f"size must be a positive integer, got {size}")
    if quantize:
        work = _to_uint8_levels(arr).astype(np.float64)
        _paste_squares(work, sq, size, quantize=True)
        return (work / 255).astype(arr.dtype)
    out = arr.copy()
    _paste_squares(out, sq, size, quantize=False)
    return np.clip(out, 0.0, 1.0, out=out)


# --------------------------------------------------------------------------- Carmichael
def disc_mask(height: int, width: int, center: Sequence[float], radius: float) -> np.ndarray:
    """Boolean (H, W) mask of the disc ``(col - cx)^2 + (row - cy)^2 <= (r + 1/2)^2``.

    The paper draws the disc with ``ImageDraw.ellipse((cx - r, cy - r, cx + r, cy + r))``,
    whose bounding box is pixel-inclusive (2r + 1 pixels across), i.e. radius r + 1/2
    around the centre pixel; this criterion reproduces Pillow's mask exactly for the
    paper's (32, 45), r = 15 (749 pixels).
    """
    cx, cy = np.float64(center[0]), np.float64(center[1])
    rows, cols = np.ogrid[:height, :width]
    with np.errstate(over="ignore"):  # an enormous disc covers the image
        return (cols - cx) ** 2 + (rows - cy) ** 2 <= np.square(np.float64(radius) + 0.5)  # inside the disc


def carmichael_stimulus(image, rng=None, center: Tuple[float, float] = (32, 45),
                        radius: float = 15, blur_sigma: float = 3.0,
                        square: Optional[Tuple[int, int]] = None, square_size: int = 8,
                        *, quantize: bool = False) -> np.ndarray:
    """Make an object ambiguous: blur a disc around it, then paste an opaque white square.

    As the paper's E14 code (``blur_centre`` then ``add_white_square``): inside the disc
    of ``radius`` around ``center`` the image is replaced by its Gaussian blur, outside it
    is unchanged; then a white ``square_size`` square is pasted with its top-left corner
    at ``square = (col, row)``, clipped at the edge.

    The paper used ``PIL.ImageFilter.GaussianBlur(3)``, whose ``radius`` is the standard
    deviation of the Gaussian (approximated in Pillow by three box blurs, edges
    extended); here ``scipy.ndimage.gaussian_filter(sigma=blur_sigma, mode="nearest")``
    per channel, so ``blur_sigma=3`` is the paper's setting. The paper draws the square
    position uniformly in [0, 64)^2 from a seed hashed from the image bytes; here it is
    drawn uniformly in [0, W) x [0, H) from ``rng`` when ``square`` is None (one
    position per image).

    Parameters
    ----------
    image : (H, W, C) or (N, H, W, C) array_like
        Images in [0, 1].
    rng : None, int or numpy.random.Generator
        Used only when ``square`` is None.
    center : (float, float), default (32, 45)
        Disc centre as (x = column, y = row).
    radius : float, default 15
    blur_sigma : float, default 3.0
    square : (int, int) or None
        Top-left (col, row) of the white square; None draws it from ``rng``.
    square_size : int, default 8
    quantize : bool, default False
        Round the blurred image to 256 levels as the paper's uint8 pipeline does.

    Returns
    -------
    (H, W, C) or (N, H, W, C) ndarray
        New array, same float dtype as ``image``.
    """
    arr = _check_images(image, "image")
    r = check_positive(radius, "radius", allow_zero=True)
    sigma = check_positive(blur_sigma, "blur_sigma", allow_zero=True)
    size = check_int(square_size, "square_size")
    if size <= 0:
        raise ValueError(f"square_size must be a positive integer, got {square_size}")
    if len(center) != 2:
        raise ValueError(f"center must be (x, y), got {center!r}")
    batch = arr if arr.ndim == 4 else arr[None]
    n, h, w = batch.shape[:3]
    if square is None:
        gen = as_rng(rng)
        positions = [(int(gen.integers(0, w)), int(gen.integers(0, h))) for _ in range(n)]
    else:
        if len(square) != 2:
            raise ValueError(f"square must be (col, row), got {square!r}")
        positions = [(check_int(square[0], "square col"), check_int(square[1], "square row"))] * n
    work = _to_uint8_levels(batch) if quantize else batch.astype(np.float64)
    if work.dtype.itemsize < 4:  # scipy.ndimage has no float16 kernels
        work = work.astype(np.float32)
    blurred = ndimage.gaussian_filter(work, sigma=(0, sigma, sigma, 0), mode="nearest")
    if quantize:
        blurred = np.clip(np.round(blurred), 0, 255)
    inside = disc_mask(h, w, center, r)[None, :, :, None]
    out = np.where(inside, blurred, work)  # blur inside the disc, original outside
    for i, (col, row) in enumerate(positions):
        _paste_squares(out[i], [(1.0, col, row)], size, quantize=quantize)  # opaque white
    out = out / 255 if quantize else out
    out = np.clip(out, 0.0, 1.0).astype(arr.dtype, copy=False)
    return out if arr.ndim == 4 else out[0]
