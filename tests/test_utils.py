"""Tests of the shared helpers: validation, rng streams, atomic files, PNG, configs, progress."""
import dataclasses
import io
import json
import os
from typing import Tuple

import numpy as np
import pytest

from refmem import imageio
from refmem._utils import (as_rng, atomic_write_bytes, check_array, check_float_array,
                           check_positive, load_json, load_npz, save_json, save_npz, spawn_rngs)
from refmem.config import apply_overrides, config_from_dict, config_to_dict
from refmem.progress import Progress, format_seconds


# ----------------------------------------------------------------------------- rng
def test_as_rng_passes_generator_through_and_seeds_ints():
    g = np.random.default_rng(1)
    assert as_rng(g) is g
    assert as_rng(5).random() == np.random.default_rng(5).random()
    with pytest.raises(TypeError):
        as_rng(1.5)


def test_spawn_rngs_streams_are_independent_and_reproducible():
    a = spawn_rngs(7, ["data", "replay"])
    b = spawn_rngs(7, ["data", "replay"])
    # drawing from one stream does not move another
    a["data"].random(1000)
    assert a["replay"].random() == b["replay"].random()
    assert spawn_rngs(7, ["x"])["x"].random() != spawn_rngs(8, ["x"])["x"].random()


# ----------------------------------------------------------------------------- validation
def test_check_array_messages():
    with pytest.raises(ValueError, match=r"shape \(\*, 3\)"):
        check_array(np.zeros((2, 4)), "x", shape=(None, 3))
    with pytest.raises(ValueError, match="NaN"):
        check_array(np.array([1.0, np.nan]), "x")
    with pytest.raises(TypeError, match="dtype kind"):
        check_array(np.zeros(3, int), "x", dtype_kind="f")
    with pytest.raises(ValueError, match="2 dimensions"):
        check_array(np.zeros(3), "x", ndim=2)
    with pytest.raises(TypeError):
        check_array(None, "x")


def test_check_float_array_preserves_float32_and_promotes_ints():
    assert check_float_array(np.zeros(2, np.float32)).dtype == np.float32
    assert check_float_array(np.zeros(2, np.int64)).dtype == np.float64


@pytest.mark.parametrize("bad", [0, -1, np.inf, np.nan])
def test_check_positive_rejects(bad):
    with pytest.raises(ValueError):
        check_positive(bad, "beta")
    assert check_positive(0, "t", allow_zero=True) == 0.0


# ----------------------------------------------------------------------------- files
def test_atomic_json_and_npz_round_trip(tmp_path):
    save_json(tmp_path / "a" / "r.json", {"x": np.float32(1.5), "y": np.arange(3)})
    assert load_json(tmp_path / "a" / "r.json") == {"x": 1.5, "y": [0, 1, 2]}
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "t": np.array(3)}
    save_npz(tmp_path / "c.npz", arrays)
    back = load_npz(tmp_path / "c.npz")
    assert set(back) == {"w", "t"} and back["w"].dtype == np.float32
    np.testing.assert_array_equal(back["w"], arrays["w"])
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


def test_save_npz_refuses_objects(tmp_path):
    with pytest.raises(TypeError):
        save_npz(tmp_path / "o.npz", {"o": np.array([{}], dtype=object)})


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "f.bin"
    atomic_write_bytes(p, b"old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(p, b"new")
    assert p.read_bytes() == b"old"
    assert [x.name for x in tmp_path.iterdir()] == ["f.bin"]


# ----------------------------------------------------------------------------- PNG
@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (4, 3, 4)])
def test_png_round_trip(tmp_path, shape):
    img = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    imageio.write_png(tmp_path / "x.png", img)
    np.testing.assert_array_equal(imageio.read_png(tmp_path / "x.png"), img)


def test_image_grid_layout_and_float_conversion():
    imgs = np.zeros((5, 4, 4, 3), np.float32)
    imgs[1] = 1.0
    g = imageio.image_grid(imgs, ncols=3, pad=1, pad_value=0.5)
    assert g.shape == (2 * 5 + 1, 3 * 5 + 1, 3) and g.dtype == np.uint8
    assert g[1, 6, 0] == 255 and g[1, 1, 0] == 0 and g[0, 0, 0] == 128
    with pytest.raises(ValueError):
        imageio.to_uint8(np.array([np.nan]))


# ----------------------------------------------------------------------------- configs
@dataclasses.dataclass
class _Inner:
    lr: float = 1e-3
    amsgrad: bool = True


