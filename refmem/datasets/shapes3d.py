"""Shapes3D-like scenes: the six factors of DeepMind's 3dshapes and a NumPy renderer.

The real dataset [1]_ holds 480,000 images of 64x64x3, every combination of six factors
exactly once. This module reproduces its factors, values and row order, and renders its
own images with an analytic ray caster (:mod:`refmem.datasets._raycast`, specified in
docs/datasets-shapes3d.md), so experiments need no network. :func:`load_h5` reads the real file when a
user has it, returning the same arrays.

=============  ====  =============================================
factor          n    stored value (``FACTOR_VALUES``)
=============  ====  =============================================
floor_hue       10   0.0, 0.1, ..., 0.9
wall_hue        10   0.0, 0.1, ..., 0.9
object_hue      10   0.0, 0.1, ..., 0.9
scale            8   linspace(0.75, 1.25, 8)
shape            4   0 cube, 1 cylinder, 2 sphere, 3 capsule
orientation     15   linspace(-30, 30, 15) degrees
=============  ====  =============================================

Labels are integer indices into ``FACTOR_VALUES`` (one column per factor). Row order
(index) is mixed radix with orientation fastest:
``idx = ((((floor*10 + wall)*10 + obj)*8 + scale)*4 + shape)*15 + orientation``.

References
----------
.. [1] C. Burgess and H. Kim, "3D Shapes Dataset", https://github.com/deepmind/3dshapes-dataset
   (2018), Apache-2.0.
"""
from __future__ import annotations

import os
from typing import Callable, Optional, Tuple

import numpy as np

from refmem._utils import as_rng, check_array, check_float_array, check_int, check_positive
from refmem.progress import Progress
from refmem.datasets import _cache, _raycast
from refmem.datasets._geometry import GEOMETRIES

__all__ = ["FACTOR_NAMES", "FACTOR_SIZES", "FACTOR_VALUES", "SHAPE_NAMES", "SHAPE", "N_IMAGES",
           "RENDERER_VERSION", "RENDERER_VERSIONS", "SKY_RGB", "factors_to_index", "index_to_factors", "values_to_factors",
           "hue_rgb", "render", "renderer_key", "sample", "load_h5", "demo_grid"]

FACTOR_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
FACTOR_SIZES = (10, 10, 10, 8, 4, 15)
FACTOR_VALUES = (np.linspace(0.0, 0.9, 10), np.linspace(0.0, 0.9, 10), np.linspace(0.0, 0.9, 10),
                 np.linspace(0.75, 1.25, 8), np.arange(4.0), np.linspace(-30.0, 30.0, 15))
for _v in FACTOR_VALUES:
    _v.setflags(write=False)
SHAPE_NAMES = ("cube", "cylinder", "sphere", "capsule")
SHAPE = 4
N_IMAGES = int(np.prod(FACTOR_SIZES))  # 480,000
#: the renderer version that ``render``/``sample`` use by default (every experiment renders with it);
#: the versions' parameters are in :data:`refmem.datasets._geometry.GEOMETRIES`, and a changed look is a
#: new version there (the version is part of every cache key)
RENDERER_VERSION = 3
#: the available renderer versions
RENDERER_VERSIONS = tuple(sorted(GEOMETRIES))
SKY_RGB = (153 / 255, 226 / 255, 249 / 255)
_BATCH = 100
_STRIDES = np.array([int(np.prod(FACTOR_SIZES[i + 1:])) for i in range(6)], np.int64)


# ----------------------------------------------------------------- factors <-> index
def _check_labels(labels, name="labels") -> np.ndarray:
    lab = check_array(labels, name, dtype_kind="iu")
    if lab.ndim not in (1, 2) or lab.shape[-1] != 6:
        raise ValueError(f"{name} must have shape (6,) or (n, 6) (one integer column per factor "
                         f"{FACTOR_NAMES}), got {lab.shape}")
    lab = lab.astype(np.int64, copy=False)
    bad = (lab < 0) | (lab >= np.array(FACTOR_SIZES))
    if np.any(bad):
        j = int(np.nonzero(bad)[-1][0])
        raise ValueError(f"{name}: factor {FACTOR_NAMES[j]!r} must be an index in "
                         f"[0, {FACTOR_SIZES[j]}), got {lab[bad].ravel()[0]}")
    return lab


