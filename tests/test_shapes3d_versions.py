"""Renderer versions (refmem.datasets.shapes3d, version=): published versions render byte-identical
images, every version renders every factor, and the factors mean the same in every version."""
import hashlib
import os

import numpy as np
import pytest

from refmem.datasets import shapes3d as s3
from refmem.datasets._geometry import GEOMETRIES

BASE = (0, 5, 7, 4, 0, 7)  # red floor, cyan wall, blue object, scale 1.04, cube, 0 degrees
VERSIONS = s3.RENDERER_VERSIONS

#: SHA-256 of the float32 bytes of renders of 96 fixed scenes (see _golden_images) per version,
#: recorded when the version was published; a published version must never change its images
GOLDEN = {
    1: {"ss1": "23ccd991e3ed0185991c58085709ef133ea1ce7697bc567d984cc2d8f484c0a4",
        "ss2": "33e8c47e05f2269bd528bfb1b50c51c9f4afe39ec96f17ad42f5fc2060bca3f8",
        "32px": "fb53091b6921b38a5c77f4cf8f2fcb8f8d209ded2e5bacc21a07947ff34f45a0",
        "sample": "650ca5f0470f3054d26d410f756bb1d5b70076849e8196163547196088d1284f"},
    2: {"ss1": "5dd5dedbcf2ce1375b24d63c5f6ba909ef1cdd0a99f84f2ab331d384d5171841",
        "ss2": "d9502561437542b6b6b9bad48a2cd009ee88c7fc29b459163720670c801c7ec1",
        "32px": "1795ecf359f4b468139a56f055d95b0d552b2e9aa50b3cb18e9cd89dd6d8e52c",
        "sample": "0e8c44b5af5eed07138aee0029f8ef6756e0b64285f0ae6496d97ddcb3ab7d3a"},
    3: {"ss1": "160645d2cdeb069fd3861d6d8bae1483c8a6770b19f32f5548fd915e184c284b",
        "ss2": "f9625472ce16c2aaa638d475342707ec106b174be151b91dc89ede1481fc7818",
        "32px": "61712c77dbb574ad07e571a0b5ab9277143ba5c2723e4bcacacc275a733e7c53",
        "sample": "4a068c1868eea8bddcfdc3f911bdf07942a5361bd5d3e2ed562611614881da80"},
}


def _golden_images(version):
    lab = s3.index_to_factors(np.random.default_rng(123).choice(s3.N_IMAGES, 96, replace=False))
    out = {"ss1": s3.render(lab, 64, 1, version=version), "ss2": s3.render(lab, 64, 2, version=version),
           "32px": s3.render(lab[:8], 32, 2, version=version)}
    out["sample"] = s3.sample(200, rng=0, cache=False, progress=False, version=version)[0]
    return out


def scene(**kw):
    lab = list(BASE)
    for k, v in kw.items():
        lab[s3.FACTOR_NAMES.index(k)] = v
    return np.array(lab, np.int64)


