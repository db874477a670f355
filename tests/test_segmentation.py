"""Colour k-means and the object-height measure of boundary extension (refmem.analysis.segmentation)."""
import numpy as np
import pytest

from refmem.analysis.segmentation import kmeans, kmeans_reference, object_height, quantize_colors, size_change


def _scene(top=20, bottom=44, noise=0.0, seed=0):
    """Sky / wall / floor bands and a red box spanning rows [top, bottom) around column 32."""
    img = np.zeros((64, 64, 3))
    img[:16] = (0.6, 0.9, 1.0)
    img[16:40] = (0.1, 0.8, 0.1)
    img[40:] = (0.9, 0.6, 0.1)
    img[top:bottom, 24:40] = (0.9, 0.0, 0.1)
    if noise:
        img = np.clip(img + np.random.default_rng(seed).normal(0, noise, img.shape), 0, 1)
    return img


def test_kmeans_matches_reference():
    x = _scene(noise=0.05).reshape(-1, 3) * 255
    c1, l1, k1 = kmeans(x, 5, rng=3)
    c2, l2, k2 = kmeans_reference(x, 5, rng=3)
    np.testing.assert_allclose(c1, c2, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(l1, l2)
    assert k1 == pytest.approx(k2, rel=1e-9)


def test_kmeans_finds_well_separated_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0], [100, 0, 0], [0, 100, 0]], float)
    x = np.concatenate([c + rng.normal(0, 1, (50, 3)) for c in centres])
    c, labels, comp = kmeans(x, 3, rng=1)
    assert len(np.unique(labels)) == 3
    for j in range(3):  # every true cluster is one k-means cluster
        assert len(np.unique(labels[j * 50:(j + 1) * 50])) == 1
    assert np.min(np.linalg.norm(c[:, None] - centres[None], axis=2), axis=0).max() < 1.0
    assert comp == pytest.approx(((x - c[labels]) ** 2).sum())


def test_quantize_colors_uses_k_colours():
    q = quantize_colors(_scene(noise=0.03), 5, rng=0)
    assert q.dtype == np.uint8 and q.shape == (64, 64, 3)
    assert len(np.unique(q.reshape(-1, 3), axis=0)) <= 5


@pytest.mark.parametrize("top,bottom", [(20, 44), (30, 50), (34, 46)])
def test_object_height_known_answer(top, bottom):
    assert object_height(_scene(top, bottom), rng=0) == bottom - top
    assert object_height(_scene(top, bottom, noise=0.02), rng=0) == bottom - top


def test_object_colour_is_the_majority_of_rows_32_to_50():
    # a 5-row box (rows 36-40) loses to the floor (rows 41-50) in rows 32-50: the height
    # measured is then the floor's (rows 40-63 have the floor colour, minus the box's row 40)
    assert object_height(_scene(36, 41), rng=0) == 64 - 41


def test_object_height_counts_the_whole_column():
    img = _scene(36, 44)
    img[2:6, 32] = (0.9, 0.0, 0.1)  # a patch of the object's colour far above it is counted too
    assert object_height(img, rng=0) == 8 + 4


def test_size_change():
    np.testing.assert_allclose(size_change([10, 20, 0], [12, 15, 5]), [0.2, -0.25, 0.0])
    with pytest.raises(ValueError, match="same shape"):
        size_change([1, 2], [1])
    with pytest.raises(ValueError, match=">= 0"):
        size_change([-1], [1])


def test_bad_input():
    with pytest.raises(ValueError, match="k = 5 exceeds"):
        kmeans(np.zeros((3, 3)), 5)
    with pytest.raises(ValueError):
        kmeans(np.zeros((10,)), 2)
    with pytest.raises(ValueError, match="3 colour channels"):
        quantize_colors(np.zeros((8, 8, 1)))
    with pytest.raises(ValueError, match="inside"):
        object_height(np.zeros((16, 16, 3)), column=32)
    with pytest.raises(ValueError):
        kmeans(np.full((10, 3), np.nan), 2)
