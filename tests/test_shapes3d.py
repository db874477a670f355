"""Tests of the Shapes3D-like renderer (refmem.datasets.shapes3d): factors, geometry, speed-independent checks.

The geometry tests pin ``version=V1``: they describe renderer version 1 (corner positions,
capsules cut by the top edge, ...). What every version must do is in test_shapes3d_versions.py."""
import sys
import types
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refmem.datasets import shapes3d as s3

BASE = (0, 5, 7, 4, 0, 7)  # red floor, cyan wall, blue object, scale 1.04, cube, 0 degrees
V1 = 1                     # the renderer version whose geometry the geometry tests describe


def scene(**kw):
    lab = list(BASE)
    for k, v in kw.items():
        lab[s3.FACTOR_NAMES.index(k)] = v
    return np.array(lab, np.int64)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REFMEM_CACHE_DIR", str(tmp_path))
    return tmp_path / "shapes3d"


# ----------------------------------------------------------------- factors
def test_factor_constants():
    assert s3.FACTOR_NAMES == ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    assert s3.FACTOR_SIZES == (10, 10, 10, 8, 4, 15)
    assert s3.N_IMAGES == 480000 == int(np.prod(s3.FACTOR_SIZES))
    assert [len(v) for v in s3.FACTOR_VALUES] == list(s3.FACTOR_SIZES)
    np.testing.assert_allclose(s3.FACTOR_VALUES[0], np.arange(10) / 10)
    np.testing.assert_allclose(s3.FACTOR_VALUES[3][[0, 1, -1]], [0.75, 0.8214286, 1.25], atol=1e-6)
    np.testing.assert_allclose(s3.FACTOR_VALUES[5][[0, 1, 7, -1]], [-30, -25.714286, 0, 30], atol=1e-5)
    assert s3.SHAPE_NAMES[s3.FACTOR_VALUES[s3.SHAPE].astype(int)[2]] == "sphere"
    assert s3.FACTOR_NAMES[s3.SHAPE] == "shape"


def test_index_known_formula():
    f, w, o, sc, sh, ori = 1, 2, 3, 4, 1, 5
    want = ((((f * 10 + w) * 10 + o) * 8 + sc) * 4 + sh) * 15 + ori  # the dataset's factor order (notebook get_index)
    assert s3.factors_to_index([f, w, o, sc, sh, ori]) == want
    np.testing.assert_array_equal(s3.index_to_factors(want), [f, w, o, sc, sh, ori])
    np.testing.assert_array_equal(s3.index_to_factors(np.array([0, 1, 15, 479999])),
                                  [[0] * 6, [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0], [9, 9, 9, 7, 3, 14]])


@given(st.lists(st.integers(0, 479999), min_size=1, max_size=20))
def test_index_round_trip(idx):
    idx = np.array(idx, np.int64)
    lab = s3.index_to_factors(idx)
    assert lab.shape == (len(idx), 6) and np.all(lab < np.array(s3.FACTOR_SIZES))
    np.testing.assert_array_equal(s3.factors_to_index(lab), idx)
    np.testing.assert_array_equal(s3.values_to_factors(
        np.stack([s3.FACTOR_VALUES[j][lab[:, j]] for j in range(6)], 1)), lab)


@pytest.mark.parametrize("bad", [[0, 0, 0, 0, 4, 0], [0, 0, 0, 0, 0, 15], [10, 0, 0, 0, 0, 0],
                                 [0, 0, 0, -1, 0, 0], [0, 0, 0, 8, 0, 0]])
def test_unknown_factor_value_raises(bad):
    with pytest.raises(ValueError, match="must be an index"):
        s3.factors_to_index(bad)
    with pytest.raises(ValueError):
        s3.render(bad)


def test_bad_label_input():
    with pytest.raises(TypeError):
        s3.render(np.zeros(6))                   # float labels: indices expected
    with pytest.raises(ValueError):
        s3.render(np.zeros((2, 5), int))
    with pytest.raises(ValueError):
        s3.index_to_factors([480000])
    with pytest.raises(ValueError, match="unknown scale"):
        s3.values_to_factors([0.0, 0.0, 0.0, 1.0, 0.0, 0.0])


def test_hue_rgb_matches_table():
    rgb = np.round(s3.hue_rgb(np.arange(10) / 10) * 255).astype(int)
    want = [(255, 0, 0), (255, 153, 0), (204, 255, 0), (51, 255, 0), (0, 255, 102), (0, 255, 255),
            (0, 102, 255), (51, 0, 255), (204, 0, 255), (255, 0, 153)]
    np.testing.assert_array_equal(rgb, want)


# ----------------------------------------------------------------- render
def test_render_shape_dtype_and_determinism():
    lab = s3.index_to_factors(np.array([0, 12345, 479999, 250000]))
    a = s3.render(lab)
    assert a.shape == (4, 64, 64, 3) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1 and np.all(np.isfinite(a))
    s3._MEMO.clear()                                         # recast from scratch
    np.testing.assert_array_equal(s3.render(lab), a)
    np.testing.assert_array_equal(s3.render(lab[2]), a[2:3])  # independent of batch company
    calls = []
    s3.render(np.repeat(lab, 30, axis=0), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(100, 120), (120, 120)]                  # batches of <= 100
    small = s3.render(lab[:1], image_size=24, supersample=1)
    assert small.shape == (1, 24, 24, 3) and small.dtype == np.float32