def object_mask(img):
    """Pixels of the blue (hue 0.7) object against red floor, cyan wall and sky."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return (b > 0.25) & (g < 0.15) & (r < 0.6 * b)


def test_versions_and_default():
    assert s3.RENDERER_VERSION in VERSIONS and VERSIONS == tuple(sorted(GEOMETRIES)) and len(VERSIONS) >= 2
    assert set(GOLDEN) == set(VERSIONS)  # every published version is frozen here
    lab = s3.index_to_factors(np.array([0, 99999, 250000, 479999]))
    np.testing.assert_array_equal(s3.render(lab), s3.render(lab, version=s3.RENDERER_VERSION))
    for bad in (0, 99, True, 1.0, "1"):
        with pytest.raises(ValueError, match="renderer versions"):
            s3.render(lab, version=bad)
        with pytest.raises(ValueError, match="renderer versions"):
            s3.sample(3, 0, cache=False, version=bad)


@pytest.mark.parametrize("version", sorted(GOLDEN))
def test_published_versions_render_byte_identical_images(version):
    s3._MEMO.clear()
    for name, img in _golden_images(version).items():
        assert hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest() == GOLDEN[version][name], name


def test_versions_differ_and_are_cached_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("REFMEM_CACHE_DIR", str(tmp_path))
    x = {v: s3.sample(20, 3, version=v)[0] for v in VERSIONS}
    names = sorted(os.listdir(tmp_path / "shapes3d"))
    assert [n.split("_")[1] for n in names] == [f"v{v}" for v in VERSIONS]
    for v in VERSIONS:
        np.testing.assert_array_equal(s3.sample(20, 3, version=v)[0], x[v])  # cache hit, its own file
        if v != VERSIONS[0]:
            assert np.abs(x[v] - x[VERSIONS[0]]).mean() > 0.01


@pytest.mark.parametrize("version", VERSIONS)
def test_every_factor_changes_the_image(version):
    for j, size in enumerate(s3.FACTOR_SIZES):
        lab = np.tile(np.array(BASE, np.int64), (size, 1))
        lab[:, j] = np.arange(size)
        img = s3.render(lab, version=version)
        d = np.abs(img[:, None] - img[None]).mean(axis=(2, 3, 4))
        off = d[~np.eye(size, dtype=bool)]
        assert off.min() > 1e-3, (s3.FACTOR_NAMES[j], off.min())


@pytest.mark.parametrize("version", VERSIONS)
def test_hues_colour_their_surfaces(version):
    """floor hue at the bottom, wall hue in the middle band, object hue at the object, sky at the top."""
    rng = np.random.default_rng(1)
    lab = s3.index_to_factors(rng.choice(s3.N_IMAGES, 40, replace=False))
    lab[:, 4] = np.minimum(lab[:, 4], 2)                          # no capsule reaching the top edge
    img = s3.render(lab, version=version)
    hue = lambda h: s3.hue_rgb(s3.FACTOR_VALUES[0][h])            # noqa: E731 (all hue factors share values)

    def direction(rgb):                                           # colour up to brightness
        rgb = np.asarray(rgb, np.float64)
        return rgb / max(rgb.max(), 1e-9)

    palette = np.stack([direction(hue(k)) for k in range(10)])

    def nearest_hue(rgb):                                         # robust to brightness and clipping
        return int(np.argmin(np.abs(palette - direction(rgb)).max(axis=1)))

    sky = np.array(s3.SKY_RGB, np.float32)
    for i in range(len(lab)):
        assert np.all(np.abs(img[i, 0] - sky) < 1e-6)
        for (y, x), col in (((63, 2), 0), ((28, 1), 1)):           # floor corner; wall at the left edge
            assert nearest_hue(img[i, y, x]) == lab[i, col], (i, s3.FACTOR_NAMES[col], img[i, y, x])
        obj = s3.render(np.r_[lab[i, :2], (lab[i, 2] + 5) % 10, lab[i, 3:]], version=version)[0]
        mask = np.abs(obj - img[i]).max(axis=-1) > 0.2             # where the object hue shows
        ys, xs = np.nonzero(mask)
        assert ys.size > 100 and 24 <= xs.mean() <= 40, i          # an object in the middle ...
        assert ys.mean() > 32, i                                   # ... standing on the floor
        assert nearest_hue(img[i][mask].mean(axis=0)) == lab[i, 2], i


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("shape", range(4))
def test_object_grows_with_scale(version, shape):
    for ori in (0, 7, 14):
        labs = np.stack([scene(scale=k, shape=shape, orientation=ori) for k in range(8)])
        area = object_mask(s3.render(labs, version=version)).sum(axis=(1, 2))
        assert np.all(np.diff(area) > 0), (version, shape, ori, area)
        # the image area scales as r^2, r = radius_per_scale (1 + scale_range (scale - 1))
        g = GEOMETRIES[version]
        r = 1.0 + g.scale_range * (s3.FACTOR_VALUES[3][[0, -1]] - 1.0)
        assert area[-1] / area[0] == pytest.approx((r[1] / r[0]) ** 2, rel=0.2), (version, shape, ori, area)


@pytest.mark.parametrize("version", VERSIONS)
def test_shapes_keep_their_meaning(version):
    """0 cube, 1 cylinder, 2 sphere, 3 capsule: silhouettes differ; the sphere is round, the capsule
    tall, the cube's outline turns with the orientation while the sphere's does not."""
    img = s3.render(np.stack([scene(shape=k) for k in range(4)]), version=version)
    masks = object_mask(img)
    for i in range(4):
        for j in range(i + 1, 4):
            assert (masks[i] ^ masks[j]).sum() >= 40, (i, j)
    h = masks.any(axis=2).sum(axis=1)
    w = masks.any(axis=1).sum(axis=1)
    assert abs(int(h[2]) - int(w[2])) <= 2                         # sphere
    assert h[3] > 1.5 * w[3] and h[3] > max(h[:3])                 # capsule: tall, the tallest
    assert h[1] > h[2] - 2 and abs(int(h[0]) - int(w[0])) <= 0.35 * w[0]
    turned = s3.render(np.stack([scene(shape=0, orientation=14), scene(shape=2, orientation=14)]), version=version)
    tm = object_mask(turned)
    assert (tm[0] ^ masks[0]).sum() > 20                           # the cube turns
    assert (tm[1] ^ masks[2]).sum() <= 5                           # a sphere looks the same


@pytest.mark.parametrize("version", VERSIONS)
def test_shadow_falls_right_back(version):
    for ori in (0, 7, 14):  # the cube hides part of its shadow, more at some orientations
        img = s3.render(scene(orientation=ori), version=version)[0]
        floor = (img[..., 0] > 0.05) & (img[..., 1] < 0.05) & (img[..., 2] < 0.05)  # red floor
        dark = floor & (img[..., 0] < 0.4)
        ys, xs = np.nonzero(dark)
        assert xs.size > 20 and np.mean(xs) > 34 and np.mean(ys) < 58, (version, ori, xs.size)


def test_consolidated_vae_cache_follows_the_default_renderer(tmp_path, monkeypatch):
    """A VAE consolidated on one renderer version's scenes is never reused for another's."""
    import dataclasses
    import json

    from refmem.experiments.consolidation.config import CONFIGS, config_json
    from refmem.experiments.trained_vae import vae_cache_dir

    monkeypatch.setenv("REFMEM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(s3, "RENDERER_VERSION", 1)
    v1 = vae_cache_dir("tiny", 0)
    key = hashlib.sha256(json.dumps(config_json(dataclasses.replace(CONFIGS["tiny"], seed=0)),
                                    sort_keys=True).encode()).hexdigest()[:10]
    assert v1.endswith(f"consolidation-tiny-seed0-{key}")          # version 1: the config alone
    for v in VERSIONS[1:]:
        monkeypatch.setattr(s3, "RENDERER_VERSION", v)
        assert vae_cache_dir("tiny", 0) != v1


def test_hybrid_stage_cache_follows_the_default_renderer(tmp_path, monkeypatch):
    """Staged hybrid VAEs trained on one renderer version's scenes are never reused for another's."""
    from refmem.experiments.hybrid import CONFIGS
    from refmem.experiments.hybrid.run import stage_dir

    monkeypatch.setenv("REFMEM_CACHE_DIR", str(tmp_path))
    folders = set()
    for v in VERSIONS:
        monkeypatch.setattr(s3, "RENDERER_VERSION", v)
        folders.add(stage_dir(CONFIGS["tiny"], "tiny"))
        assert stage_dir(CONFIGS["tiny"], "tiny") in folders  # stable for one version
    assert len(folders) == len(VERSIONS)
