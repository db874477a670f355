"""Minimal PNG output with no dependency beyond NumPy and zlib.

Image grids (replay samples, recalls, interpolations, rendered scenes) are written with
these functions, so every experiment can show its pictures even where matplotlib is not
installed. Line plots need matplotlib (the ``plot`` extra); see :mod:`refmem.plotting`.
"""
from __future__ import annotations

import os
import struct
import zlib
from typing import Optional, Union

import numpy as np

from refmem._utils import atomic_write_bytes, check_array, check_int, check_real

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


def _unfilter(raw: bytes, h: int, stride: int, bpp: int) -> np.ndarray:
    """Undo PNG scanline filters 0-4 (None, Sub, Up, Average, Paeth); PNG spec section 9."""
    rows = np.frombuffer(raw, np.uint8).reshape(h, 1 + stride)
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        ftype, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if ftype == 0:
            cur = line
        elif ftype == 1:    # Sub: Raw(x) = Sub(x) + Raw(x - bpp): a running sum per byte lane
            cur = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) & 0xFF
        elif ftype == 2:    # Up: Raw(x) = Up(x) + Prior(x)
            cur = (line + prev) & 0xFF
        elif ftype in (3, 4):  # Average / Paeth depend on the reconstructed left byte
            cur = line.copy()
            up = prev
            for x in range(stride):
                left = cur[x - bpp] if x >= bpp else 0
                if ftype == 3:
                    pred = (left + up[x]) >> 1
                else:
                    ul = up[x - bpp] if x >= bpp else 0
                    p = left + up[x] - ul
                    pa, pb, pc = abs(p - left), abs(p - up[x]), abs(p - ul)
                    pred = left if pa <= pb and pa <= pc else (up[x] if pb <= pc else ul)
                cur[x] = (cur[x] + pred) & 0xFF
        else:
            raise ValueError(f"invalid PNG filter type {ftype}")
        out[y] = cur
        prev = cur.astype(np.int32)
    return out


def read_png(path: Union[str, os.PathLike]) -> np.ndarray:
    """Read an 8-bit, non-interlaced greyscale, RGB or RGBA PNG (any filter types).

    Enough to check the PNGs refmem and matplotlib write; not a general decoder
    (no palettes, 16-bit depth or interlacing).

    Returns
    -------
    img : (H, W) or (H, W, C) ndarray of uint8
    """
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    try:
        return _decode_png(data, path)
    except (struct.error, zlib.error, IndexError) as exc:  # truncated or damaged chunks
        raise ValueError(f"{path}: damaged PNG ({exc})") from None


def _decode_png(data: bytes, path) -> np.ndarray:
    pos, idat, header, end = 8, b"", None, False
    while pos + 8 <= len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(tag + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"{path}: CRC mismatch in chunk {tag!r}")
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", body[:13])
        elif tag == b"IDAT":
            idat += body
        elif tag == b"IEND":
            end = True
            break
        pos += 12 + n
    if header is None or not end:
        raise ValueError(f"{path}: no {'IHDR' if header is None else 'IEND'} chunk (truncated or not a PNG)")
    w, h, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"{path}: only 8-bit non-interlaced grey/RGB/RGBA PNGs are supported")
    raw = zlib.decompress(idat)
    if len(raw) != h * (1 + w * channels):
        raise ValueError(f"{path}: the image data holds {len(raw)} bytes, not {h * (1 + w * channels)} "
                         f"for {w}x{h}x{channels}")
    out = _unfilter(raw, h, w * channels, channels).reshape(h, w, channels)
    return out[:, :, 0] if channels == 1 else out


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
    auto = ncols is None or (not isinstance(ncols, (str, bytes)) and np.ndim(ncols) == 0 and ncols == 0)
    ncols = int(np.ceil(np.sqrt(n))) if auto else check_int(ncols, "ncols", 1)
    pad, scale = check_int(pad, "pad", 0), check_int(scale, "scale", 1)
    if max(pad, scale) > 4096:
        raise ValueError(f"pad and scale must be at most 4096 (pixels), got {pad} and {scale}")
    nrows = int(np.ceil(n / ncols))
    fill = int(round(np.clip(check_real(pad_value, "pad_value"), 0, 1) * 255))
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