@dataclasses.dataclass
class _Cfg:
    n: int = 10
    name: str = "quick"
    sizes: Tuple[int, ...] = (1, 2)
    inner: _Inner = dataclasses.field(default_factory=_Inner)


def test_config_json_round_trip_and_overrides():
    cfg = _Cfg()
    d = config_to_dict(cfg)
    assert json.loads(json.dumps(d)) == d
    assert config_from_dict(_Cfg, d) == cfg
    new = apply_overrides(cfg, ["n=20", "inner.lr=0.01", "sizes=[3,4,5]", "name=paper", "inner.amsgrad=false"])
    assert new == _Cfg(20, "paper", (3, 4, 5), _Inner(0.01, False))
    assert cfg.n == 10  # original untouched


@pytest.mark.parametrize("bad", ["nn=3", "n", "n=1.5", "inner.amsgrad=3", "inner.zz=1", "n=true"])
def test_config_overrides_reject_bad_input(bad):
    with pytest.raises(ValueError):
        apply_overrides(_Cfg(), [bad])


def test_config_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown"):
        config_from_dict(_Cfg, {"n": 1, "typo": 2})


# ----------------------------------------------------------------------------- progress
def test_format_seconds():
    assert format_seconds(4.54) == "4.5s"
    assert format_seconds(123) == "2m03s"
    assert format_seconds(3723) == "1h02m03s"
    assert format_seconds(float("nan")) == "?"


def test_progress_draws_only_when_enabled():
    s = io.StringIO()
    with Progress("x", 4, stream=s, min_interval=0) as p:
        p.update(4)
    assert s.getvalue() == ""
    s = io.StringIO()
    with Progress("x", 4, stream=s, enabled=True, min_interval=0) as p:
        p.update(2)
        p.update(2)
    assert "4/4" in s.getvalue()


def test_atomic_files_get_normal_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        save_json(tmp_path / "p.json", {})
    finally:
        os.umask(umask)
    assert (os.stat(tmp_path / "p.json").st_mode & 0o777) == 0o644


def test_check_positive_rejects_strings_and_bools():
    for bad in ("90", True):
        with pytest.raises(TypeError):
            check_positive(bad, "beta")


def _encode_png_with_filter(img, ftype):
    """Reference PNG encoder using one scanline filter for every row (PNG spec 9.2)."""
    import struct
    import zlib

    h, w, c = img.shape
    raw, prev = b"", np.zeros(w * c, np.int64)
    for y in range(h):
        line = img[y].reshape(-1).astype(np.int64)
        f = np.zeros_like(line)
        for x in range(w * c):
            left = line[x - c] if x >= c else 0
            up, ul = prev[x], (prev[x - c] if x >= c else 0)
            if ftype == 0:
                pred = 0
            elif ftype == 1:
                pred = left
            elif ftype == 2:
                pred = up
            elif ftype == 3:
                pred = (left + up) >> 1
            else:
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else ul)
            f[x] = (line[x] - pred) & 255
        raw += bytes([ftype]) + f.astype(np.uint8).tobytes()
        prev = line

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    colour = {3: 2, 4: 6}[c]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("ftype", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("channels", [3, 4])
def test_read_png_decodes_every_filter_type(tmp_path, ftype, channels):
    img = np.random.default_rng(ftype).integers(0, 256, (6, 5, channels)).astype(np.uint8)
    path = tmp_path / "f.png"
    path.write_bytes(_encode_png_with_filter(img, ftype))
    np.testing.assert_array_equal(imageio.read_png(path), img)


def test_read_png_rejects_corruption(tmp_path):
    path = tmp_path / "x.png"
    imageio.write_png(path, np.zeros((3, 3, 3), np.uint8))
    data = bytearray(path.read_bytes())
    data[20] ^= 1  # inside IHDR
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="CRC"):
        imageio.read_png(path)


def test_portable_path_writes_the_home_folder_as_tilde(monkeypatch, tmp_path):
    from refmem._utils import portable_path

    home = tmp_path / "home" / "someone"
    monkeypatch.setenv("HOME", str(home))
    inside = home / ".cache" / "refmem" / "vae.npz"
    assert portable_path(inside) == os.path.join("~", ".cache", "refmem", "vae.npz")
    assert os.path.expanduser(portable_path(inside)) == str(inside)
    assert portable_path(str(home)) == "~"
    # a sibling folder whose name merely starts like the home folder is not inside it
    assert portable_path(str(home) + "2/x") == str(home) + "2/x"
    assert portable_path("relative/x.npz") == "relative/x.npz"
    assert portable_path(None) is None
    with pytest.raises(TypeError, match="path"):
        portable_path(b"/bytes/path")
