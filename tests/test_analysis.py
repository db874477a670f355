"""Tests of the analysis statistics: PCA, neighbour agreement, silhouette, Spearman,
SEM and nearest-reference distances."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refmem.analysis.stats as analysis
from refmem.analysis.stats import (knn_agreement, nearest_distance, pca, sem, silhouette_score,
                             spearman)


def _clusters(n, rng, n_classes=4, sep=20.0, d=5):
    labels = rng.integers(0, n_classes, n)
    centers = sep * rng.normal(size=(n_classes, d))
    return centers[labels] + rng.normal(size=(n, d)), labels


@pytest.fixture
def small_blocks(monkeypatch):
    """Force many tiny distance blocks, to exercise the chunked code paths."""
    monkeypatch.setattr(analysis, "_BLOCK_ELEMENTS", 37)


# ---------------------------------------------------------------- PCA
def test_pca_known_axes():
    # 4 points +-5 e1, +-2 e2 (mean 0), rotated by an orthogonal R and shifted.
    # Variances along the axes are 50/4 and 8/4, so the ratios are 50/58 and 8/58, and
    # the components are the first two rows of R (up to sign).
    R, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    base = np.array([[5.0, 0, 0], [-5.0, 0, 0], [0, 2.0, 0], [0, -2.0, 0]])
    X = base @ R + np.array([1.0, -2.0, 3.0])
    proj, comps, ratio = pca(X, 2)
    np.testing.assert_allclose(np.abs(np.sum(comps * R[:2], axis=1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(ratio, [50 / 58, 8 / 58], atol=1e-12)
    np.testing.assert_allclose(np.abs(proj), np.abs(base[:, :2]), atol=1e-12)
    np.testing.assert_allclose(comps @ comps.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(proj @ comps + X.mean(0), X, atol=1e-12)  # rank 2: exact
    # sign convention: the largest-magnitude entry of each component is positive
    assert np.all(comps[np.arange(2), np.argmax(np.abs(comps), 1)] > 0)


def test_pca_dtype_and_validation():
    X = np.random.default_rng(1).normal(size=(20, 6)).astype(np.float32)
    proj, comps, ratio = pca(X)
    assert proj.dtype == np.float32 and comps.dtype == np.float32 and proj.shape == (20, 2)
    assert np.all(np.diff(ratio) <= 0) and ratio.sum() <= 1 + 1e-12
    with pytest.raises(ValueError, match="n_components"):
        pca(X, 7)
    with pytest.raises(ValueError, match="NaN"):
        pca(np.full((3, 3), np.nan))


# ---------------------------------------------------------------- neighbours
def test_knn_agreement_separated_and_random(small_blocks):
    rng = np.random.default_rng(2)
    X, labels = _clusters(300, rng)
    assert knn_agreement(X, labels, k=5) == 1.0
    # random balanced labels: expected agreement sum_c p_c^2 = 1/4
    X = rng.normal(size=(1000, 5))
    labels = np.arange(1000) % 4
    assert knn_agreement(X, labels, k=5) == pytest.approx(0.25, abs=0.03)


def test_knn_agreement_by_hand():
    # points 0, 1, 2 (label a) and 10, 11 (label b), k = 1: every nearest neighbour shares
    # the label -> 1. With k = 2 the point 2 has neighbours 1 and 0 (both a); 10 has 11 (b)
    # and 2 (a) -> 1/2; 11 has 10 and 2 -> 1/2; 0 and 1 get 1. Mean = (1+1+1+.5+.5)/5 = 0.8
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    labels = np.array(["a", "a", "a", "b", "b"])
    assert knn_agreement(X, labels, k=1) == 1.0
    assert knn_agreement(X, labels, k=2) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="k must"):
        knn_agreement(X, labels, k=5)
    with pytest.raises(ValueError, match="labels"):
        knn_agreement(X, labels[:4])


# ---------------------------------------------------------------- silhouette
def test_silhouette_by_hand(small_blocks):
    # 1-D points 0, 1 (A) and 4, 6 (B):
    #   x=0: a = 1,  b = (4 + 6)/2 = 5,   s = (5 - 1)/5     = 0.8
    #   x=1: a = 1,  b = (3 + 5)/2 = 4,   s = (4 - 1)/4     = 0.75
    #   x=4: a = 2,  b = (4 + 3)/2 = 3.5, s = (3.5 - 2)/3.5 = 3/7
    #   x=6: a = 2,  b = (6 + 5)/2 = 5.5, s = (5.5 - 2)/5.5 = 7/11
    X = np.array([[0.0], [1.0], [4.0], [6.0]])
    expected = (0.8 + 0.75 + 3 / 7 + 7 / 11) / 4
    assert silhouette_score(X, [0, 0, 1, 1]) == pytest.approx(expected, abs=1e-12)
    # a singleton cluster contributes s = 0: 0, 1 (A) and 10 (B)
    #   x=0: a = 1, b = 10, s = 0.9;  x=1: a = 1, b = 9, s = 8/9;  x=10: s = 0
    X = np.array([[0.0], [1.0], [10.0]])
    assert silhouette_score(X, [0, 0, 1]) == pytest.approx((0.9 + 8 / 9 + 0) / 3, abs=1e-12)


def test_silhouette_separated_and_invalid():
    rng = np.random.default_rng(3)
    X, labels = _clusters(200, rng, sep=50.0)
    assert silhouette_score(X, labels) > 0.8
    with pytest.raises(ValueError, match="distinct"):
        silhouette_score(X, np.zeros(200, dtype=int))
    with pytest.raises(ValueError, match="distinct"):
        silhouette_score(X[:3], [0, 1, 2])


# ---------------------------------------------------------------- spearman, sem
@settings(max_examples=30)
@given(st.lists(st.integers(-1000, 1000), min_size=3, max_size=30, unique=True))
def test_spearman_monotone_is_pm_one(xs):
    x = np.array(xs, dtype=float)
    rho, p = spearman(x, np.exp(x / 100) + x ** 3)  # strictly increasing transform
    assert rho == pytest.approx(1.0)
    assert spearman(x, -x)[0] == pytest.approx(-1.0)
    assert 0.0 <= p <= 1.0 and isinstance(rho, float) and isinstance(p, float)


def test_spearman_constant_and_invalid():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rho, p = spearman([1, 1, 1, 1], [1, 2, 3, 4])
    assert np.isnan(rho) and np.isnan(p)
    assert spearman([1, 2], [5, 3]) == (-1.0, 1.0)
    with pytest.raises(ValueError, match="same shape"):
        spearman([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="NaN"):
        spearman([1, np.nan, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="at least 2"):
        spearman([1], [1])


def test_sem():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    # population sd = sqrt(mean((x - 2.5)^2)) = sqrt(1.25); sem = sqrt(1.25) / 2
    assert sem(x) == pytest.approx(np.sqrt(1.25) / 2)
    # ddof = 1: sample sd = sqrt(5/3)
    assert sem(x, ddof=1) == pytest.approx(np.sqrt(5 / 3) / 2)
    np.testing.assert_allclose(sem(np.stack([x, 2 * x]), axis=1), [np.sqrt(1.25) / 2, np.sqrt(5) / 2])
    with pytest.raises(ValueError, match="ddof"):
        sem([1.0], ddof=1)
    with pytest.raises(ValueError, match="NaN"):
        sem([1.0, np.nan])


# ---------------------------------------------------------------- nearest distance
@pytest.mark.parametrize("blocks", [False, True])
def test_nearest_distance_matches_brute_force(blocks, monkeypatch):
    if blocks:
        monkeypatch.setattr(analysis, "_BLOCK_ELEMENTS", 50)
    rng = np.random.default_rng(4)
    Q = rng.random((7, 4, 4, 3)).astype(np.float32)
    R = rng.random((11, 4, 4, 3))
    diff = Q.astype(np.float64)[:, None] - R[None]
    for metric, m in [("mae", np.abs(diff).mean((2, 3, 4))),
                      ("mse", (diff ** 2).mean((2, 3, 4))),
                      ("euclidean", np.sqrt((diff ** 2).sum((2, 3, 4))))]:
        d, idx = nearest_distance(Q, R, metric=metric, return_index=True)
        np.testing.assert_allclose(d, m.min(1), rtol=1e-6, atol=1e-9)
        np.testing.assert_array_equal(idx, m.argmin(1))


def test_nearest_distance_by_hand_and_invalid():
    # query [0, 0] vs references [1, 3] (MAE 2) and [0.5, -0.5] (MAE 0.5): nearest = 0.5
    d = nearest_distance(np.zeros((1, 2)), np.array([[1.0, 3.0], [0.5, -0.5]]))
    np.testing.assert_allclose(d, [0.5])
    with pytest.raises(ValueError, match="trailing shape"):
        nearest_distance(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="metric"):
        nearest_distance(np.zeros((2, 3)), np.zeros((2, 3)), metric="cosine")
