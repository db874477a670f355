"""Minimal PNG output with no dependency beyond NumPy and zlib.

Image grids (replay samples, recalls, interpolations, rendered scenes) are written with
these functions, so every experiment can show its pictures even where matplotlib is not
installed. Line plots need matplotlib (the ``plot`` extra); see :mod:`refmem.plotting`.
"""
from __future__ import annotations

import os
import struct
import zlib
from typing import Optional, Sequence, Union

import numpy as np

from ._utils import atomic_write_bytes, check_array

__all__ = ["to_uint8", "encode_png", "write_png", "read_png", "image_grid"]


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Convert an image to uint8: floats are taken to lie in [0, 1] and are clipped."""
    img = np.asarray(img)
    if img.dtype == np.uint8:
        return img
    if img.dtype.kind == "f":
        if not np.all(np.isfinite(img)):
            raise ValueError("image contains NaN or inf")
        return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if img.dtype.kind in "iu":
        return np.clip(img, 0, 255).astype(np.uint8)
    raise TypeError(f"cannot convert dtype {img.dtype} to an image")


def encode_png(img: np.ndarray) -> bytes:
    """Encode an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) image as PNG bytes."""
    a = to_uint8(img)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2:
        colour = 0
    elif a.ndim == 3 and a.shape[2] in (3, 4):
        colour = 2 if a.shape[2] == 3 else 6
    else:
        raise ValueError(f"image must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {a.shape}")
    h, w = a.shape[:2]
    raw = np.concatenate([np.zeros((h, 1), np.uint8), a.reshape(h, -1)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def write_png(path: Union[str, os.PathLike], img: np.ndarray) -> None:
    """Write an image (uint8, or float in [0, 1]) to a PNG file, atomically."""
    atomic_write_bytes(path, encode_png(img))


def read_png(path: Union[str, os.PathLike]) -> np.ndarray:
    """Read back an 8-bit, non-interlaced PNG written by :func:`write_png` (filter 0 only)."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    if w is None:
        raise ValueError(f"{path}: no IHDR chunk")
    ch = {0: 1, 2: 3, 6: 4}[colour]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * ch)
    if np.any(rows[:, 0] != 0):
        raise ValueError(f"{path}: only PNG filter type 0 is supported")
    out = rows[:, 1:].reshape(h, w, ch)
    return out[:, :, 0] if ch == 1 else out


def image_grid(images: np.ndarray, ncols: Optional[int] = None, pad: int = 2,
               pad_value: float = 1.0, scale: int = 1) -> np.ndarray:
    """Tile a batch of images into one picture.

    Parameters
    ----------
    images : (N, H, W) or (N, H, W, C) ndarray
        uint8, or float in [0, 1].
    ncols : int, optional
        Columns of the grid; default ``ceil(sqrt(N))``.
    pad : int, default 2
        Pixels between tiles.
    pad_value : float, default 1.0
        Colour of the padding in [0, 1] (1 = white).
    scale : int, default 1
        Integer nearest-neighbour magnification of the whole grid.

    Returns
    -------
    grid : (rows*(H+pad)+pad, cols*(W+pad)+pad, C) ndarray of uint8
    """
    imgs = to_uint8(check_array(images, "images", min_size=1))
    if imgs.ndim == 3:
        imgs = imgs[..., None]
    if imgs.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, C), got {np.shape(images)}")
    n, h, w, c = imgs.shape
    ncols = int(ncols) if ncols else int(np.ceil(np.sqrt(n)))
    if ncols < 1 or pad < 0 or scale < 1:
        raise ValueError("ncols and scale must be >= 1 and pad >= 0")
    nrows = int(np.ceil(n / ncols))
    fill = int(round(np.clip(pad_value, 0, 1) * 255))
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), fill, np.uint8)
    for i in range(n):
        r, q = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[y:y + h, x:x + w] = imgs[i]
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    return grid if c > 1 else grid[..., 0]


def save_grid(path: Union[str, os.PathLike], images: np.ndarray, **kwargs) -> None:
    """Shorthand for ``write_png(path, image_grid(images, **kwargs))``."""
    write_png(path, image_grid(images, **kwargs))


__all__.append("save_grid")
