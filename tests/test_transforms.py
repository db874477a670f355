"""Tests of refmem.datasets.transforms (the paper's stimulus manipulations)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refmem.datasets import transforms as T


def _images(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def _centred_square(size=64, half=12):
    x = np.zeros((size, size, 3))
    c = size // 2
    x[c - half:c + half, c - half:c + half] = 1.0
    return x


# --------------------------------------------------------------------------- noise
@settings(max_examples=30)
@given(f=st.floats(0.0, 1.0), n=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_noise_zeroes_exactly_int_size_f_elements(f, n, seed):
    x = _images((n, 8, 8, 3), seed) * 0.9 + 0.05  # strictly positive input
    out = T.noise(x, f, rng=seed)
    assert out.shape == x.shape and out.dtype == x.dtype
    zeroed = np.count_nonzero(out == 0)
    assert zeroed == int(x.size * f)
    kept = out != 0
    np.testing.assert_array_equal(out[kept], x[kept])


def test_noise_gaussian_changes_exact_count_and_clips():
    x = np.full((2, 16, 16, 3), 0.123456, dtype=np.float32)
    out = T.noise(x, 0.3, rng=1, mode="gaussian")
    assert out.dtype == np.float32
    assert np.count_nonzero(out != x) == int(x.size * 0.3)
    assert out.min() >= 0 and out.max() <= 1
    # N(0.5, 1) draws clipped: both bounds are hit
    assert np.any(out == 0) and np.any(out == 1)


def test_noise_clips_input_and_does_not_modify_it():
    x = np.linspace(-1, 2, 60).reshape(3, 4, 5)
    before = x.copy()
    out = T.noise(x, 0.0, rng=0)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(out, np.clip(x, 0, 1))


def test_noise_reproducible_by_seed():
    x = _images((4, 8, 8, 3))
    np.testing.assert_array_equal(T.noise(x, 0.1, rng=5), T.noise(x, 0.1, rng=5))
    assert not np.array_equal(T.noise(x, 0.1, rng=5), T.noise(x, 0.1, rng=6))


def test_noise_channels_chosen_independently():
    # with f = 0.5 on many pixels, some pixels lose only some of their channels
    x = np.ones((1, 32, 32, 3))
    zero = T.noise(x, 0.5, rng=0) == 0
    per_pixel = zero.sum(axis=-1)
    assert np.any(per_pixel == 1) and np.any(per_pixel == 2)


@pytest.mark.parametrize("f", [-0.1, 1.5, float("nan")])
def test_noise_bad_fraction(f):
    with pytest.raises(ValueError):
        T.noise(np.zeros((2, 2, 1)), f, rng=0)


def test_noise_bad_mode_and_types():
    with pytest.raises(ValueError):
        T.noise(np.zeros((2, 2, 1)), 0.1, rng=0, mode="salt")
    with pytest.raises(TypeError):
        T.noise(np.zeros((2, 2, 1)), "0.1", rng=0)
    with pytest.raises(ValueError):
        T.noise(np.array([0.5, np.nan]), 0.1, rng=0)


# --------------------------------------------------------------------------- zoom
def test_border_widths_of_paper_zoom_levels():
    assert [T.border_width(z) for z in range(80, 121, 5)] == [8, 5, 3, 1, 0, 1, 2, 4, 5]
    assert T.PAPER_ZOOM_LEVELS == tuple(range(80, 121, 5))


def test_border_width_generalises_with_image_size():
    # H/2 / (z/100) - H/2 for H = 128 is twice the 64-pixel value before truncation
    assert T.border_width(80, image_size=128) == 16
    assert T.border_width(100, image_size=28) == 0
    with pytest.raises(ValueError):
        T.border_width(0)
    with pytest.raises(ValueError):
        T.border_width(-50)
    with pytest.raises(ValueError):
        T.border_width(90, image_size=0)


@pytest.mark.parametrize("z", T.PAPER_ZOOM_LEVELS)
def test_zoom_shape_dtype_range(z):
    x = _images((2, 64, 64, 3), dtype=np.float32)
    out = T.zoom(x, z)
    assert out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    single = T.zoom(x[0], z)
    np.testing.assert_allclose(single, out[0], atol=1e-6)


def test_zoom_100_is_identity():
    x = _images((64, 64, 3))
    out = T.zoom(x, 100)
    np.testing.assert_array_equal(out, x)
    assert out is not x


def test_resize_same_size_is_identity_and_constant_preserved():
    x = _images((3, 20, 20, 2))
    np.testing.assert_allclose(T.resize_bicubic(x, 20, 20), x, atol=1e-12)
    c = np.full((10, 13, 1), 0.3)
    out = T.resize_bicubic(c, 17, 7)
    assert out.shape == (17, 7, 1)
    np.testing.assert_allclose(out, 0.3, atol=1e-12)


@pytest.mark.parametrize("shape_in, shape_out", [((80, 80), (64, 64)), ((54, 54), (64, 64)),
                                                ((20, 13), (17, 7))])
def test_resize_matches_pillow_bicubic(shape_in, shape_out):
    # the docstring's claim: PIL.Image.resize(BICUBIC), here on float ("F") images so
    # that no uint8 rounding intervenes; Pillow computes in float32.
    Image = pytest.importorskip("PIL.Image")
    x = np.random.default_rng(0).random(shape_in).astype(np.float32)
    ref = np.asarray(Image.fromarray(x, mode="F").resize(shape_out[::-1], Image.BICUBIC))
    ours = T.resize_bicubic(x[:, :, None].astype(np.float64), *shape_out)[:, :, 0]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)


def _object_height(img):
    return int(np.count_nonzero(img[:, img.shape[1] // 2, 0] > 0.5))


def test_zoom_out_shrinks_and_zoom_in_enlarges_the_object():
    x = _centred_square(64, half=12)  # 24 px tall
    h0 = _object_height(x)
    heights = [_object_height(T.zoom(x, z)) for z in T.PAPER_ZOOM_LEVELS]
    assert heights[4] == h0
    assert heights[0] < h0 < heights[-1]
    assert all(a <= b for a, b in zip(heights, heights[1:]))  # monotone in z
    # the object scales by about H / (H + 2b) (zoom out) or H / (H - 2b) (zoom in)
    assert abs(heights[0] - 24 * 64 / 80) <= 1.5
    assert abs(heights[-1] - 24 * 64 / 54) <= 1.5


def test_zoom_quantized_outputs_are_uint8_levels():
    x = _images((64, 64, 3))
    out = T.zoom(x, 85, quantize=True)
    np.testing.assert_allclose(out * 255, np.round(out * 255), atol=1e-9)
    np.testing.assert_allclose(T.zoom(x, 100, quantize=True), np.floor(x * 255) / 255)


def test_zoom_bad_input():
    with pytest.raises(ValueError):
        T.zoom(np.full((8, 8, 3), 1.5), 90)
    with pytest.raises(ValueError):
        T.zoom(np.zeros((8, 8)), 90)
    with pytest.raises(ValueError):
        T.zoom(np.zeros((8, 8, 3)), 0)
    with pytest.raises(ValueError):
        T.zoom(np.zeros((8, 8, 3)), float("nan"))
    with pytest.raises(TypeError):
        T.zoom(np.zeros((8, 8, 3)), None)
    # zooming in never crops everything: b = int(H/2 - H/2 * 100/z) < H/2
    assert T.zoom(np.ones((8, 8, 3)), 1e6).shape == (8, 8, 3)


# --------------------------------------------------------------------------- squares
def test_paper_squares_are_the_papers_draws():
    alphas = [a for a, _, _ in T.PAPER_SQUARES]
    np.testing.assert_allclose(alphas, [0.5098, 0.1255, 0.7333], atol=5e-5)
    assert [(c, r) for _, c, r in T.PAPER_SQUARES] == [(3, 26), (11, 41), (7, 43)]


def test_white_square_blending_exact():
    x = np.full((1, 16, 16, 3), 0.2)
    out = T.add_white_squares(x, [(0.25, 2, 5)], size=4)
    expect = x.copy()
    expect[:, 5:9, 2:6] = 0.25 + 0.75 * 0.2
    np.testing.assert_allclose(out, expect, atol=1e-15)
    np.testing.assert_array_equal(x, 0.2)  # input untouched


def test_overlapping_squares_blend_in_order_and_clip_at_edge():
    x = np.zeros((10, 10, 1))
    out = T.add_white_squares(x, [(0.5, 0, 0), (0.5, 2, 2), (1.0, 8, 8)], size=4)
    assert out[0, 0, 0] == 0.5
    assert out[3, 3, 0] == 0.75  # 0.5 + 0.5 * 0.5
    assert out[5, 5, 0] == 0.5
    assert out[9, 9, 0] == 1.0 and out[8:, 8:].size == 4  # clipped 2x2
    assert out[7, 7, 0] == 0.0


def test_white_squares_quantized_matches_uint8_pipeline():
    x = _images((2, 64, 64, 3), seed=3)
    out = T.add_white_squares(x, T.PAPER_SQUARES, quantize=True)
    im = (x * 255).astype(np.uint8)
    for a, c, r in T.PAPER_SQUARES:
        patch = im[:, r:r + 8, c:c + 8]
        im[:, r:r + 8, c:c + 8] = (255 * a + patch * (1 - a)).astype(np.uint8)
    np.testing.assert_array_equal(out, im / 255)


def test_white_squares_preserve_dtype_and_validate():
    x = _images((64, 64, 3), dtype=np.float32)
    assert T.add_white_squares(x).dtype == np.float32
    with pytest.raises(ValueError):
        T.add_white_squares(x, [(1.5, 0, 0)])
    with pytest.raises(ValueError):
        T.add_white_squares(x, [(0.5, 0)])
    with pytest.raises(TypeError):
        T.add_white_squares(x, [(0.5, 1.5, 0)])
    with pytest.raises(ValueError):
        T.add_white_squares(x, size=0)


# --------------------------------------------------------------------------- Carmichael
def test_disc_mask_matches_pixel_inclusive_ellipse():
    m = T.disc_mask(64, 64, (32, 45), 15)
    assert m.sum() == 749  # Pillow's ellipse((17, 30, 47, 60)) fill
    rows, cols = np.nonzero(m)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (30, 60, 17, 47)


def test_carmichael_blurs_inside_disc_only_and_pastes_square():
    x = np.zeros((64, 64, 3))
    x[::2] = 1.0  # stripes: blur changes them
    out = T.carmichael_stimulus(x, square=(0, 0))
    inside = T.disc_mask(64, 64, (32, 45), 15)
    outside = ~inside
    outside[:8, :8] = False
    np.testing.assert_array_equal(out[outside], x[outside])
    assert np.all(np.abs(out[inside] - 0.5) < 0.2)  # stripes averaged out
    np.testing.assert_array_equal(out[:8, :8], 1.0)


def test_carmichael_random_square_reproducible_and_batched():
    x = np.zeros((3, 64, 64, 3), dtype=np.float32)
    a = T.carmichael_stimulus(x, rng=7)
    b = T.carmichael_stimulus(x, rng=7)
    assert a.dtype == np.float32 and a.shape == x.shape
    np.testing.assert_array_equal(a, b)
    for img in a:  # exactly one opaque square per image (clipped at most to 1 px)
        n_white = np.count_nonzero(img[..., 0] == 1)
        assert 1 <= n_white <= 64


def test_carmichael_bad_input():
    x = np.zeros((64, 64, 3))
    with pytest.raises(ValueError):
        T.carmichael_stimulus(x, radius=-1, square=(0, 0))
    with pytest.raises(ValueError):
        T.carmichael_stimulus(x, square=(0,))
    with pytest.raises(ValueError):
        T.carmichael_stimulus(x, blur_sigma=float("inf"), square=(0, 0))
