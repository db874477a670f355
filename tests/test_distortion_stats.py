"""Variance statistics of prototypical distortion (refmem.analysis.distortion), against hand computation."""
import math

import numpy as np
import pytest
from scipy import stats

from refmem.analysis.distortion import class_means, class_pixel_variance, paired_test, prototype_distance


def test_class_pixel_variance_by_hand():
    x = np.array([[[0.0, 1.0]], [[2.0, 1.0]], [[4.0, 1.0]], [[1.0, 0.0]], [[1.0, 2.0]]])  # (5, 1, 2)
    y = np.array([0, 0, 0, 1, 1])
    v = class_pixel_variance(x, y)
    # class 0: pixel 0 values 0, 2, 4 -> mean 2, population variance (4 + 0 + 4) / 3; pixel 1 constant
    # class 1: pixel 0 constant; pixel 1 values 0, 2 -> variance 1
    np.testing.assert_allclose(v, [[8 / 3, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(class_means(x, y), [[2.0, 1.0], [1.0, 1.0]])


def test_paired_test_by_hand():
    before = np.array([1.0, 2.0, 3.0, 4.0])
    after = np.array([0.5, 1.5, 3.5, 2.0])
    d = after - before  # -0.5, -0.5, 0.5, -2.0
    mean = d.mean()
    sd1 = math.sqrt(((d - mean) ** 2).sum() / 3)
    r = paired_test(before, after)
    assert r["mean_diff"] == pytest.approx(mean)
    assert r["t"] == pytest.approx(mean / (sd1 / 2))
    assert r["p"] == pytest.approx(2 * stats.t.sf(abs(r["t"]), 3))
    half = stats.t.ppf(0.975, 3) * sd1 / 2
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((mean - half, mean + half))
    assert r["cohens_d"] == pytest.approx(mean / d.std())  # population sd
    assert r["df"] == 3 and r["n"] == 4


def test_paired_test_identity_is_no_change():
    v = np.random.default_rng(0).random((3, 5))
    r = paired_test(v, v)
    assert (r["t"], r["p"], r["cohens_d"]) == (0.0, 1.0, 0.0)


def test_prototype_distance():
    x = np.array([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0], [5.0, 7.0]])
    y = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(prototype_distance(x, y), [1.0, 1.0, 1.0, 1.0])
    shrunk = np.array([[1.0, 0.0], [1.0, 0.0], [5.0, 6.0], [5.0, 6.0]])
    np.testing.assert_allclose(prototype_distance(shrunk, y, reference=x), 0.0)


def test_bad_input():
    with pytest.raises(ValueError, match="same size"):
        paired_test([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        paired_test([1.0], [1.0])
    with pytest.raises(ValueError, match="confidence"):
        paired_test([1.0, 2.0], [1.0, 3.0], confidence=1.5)
    with pytest.raises(ValueError):
        class_pixel_variance(np.zeros((3, 4)), np.array([0, 1]))
    with pytest.raises(TypeError):
        class_pixel_variance(np.zeros((2, 4)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="no images"):
        class_pixel_variance(np.zeros((2, 4)), np.array([0, 0]), classes=[0, 1])