def factors_to_index(labels) -> np.ndarray:
    """Row index of factor combinations in the real dataset (orientation fastest).

    Parameters
    ----------
    labels : (n, 6) or (6,) int ndarray
        Factor indices, columns in ``FACTOR_NAMES`` order.

    Returns
    -------
    idx : (n,) int64 ndarray, or an int64 scalar for one combination
        ``((((floor*10 + wall)*10 + obj)*8 + scale)*4 + shape)*15 + orientation``.
    """
    lab = _check_labels(labels)
    return lab @ _STRIDES  # mixed radix: sum_j label_j * prod(FACTOR_SIZES[j+1:])


def index_to_factors(idx) -> np.ndarray:
    """Inverse of :func:`factors_to_index`.

    Parameters
    ----------
    idx : int or (n,) int ndarray
        Row indices in [0, 480000).

    Returns
    -------
    labels : (n, 6) int64 ndarray, or (6,) for a scalar index
    """
    i = check_array(idx, "idx", dtype_kind="iu").astype(np.int64)
    if i.ndim > 1:
        raise ValueError(f"idx must be a scalar or a 1-D array, got shape {i.shape}")
    if np.any((i < 0) | (i >= N_IMAGES)):
        raise ValueError(f"idx must lie in [0, {N_IMAGES}), got values in [{i.min()}, {i.max()}]")
    return (i[..., None] // _STRIDES) % np.array(FACTOR_SIZES)


def values_to_factors(values, atol: float = 1e-3) -> np.ndarray:
    """Convert stored label *values* (as in ``3dshapes.h5``) to integer factor indices.

    Parameters
    ----------
    values : (n, 6) or (6,) float ndarray
        Real factor values, columns in ``FACTOR_NAMES`` order.
    atol : float
        Largest accepted distance to a value in ``FACTOR_VALUES``.

    Returns
    -------
    labels : (n, 6) or (6,) int64 ndarray

    Raises
    ------
    ValueError
        If a value is further than ``atol`` from every stored value of its factor.
    """
    v = check_array(values, "values", dtype_kind="fiu")
    atol = check_positive(atol, "atol", allow_zero=True)
    if v.ndim not in (1, 2) or v.shape[-1] != 6:
        raise ValueError(f"values must have shape (6,) or (n, 6), got {v.shape}")
    out = np.empty(v.shape, np.int64)
    for j, grid in enumerate(FACTOR_VALUES):
        k = np.abs(v[..., j, None] - grid).argmin(axis=-1)
        err = np.abs(grid[k] - v[..., j])
        if np.any(err > atol):
            raise ValueError(f"unknown {FACTOR_NAMES[j]} value {v[..., j][err > atol].ravel()[0]!r}; "
                             f"expected one of {np.round(grid, 4).tolist()}")
        out[..., j] = k
    return out


def hue_rgb(hue) -> np.ndarray:
    """Fully saturated colour HSV(hue, 1, 1) as RGB in [0, 1].

    Parameters
    ----------
    hue : (...) float ndarray in [0, 1)

    Returns
    -------
    rgb : (..., 3) float64 ndarray
    """
    h = check_float_array(hue, "hue").astype(np.float64)[..., None]
    k = (np.array([5.0, 3.0, 1.0]) + 6.0 * h) % 6.0
    return 1.0 - np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)  # HSV->RGB with S = V = 1


