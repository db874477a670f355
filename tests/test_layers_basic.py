"""Dense, shape layers, activations and dropout: gradients, semantics, validation."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

from refmem.nn.gradcheck import check_layer
from refmem.nn.layers import (Dense, Dropout, Flatten, GlobalAveragePooling2D, LeakyReLU, ReLU, Reshape,
                           Sigmoid, UpSampling2D)

F64 = np.float64
TOL = 1e-6
seeds = st.integers(0, 2 ** 16)
dims = st.integers(1, 5)


def away_from_zero(rng, shape, margin=0.1):
    """Normal draws pushed at least ``margin`` away from the kink at 0."""
    x = rng.standard_normal(shape)
    return x + np.sign(x) * margin + (x == 0) * margin


@given(n=dims, i=dims, o=dims, seed=seeds)
def test_dense_forward_and_gradients(n, i, o, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(i, o, dtype=F64, rng=rng)
    layer.params["bias"][:] = rng.standard_normal(o)
    x = rng.standard_normal((n, i))
    y, _ = layer.forward(x)
    np.testing.assert_allclose(y, x @ layer.params["kernel"] + layer.params["bias"])
    errs = check_layer(layer, x, rng)
    assert max(errs.values()) < TOL, errs


@given(n=dims, h=dims, w=dims, c=dims, uh=st.integers(1, 3), uw=st.integers(1, 3), seed=seeds)
def test_upsampling_nearest_and_gradient(n, h, w, c, uh, uw, seed):
    rng = np.random.default_rng(seed)
    layer = UpSampling2D((h, w, c), (uh, uw), dtype=F64)
    x = rng.standard_normal((n, h, w, c))
    y, _ = layer.forward(x)
    np.testing.assert_array_equal(y, np.repeat(np.repeat(x, uh, axis=1), uw, axis=2))
    assert check_layer(layer, x, rng)["x"] < TOL


@given(n=dims, h=dims, w=dims, c=dims, seed=seeds)
def test_gap_flatten_reshape(n, h, w, c, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c))
    gap = GlobalAveragePooling2D((h, w, c), dtype=F64)
    np.testing.assert_allclose(gap.forward(x)[0], x.mean(axis=(1, 2)))
    flat = Flatten((h, w, c), dtype=F64)
    np.testing.assert_array_equal(flat.forward(x)[0], x.reshape(n, -1))
    resh = Reshape((h, w, c), (c, h * w), dtype=F64)
    np.testing.assert_array_equal(resh.forward(x)[0], x.reshape(n, c, h * w))
    for layer in (gap, flat, resh):
        assert check_layer(layer, x, rng)["x"] < TOL


def test_reshape_size_mismatch():
    with pytest.raises(ValueError, match="elements"):
        Reshape((4, 4, 2), (4, 4, 3))


@given(n=dims, d=dims, alpha=st.sampled_from([0.3, 0.01, 0.2]), seed=seeds)
def test_leaky_relu_and_relu(n, d, alpha, seed):
    rng = np.random.default_rng(seed)
    x = away_from_zero(rng, (n, d, 2))
    lrelu = LeakyReLU((d, 2), alpha, dtype=F64)
    np.testing.assert_allclose(lrelu.forward(x)[0], np.where(x > 0, x, alpha * x))
    relu = ReLU((d, 2), dtype=F64)
    np.testing.assert_allclose(relu.forward(x)[0], np.maximum(x, 0))
    assert check_layer(lrelu, x, rng)["x"] < TOL
    assert check_layer(relu, x, rng)["x"] < TOL


def test_leaky_relu_default_slope_is_keras():
    assert LeakyReLU((3,)).alpha == 0.3


@given(n=dims, d=dims, seed=seeds)
def test_sigmoid_gradient(n, d, seed):
    rng = np.random.default_rng(seed)
    layer = Sigmoid((d,), dtype=F64)
    x = 3 * rng.standard_normal((n, d))
    np.testing.assert_allclose(layer.forward(x)[0], 1 / (1 + np.exp(-x)))
    assert check_layer(layer, x, rng)["x"] < TOL


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_stable_for_large_inputs(dtype):
    layer = Sigmoid((4,), dtype=dtype)
    x = np.array([[-1e4, -800.0, 800.0, 1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, cache = layer.forward(x)
        dx = layer.backward(np.ones_like(x), cache)
    assert y.dtype == dtype and np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    np.testing.assert_array_equal(y, np.array([[0, 0, 1, 1]], dtype))


def test_dropout_as_run_is_identity():
    layer = Dropout((10,), 0.5, dtype=F64)
    x = np.random.default_rng(0).standard_normal((4, 10))
    for train in (False, True):
        y, cache = layer.forward(x, train=train, rng=1)
        np.testing.assert_array_equal(y, x)
        np.testing.assert_array_equal(layer.backward(np.ones_like(x), cache), np.ones_like(x))


def test_dropout_batch_mode():
    layer = Dropout((1000,), 0.2, mode="batch", dtype=F64)
    x = np.ones((20, 1000))
    np.testing.assert_array_equal(layer.forward(x, train=False)[0], x)
    with pytest.raises(ValueError, match="rng"):
        layer.forward(x, train=True)
    y, cache = layer.forward(x, train=True, rng=np.random.default_rng(3))
    kept = y != 0
    assert abs(kept.mean() - 0.8) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.8)  # inverted dropout: E[y] = x
    y2, _ = layer.forward(x, train=True, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(y, y2)  # reproducible from the rng
    dx = layer.backward(np.full_like(x, 2.0), cache)
    np.testing.assert_array_equal(dx, 2 * y)
    assert check_layer(Dropout((5,), 0.5, "batch", F64), np.ones((3, 5)), 0, train=True,
                       forward_rng_seed=7)["x"] < TOL


@given(n=dims, d=dims, rate=st.sampled_from([0.0, 0.1, 0.5, 0.9]), seed=seeds)
def test_dropout_batch_mode_gradient(n, d, rate, seed):
    rng = np.random.default_rng(seed)
    layer = Dropout((d, 2), rate, "batch", F64)
    x = rng.standard_normal((n, d, 2))
    assert check_layer(layer, x, rng, train=True, forward_rng_seed=seed)["x"] < TOL
    y, cache = layer.forward(x, train=True, rng=np.random.default_rng(seed))
    keep = y != 0
    np.testing.assert_allclose(y[keep], x[keep] / (1 - rate))  # inverted scaling


@pytest.mark.parametrize("rate", [-0.1, 1.0, 2])
def test_dropout_bad_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        Dropout((3,), rate)


@pytest.mark.parametrize("make, shape", [
    (lambda: Dense(4, 3, dtype=F64), (4,)),
    (lambda: UpSampling2D((2, 3, 4), dtype=F64), (2, 3, 4)),
    (lambda: GlobalAveragePooling2D((2, 3, 4), dtype=F64), (2, 3, 4)),
    (lambda: Flatten((2, 3, 4), dtype=F64), (2, 3, 4)),
    (lambda: LeakyReLU((2, 3, 4), dtype=F64), (2, 3, 4)),
    (lambda: Sigmoid((2, 3, 4), dtype=F64), (2, 3, 4)),
    (lambda: Dropout((2, 3, 4), 0.1, dtype=F64), (2, 3, 4)),
])
def test_bad_input_names_expected_shape(make, shape):
    layer = make()
    want = r"\(N, " + ", ".join(map(str, shape)) + r"\)"
    with pytest.raises(ValueError, match=want):
        layer.forward(np.zeros((2,) + shape[:-1] + (shape[-1] + 1,)))
    with pytest.raises(ValueError, match=want):
        layer.forward(np.zeros(shape))
    with pytest.raises(TypeError, match="dtype"):
        layer.forward(np.zeros((2,) + shape, np.float32))
    with pytest.raises(TypeError, match="dtype"):
        layer.forward(np.zeros((2,) + shape, np.int64))