@pytest.mark.parametrize("kw", [dict(image_size=0), dict(image_size=-3), dict(supersample=0)])
def test_render_bad_sizes(kw):
    with pytest.raises(ValueError):
        s3.render(BASE, **kw)


def test_sky_colour_in_top_row():
    lab = s3.index_to_factors(np.random.default_rng(0).choice(s3.N_IMAGES, 12, replace=False))
    lab[:, 4] = np.minimum(lab[:, 4], 2)        # no capsule: the largest ones reach the top edge
    lab[:2, 5] = [0, 14]                        # turned room
    img = s3.render(lab, version=V1)
    np.testing.assert_allclose(img[:, 0], np.broadcast_to(np.array(s3.SKY_RGB, np.float32), (12, 64, 3)),
                               atol=1e-6)
    assert np.all(np.round(img[:, 0] * 255) == [153, 226, 249])
    caps = s3.render(np.stack([scene(shape=3, scale=k) for k in range(8)]), version=V1)
    sky = np.all(np.abs(caps[:, 0] - np.array(s3.SKY_RGB, np.float32)) < 1e-6, axis=-1).mean(axis=1)
    assert np.all(sky[:6] == 1) and np.all(sky[6:] > 0.5)  # capsules of scale >= 1.18 are cut


def object_mask(img):
    """Pixels of the blue (hue 0.7) object against red floor, cyan wall and sky."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return (b > 0.25) & (g < 0.15) & (r < 0.6 * b)


@pytest.mark.parametrize("shape", range(4))
def test_object_area_grows_with_scale(shape):
    for ori in (0, 7, 14):
        labs = np.stack([scene(scale=k, shape=shape, orientation=ori) for k in range(8)])
        area = object_mask(s3.render(labs, version=V1)).sum(axis=(1, 2))
        assert np.all(np.diff(area) > 0), (shape, ori, area)
        if ori == 7:                                               # each step visible
            assert np.all(np.diff(area) >= 20), area


def test_shapes_differ():
    img = s3.render(np.stack([scene(shape=k) for k in range(4)]), version=V1)
    masks = object_mask(img)
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(img[i] - img[j]).mean() > 0.005
            assert (masks[i] ^ masks[j]).sum() >= 60, (i, j)
    h = masks.any(axis=2).sum(axis=1)                              # object heights (rows)
    w = masks.any(axis=1).sum(axis=1)
    assert h[3] > 1.7 * w[3]                                      # capsule about 2:1
    assert abs(h[2] - w[2]) <= 2                                  # sphere round


def corner_jumps(img):
    """Brightness jump between adjacent columns in the wall band (rows 21-27, above the object)."""
    v = img[21:28].max(axis=-1).mean(axis=0)                       # (W,) HSV value
    return np.abs(np.diff(v))


def test_orientation_corner():
    left, mid, right = s3.render(np.stack([scene(orientation=k) for k in (0, 7, 14)]), version=V1)
    jl, jm, jr = corner_jumps(left), corner_jumps(mid), corner_jumps(right)
    assert jm.max() < 0.02                                        # 0 degrees: no corner in view
    assert jl.max() > 0.1 and jr.max() > 0.1
    xl, xr = int(jl.argmax()), int(jr.argmax())
    assert 10 <= xl < 30 and 34 <= xr < 54, (xl, xr)             # -30: left, +30: right
    assert abs((xl + xr) - 63) <= 2                               # mirror images
    # orientation also turns the object: the cube's side face shows at +-30 degrees only
    assert (object_mask(left) ^ object_mask(mid)).sum() > 30


def test_shadow_falls_right_back():
    img = s3.render(scene(orientation=7), version=V1)[0]
    floor = (img[..., 0] > 0.05) & (img[..., 1] < 0.05) & (img[..., 2] < 0.05)  # red floor
    dark = floor & (img[..., 0] < 0.4)
    ys, xs = np.nonzero(dark)
    assert xs.size > 30 and np.mean(xs) > 34 and np.mean(ys) < 56


# ----------------------------------------------------------------- sample and cache
def test_sample_shapes_and_labels(cache_dir):
    x, y = s3.sample(30, 1)
    assert x.shape == (30, 64, 64, 3) and x.dtype == np.float32 and y.shape == (30, 6) and y.dtype == np.int64
    assert len(np.unique(s3.factors_to_index(y))) == 30
    np.testing.assert_allclose(x, s3.render(y), atol=0.5 / 255 + 1e-6)  # 8-bit quantised render
    np.testing.assert_allclose(x * 255, np.round(x * 255), atol=1e-3)   # multiples of 1/255
    rng = np.random.default_rng(5)
    _, y1 = s3.sample(4, rng, cache=False)
    _, y2 = s3.sample(4, rng, cache=False)                         # the caller's stream advanced
    assert not np.array_equal(y1, y2)
    _, y3 = s3.sample(4, np.random.default_rng(5), cache=False)
    np.testing.assert_array_equal(y1, y3)


@pytest.mark.parametrize("n", [0, -1, 480001])
def test_sample_bad_n(n, cache_dir):
    with pytest.raises(ValueError):
        s3.sample(n, 0)


def test_sample_bad_types(cache_dir):
    with pytest.raises(TypeError):
        s3.sample(3.0, 0)
    with pytest.raises(ValueError):
        s3.sample(3, 0, image_size=-1)


def test_cache_round_trip_and_corruption(cache_dir, monkeypatch):
    x, y = s3.sample(12, 7, image_size=32)
    files = list(cache_dir.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"
    path = files[0]
    render = s3.render

    def boom(*a, **k):
        raise AssertionError("cache miss")
    monkeypatch.setattr(s3, "render", boom)
    x2, y2 = s3.sample(12, 7, image_size=32)                       # served from disk
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    monkeypatch.setattr(s3, "render", render)
    good = path.read_bytes()
    corruptions = [b"not a zip file", good[: len(good) // 2]]
    d = s3._cache.load_npz(path)                                    # valid file, wrong content
    d["images"] = d["images"].copy()
    d["images"][0, 0, 0, 0] ^= 1
    s3._cache.save_npz(path, d)
    corruptions.append(path.read_bytes())
    for bad in corruptions:
        path.write_bytes(bad)
        x3, y3 = s3.sample(12, 7, image_size=32)                   # detected and regenerated
        np.testing.assert_array_equal(x, x3)
        np.testing.assert_array_equal(y, y3)
        assert s3._cache.load_checked(str(path), {}, "images") is not None
    # different key -> different file
    s3.sample(12, 7, image_size=32, supersample=1)
    assert len(list(cache_dir.iterdir())) == 2
    s3.sample(5, 0, cache=False)
    assert len(list(cache_dir.iterdir())) == 2


def test_nearest_centroid_recovers_shape(cache_dir):
    x, y = s3.sample(400, 123)
    v = x.max(axis=-1).reshape(400, -1)        # per-pixel HSV value: hue-invariant pixel feature
    lab = y[:, s3.SHAPE]
    tr, te = slice(0, 300), slice(300, None)
    cent = np.stack([v[tr][lab[tr] == k].mean(axis=0) for k in range(4)])
    pred = ((v[te][:, None] - cent[None]) ** 2).sum(-1).argmin(1)
    acc = float(np.mean(pred == lab[te]))
    assert acc >= 0.6, acc                      # chance 0.25


# ----------------------------------------------------------------- real file reader
def test_load_h5_missing_h5py(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"refmem\[h5\]"):
        s3.load_h5("3dshapes.h5")


def test_load_h5_with_stand_in(monkeypatch):
    """A dict-backed stand-in for h5py checks the conversion (uint8 -> [0, 1], values -> indices)."""
    idx = np.array([0, 7, 123456, 479999])
    lab = s3.index_to_factors(idx)
    vals = np.stack([s3.FACTOR_VALUES[j][lab[:, j]] for j in range(6)], 1)
    imgs = (np.arange(4 * 64 * 64 * 3) % 256).astype(np.uint8).reshape(4, 64, 64, 3)

    @contextmanager
    def File(path, mode):
        yield {"images": imgs, "labels": vals}
    monkeypatch.setitem(sys.modules, "h5py", types.SimpleNamespace(File=File))
    x, y = s3.load_h5("fake.h5")
    assert x.dtype == np.float32 and x.max() == 1.0
    np.testing.assert_array_equal(y, lab)
    x2, y2 = s3.load_h5("fake.h5", indices=[3, 1, 3])
    np.testing.assert_array_equal(y2, lab[[3, 1, 3]])
    np.testing.assert_array_equal(x2, x[[3, 1, 3]])
    with pytest.raises(ValueError):
        s3.load_h5("fake.h5", indices=[4])


def test_demo_grid():
    g = s3.demo_grid(0, image_size=16, supersample=1)
    assert g.shape == (64, 16, 16, 3) and g.dtype == np.float32


def test_bench_shapes3d_smoke(tmp_path, capsys):
    """``refmem bench shapes3d`` at a tiny size: runs, prints, writes JSON (figures unchecked)."""
    from refmem._utils import load_json
    from refmem.benchmarks import shapes3d as bench
    path = tmp_path / "shapes3d.json"
    assert bench.main(["--n", "5", "--json", str(path)]) == 0
    res = load_json(path)
    assert res["n_images"] == 5 and set(res["settings"]) == {"supersample=1", "supersample=2"}
    for r in res["settings"].values():
        assert r["raycast_images_per_s"] > 0 and r["render_cold_images_per_s"] > 0
    assert "target >= 200 images/s" in capsys.readouterr().out