# ----------------------------------------------------------------- rendering
class _GeometryMemo:
    """Per-process memo of cast geometries (they depend on shape, scale, orientation only)."""

    def __init__(self, max_bytes: int = 128 * 2 ** 20):
        self.max_bytes, self.store, self.nbytes = max_bytes, {}, 0

    def get(self, keys: np.ndarray, image_size: int, supersample: int, version: int = 1):
        """kind (k, P) uint8 and intensity (k, P) float32 for geometry keys (k, 3)."""
        names = [(version, image_size, supersample) + tuple(int(x) for x in k) for k in keys]
        found = {n: self.store[n] for n in set(names) if n in self.store}
        todo = sorted(set(names) - set(found))                        # distinct missing geometries
        for lo in range(0, len(todo), _BATCH):
            sel = np.array([n[3:] for n in todo[lo:lo + _BATCH]], np.int64)
            kind, inten = _raycast.cast(sel[:, 1], FACTOR_VALUES[3][sel[:, 0]], FACTOR_VALUES[5][sel[:, 2]],
                                        image_size, supersample, GEOMETRIES[version])
            for j, n in enumerate(todo[lo:lo + _BATCH]):
                found[n] = (kind[j].copy(), inten[j].copy())
                self._put(n, found[n])
        return [found[n] for n in names]

    def _put(self, key, value):
        size = value[0].nbytes + value[1].nbytes
        if size > self.max_bytes:
            return
        while self.nbytes + size > self.max_bytes:
            old = self.store.pop(next(iter(self.store)))
            self.nbytes -= old[0].nbytes + old[1].nbytes
        self.store[key] = value
        self.nbytes += size

    def clear(self):
        self.store.clear()
        self.nbytes = 0


_MEMO = _GeometryMemo()


def renderer_key() -> dict:
    """What a cache key of data rendered with the default renderer adds for the version:
    ``{}`` for version 1 (so caches made before versions existed keep their names), else
    ``{"renderer_version": RENDERER_VERSION}``."""
    return {} if RENDERER_VERSION == 1 else {"renderer_version": RENDERER_VERSION}


def _check_version(version) -> int:
    """``version``, or the default :data:`RENDERER_VERSION` for None; ValueError if unknown."""
    if version is None:
        return RENDERER_VERSION
    if isinstance(version, (bool, np.bool_)) or not isinstance(version, (int, np.integer)) \
            or int(version) not in GEOMETRIES:
        raise ValueError(f"version must be one of the renderer versions {list(RENDERER_VERSIONS)}, got {version!r}")
    return int(version)


def render(factors, image_size: int = 64, supersample: int = 2,
           progress: Optional[Callable[[int, int], None]] = None, version: Optional[int] = None) -> np.ndarray:
    """Render scenes for integer factor labels.

    The geometry (which surface each super-sampled pixel shows, and its light intensity)
    is ray-cast by :func:`refmem.datasets._raycast.cast` (docs/datasets-shapes3d.md); each surface is
    then coloured with its fully saturated hue, and ``supersample x supersample`` blocks
    are averaged (anti-aliasing).

    Parameters
    ----------
    factors : (n, 6) or (6,) int ndarray
        Factor indices, columns in ``FACTOR_NAMES`` order.
    image_size : int, default 64
        Output side in pixels (the camera's field of view is fixed).
    supersample : int, default 2
        Rays per pixel side.
    progress : callable(done, total), optional
        Called after each batch of <= 100 images.
    version : int, optional
        Renderer version (:data:`RENDERER_VERSIONS`; default :data:`RENDERER_VERSION`).
        Versions differ in camera, room, object sizes and lights, never in what the
        factor labels mean.

    Returns
    -------
    images : (n, image_size, image_size, 3) float32 ndarray in [0, 1]
        Deterministic; one image per label row (``n = 1`` for a (6,) input).
    """
    ver = _check_version(version)
    lab = _check_labels(factors, "factors")
    lab = lab.reshape(-1, 6)
    size, ss = check_int(image_size, "image_size", 1), check_int(supersample, "supersample", 1)
    n = lab.shape[0]
    out = np.empty((n, size, size, 3), np.float32)
    for lo in range(0, n, _BATCH):
        b = lab[lo:lo + _BATCH]
        geo = _MEMO.get(b[:, 3:], size, ss, ver)
        kind = np.stack([g[0] for g in geo])                                  # (B, P)
        inten = np.stack([g[1] for g in geo])                                 # (B, P)
        pal = np.empty((b.shape[0], 4, 3), np.float32)                        # per-image colours
        pal[:, _raycast.KIND_FLOOR] = hue_rgb(FACTOR_VALUES[0][b[:, 0]])
        pal[:, _raycast.KIND_WALL] = hue_rgb(FACTOR_VALUES[1][b[:, 1]])
        pal[:, _raycast.KIND_OBJECT] = hue_rgb(FACTOR_VALUES[2][b[:, 2]])
        pal[:, _raycast.KIND_SKY] = SKY_RGB
        B = b.shape[0]
        flat = kind + (4 * np.arange(B, dtype=np.intp))[:, None]             # (B, P) palette rows
        for ch in range(3):
            v = np.take(pal[:, :, ch].ravel(), flat)                          # (B, P) surface colour
            v *= inten
            np.minimum(v, np.float32(1.0), out=v)      # colour = clip(HSV(hue, 1, 1) * intensity)
            v = v.reshape(B, size, ss, size, ss)
            acc = v[:, :, 0, :, 0].copy()
            for k in range(1, ss * ss):
                acc += v[:, :, k // ss, :, k % ss]
            out[lo:lo + B, :, :, ch] = acc * np.float32(1.0 / ss ** 2)         # block mean
        if progress is not None:
            progress(min(lo + _BATCH, n), n)
    return out


# ----------------------------------------------------------------- sampling with a disk cache
def sample(n: int, rng=None, image_size: int = 64, supersample: int = 2, cache: bool = True,
           progress: Optional[bool] = None, version: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` distinct factor combinations uniformly and render them.

    Mimics the paper's random 10,000-image subset of 3dshapes. The rows are drawn with
    ``rng.choice(480000, n, replace=False)`` (a Generator ``rng`` advances the caller's
    stream). Images are quantised to 8 bits like the real dataset's uint8 images, so a
    cache hit returns exactly what a fresh render returns.

    Parameters
    ----------
    n : int
        Number of images, 1 <= n <= 480,000.
    rng : int, Generator or None
        Random source (see :func:`refmem._utils.as_rng`).
    image_size, supersample : int
        As in :func:`render`.
    cache : bool, default True
        Read/write ``$REFMEM_CACHE_DIR/shapes3d/*.npz`` (default ``~/.cache/refmem``),
        keyed by n, the drawn indices, image_size, supersample and the renderer version.
        A corrupt or mismatching file is regenerated.
    progress : bool, optional
        Show a progress bar (default: on a terminal, for n >= 2,000).
    version : int, optional
        Renderer version, as in :func:`render` (default :data:`RENDERER_VERSION`).

    Returns
    -------
    images : (n, image_size, image_size, 3) float32 ndarray in [0, 1]
        Multiples of 1/255.
    labels : (n, 6) int64 ndarray
        Factor indices (columns ``FACTOR_NAMES``), in drawn order.
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int, got {n!r}")
    if not 1 <= n <= N_IMAGES:
        raise ValueError(f"n must lie in [1, {N_IMAGES}] (distinct factor combinations), got {n}")
    size, ss = check_int(image_size, "image_size", 1), check_int(supersample, "supersample", 1)
    ver = _check_version(version)
    idx = as_rng(rng).choice(N_IMAGES, size=int(n), replace=False).astype(np.int64)
    labels = index_to_factors(idx)
    path = key = None
    if cache:
        key = dict(indices=idx, image_size=np.int64(size), supersample=np.int64(ss),
                   version=np.int64(ver))
        name = f"shapes3d_v{ver}_n{n}_{size}px_ss{ss}_{_cache.digest(idx)[:16]}.npz"
        path = os.path.join(_cache.cache_dir("shapes3d"), name)
        hit = _cache.load_checked(path, key, "images")
        if hit is not None and hit["images"].shape == (n, size, size, 3) and hit["images"].dtype == np.uint8:
            return hit["images"].astype(np.float32) * np.float32(1 / 255), labels
    show = (n >= 2000) if progress is None else bool(progress)
    u8 = np.empty((n, size, size, 3), np.uint8)
    with Progress("render shapes3d", total=n, enabled=None if show else False) as bar:
        for lo in range(0, n, 1000):                                # bounded float32 scratch
            imgs = render(labels[lo:lo + 1000], size, ss, version=ver)
            u8[lo:lo + 1000] = np.floor(imgs * np.float32(255) + np.float32(0.5))  # 8 bits, as 3dshapes
            bar.update(len(imgs))
    if cache:
        _cache.store(path, dict(key, images=u8), "images")
    return u8.astype(np.float32) * np.float32(1 / 255), labels


# ----------------------------------------------------------------- the real file
def load_h5(path, indices=None) -> Tuple[np.ndarray, np.ndarray]:
    """Read DeepMind's ``3dshapes.h5`` into the format of :func:`sample`.

    Parameters
    ----------
    path : str or os.PathLike
        The HDF5 file with ``images`` (480000, 64, 64, 3) uint8 and ``labels``
        (480000, 6) float64 factor values.
    indices : (k,) int ndarray, optional
        Rows to read (any order, no repeats needed); default all 480,000 (about 24 GB
        as float32: pass indices for a subset).

    Returns
    -------
    images : (k, 64, 64, 3) float32 ndarray in [0, 1]
    labels : (k, 6) int64 ndarray
        Factor indices (values converted with :func:`values_to_factors`).

    Raises
    ------
    ImportError
        If h5py is missing (``pip install 'refmem[h5]'`` or ``pip install h5py``).
    """
    try:
        import h5py
    except ImportError:
        raise ImportError("load_h5 needs h5py: install it with `pip install 'refmem[h5]'` "
                          "or `pip install h5py`") from None
    with h5py.File(os.fspath(path), "r") as f:
        for k in ("images", "labels"):
            if k not in f:
                raise ValueError(f"{path}: expected datasets 'images' and 'labels', found {list(f.keys())}")
        total = f["images"].shape[0]
        if indices is None:
            imgs, vals = f["images"][()], f["labels"][()]
        else:
            idx = check_array(indices, "indices", ndim=1, dtype_kind="iu", min_size=1).astype(np.int64)
            if np.any((idx < 0) | (idx >= total)):
                raise ValueError(f"indices must lie in [0, {total})")
            uniq, inv = np.unique(idx, return_inverse=True)   # h5py needs increasing indices
            imgs, vals = f["images"][uniq][inv], f["labels"][uniq][inv]
    imgs = np.asarray(imgs)
    if imgs.ndim != 4 or imgs.shape[-1] != 3:
        raise ValueError(f"{path}: images must have shape (n, H, W, 3), got {imgs.shape}")
    scale = np.float32(1 / 255) if imgs.dtype == np.uint8 else np.float32(1)
    return imgs.astype(np.float32) * scale, values_to_factors(np.asarray(vals, np.float64))


# ----------------------------------------------------------------- the figure of docs/datasets-shapes3d.md
DEMO_BASE = (0, 5, 7, 4, 0, 7)  # red floor, cyan wall, blue (hue 0.7) cube, scale 1.04, 0 degrees


def demo_grid(rng=0, image_size: int = 64, supersample: int = 2, version: Optional[int] = None) -> np.ndarray:
    """The 64 scenes of ``docs/img/shapes3d_grid.png`` (the layout of the target picture in docs/datasets-shapes3d.md).

    Rows 1-2: 16 random scenes; rows 3-8: sweeps of floor hue, wall hue, object hue,
    scale, shape and orientation (8 steps each, evenly spread over the factor's values)
    around ``DEMO_BASE``. Write it with
    ``refmem.imageio.save_grid(path, demo_grid(), ncols=8, scale=2)``.

    Returns
    -------
    images : (64, image_size, image_size, 3) float32 ndarray
    """
    rows = [index_to_factors(as_rng(rng).choice(N_IMAGES, 16, replace=False))]
    for j, size in enumerate(FACTOR_SIZES):
        lab = np.tile(np.array(DEMO_BASE, np.int64), (8, 1))
        lab[:, j] = np.round(np.linspace(0, size - 1, 8)).astype(np.int64) if size != 4 else np.repeat(np.arange(4), 2)
        rows.append(lab)
    return render(np.concatenate(rows), image_size, supersample, version=version)
