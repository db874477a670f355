"""BatchNorm: the paper's as-run affine map and the intended batch-statistics variant."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from refmem.nn.gradcheck import check_layer
from refmem.nn.layers import BatchNorm

F64 = np.float64
TOL = 1e-6
seeds = st.integers(0, 2 ** 16)


def _randomise(layer, rng):
    layer.params["gamma"][:] = rng.uniform(0.5, 1.5, layer.params["gamma"].shape)
    layer.params["beta"][:] = rng.standard_normal(layer.params["beta"].shape)


def test_as_run_defaults_are_frozen_affine():
    layer = BatchNorm((3, 3, 4), dtype=F64)
    assert layer.mode == "as_run" and layer.momentum == 0.99 and layer.eps == 1e-3
    x = np.random.default_rng(0).standard_normal((5, 3, 3, 4)) * 3 + 2
    for train in (False, True):
        y, _ = layer.forward(x, train=train)
        np.testing.assert_allclose(y, x / np.sqrt(1.001), rtol=1e-14)  # y = gamma x / sqrt(1.001) + beta
    np.testing.assert_array_equal(layer.buffers["moving_mean"], 0)
    np.testing.assert_array_equal(layer.buffers["moving_variance"], 1)


@given(n=st.integers(1, 3), h=st.integers(1, 3), c=st.integers(1, 3), seed=seeds)
def test_as_run_gradients_with_nontrivial_buffers(n, h, c, seed):
    rng = np.random.default_rng(seed)
    layer = BatchNorm((h, h, c), dtype=F64)
    _randomise(layer, rng)
    layer.buffers["moving_mean"][:] = rng.standard_normal(c)
    layer.buffers["moving_variance"][:] = rng.uniform(0.5, 2, c)
    x = rng.standard_normal((n, h, h, c))
    y, _ = layer.forward(x, train=True)
    m, v = layer.buffers["moving_mean"], layer.buffers["moving_variance"]
    np.testing.assert_allclose(y, layer.params["gamma"] * (x - m) / np.sqrt(v + 1e-3) + layer.params["beta"])
    errs = check_layer(layer, x, rng, train=True)
    assert max(errs.values()) < TOL, errs


@given(n=st.integers(2, 4), h=st.integers(1, 3), c=st.integers(1, 3), seed=seeds)
def test_batch_mode_gradients_through_statistics(n, h, c, seed):
    rng = np.random.default_rng(seed)
    layer = BatchNorm((h, h, c), mode="batch", dtype=F64)
    _randomise(layer, rng)
    x = rng.standard_normal((n, h, h, c)) * 2 + 1
    # with two samples per channel the normalised output hardly depends on x, so the true
    # input gradient can be ~1e-6; the step 1e-4 keeps the difference quotient's roundoff
    # (~1e-16 / h) far below it, and its truncation error (~h^2) too
    errs = check_layer(layer, x, rng, train=True, h=1e-4)
    assert max(errs.values()) < TOL, errs


@given(n=st.integers(2, 6), d=st.integers(1, 4), seed=seeds)
def test_batch_mode_dense_input_gradients(n, d, seed):
    rng = np.random.default_rng(seed)
    layer = BatchNorm((d,), mode="batch", dtype=F64)
    _randomise(layer, rng)
    errs = check_layer(layer, rng.standard_normal((n, d)), rng, train=True)
    assert max(errs.values()) < TOL, errs


def test_batch_mode_normalises_and_updates_buffers():
    rng = np.random.default_rng(1)
    layer = BatchNorm((4, 4, 3), mode="batch", dtype=F64)
    x = rng.standard_normal((8, 4, 4, 3)) * np.array([1.0, 5.0, 0.1]) + np.array([3.0, -2.0, 0.5])
    y, _ = layer.forward(x, train=True)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    var = x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), var / (var + 1e-3), rtol=1e-12)  # ~1
    np.testing.assert_allclose(layer.buffers["moving_mean"], 0.01 * x.mean(axis=(0, 1, 2)))
    # image input: Keras runs TF's fused kernel, which feeds the *unbiased* batch
    # variance (M = 8*4*4 = 128 elements per channel) to the moving average
    np.testing.assert_allclose(layer.buffers["moving_variance"], 0.99 + 0.01 * var * 128 / 127)
    # train=False uses the buffers
    y_inf, _ = layer.forward(x, train=False)
    m, v = layer.buffers["moving_mean"], layer.buffers["moving_variance"]
    np.testing.assert_allclose(y_inf, (x - m) / np.sqrt(v + 1e-3))


def test_batch_mode_dense_input_moving_variance_is_biased():
    # Keras's non-fused path (2-D input): tf.nn.moments, biased variance, momentum 0.99
    rng = np.random.default_rng(2)
    layer = BatchNorm((3,), mode="batch", dtype=F64)
    x = rng.standard_normal((5, 3)) * np.array([1.0, 2.0, 3.0])
    y, _ = layer.forward(x, train=True)
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["moving_mean"], 0.01 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["moving_variance"], 0.99 + 0.01 * x.var(0), rtol=1e-12)
    # a single element per channel: Bessel's factor is 1 (TF: M / max(M - 1, 1))
    img = BatchNorm((1, 1, 2), mode="batch", dtype=F64)
    img.forward(np.array([[[[3.0, -1.0]]]]), train=True)
    np.testing.assert_array_equal(img.buffers["moving_variance"], [0.99, 0.99])


def test_batch_mode_moving_statistics_over_steps_worked_example():
    # two training steps on a (1, 2, 1, 1) image batch, then inference with the buffers:
    # step 1: x = (1, 3): mu = 2, biased var = 1, unbiased 2 -> m = 0.02, v = 0.99 + 0.02 = 1.01
    # step 2: x = (0, 4): mu = 2, biased var = 4, unbiased 8 -> m = 0.0398, v = 0.9999 + 0.08
    layer = BatchNorm((2, 1, 1), mode="batch", dtype=F64)
    y1, _ = layer.forward(np.array([1.0, 3.0]).reshape(1, 2, 1, 1), train=True)
    np.testing.assert_allclose(y1.ravel(), np.array([-1.0, 1.0]) / np.sqrt(1.001), rtol=1e-14)
    np.testing.assert_allclose(layer.buffers["moving_mean"], [0.02], rtol=1e-14)
    np.testing.assert_allclose(layer.buffers["moving_variance"], [1.01], rtol=1e-14)
    layer.forward(np.array([0.0, 4.0]).reshape(1, 2, 1, 1), train=True)
    np.testing.assert_allclose(layer.buffers["moving_mean"], [0.99 * 0.02 + 0.02], rtol=1e-14)
    np.testing.assert_allclose(layer.buffers["moving_variance"], [0.99 * 1.01 + 0.08], rtol=1e-14)
    y, _ = layer.forward(np.full((1, 2, 1, 1), 1.0), train=False)  # Eq. (N4) with the buffers
    np.testing.assert_allclose(y.ravel(), (1 - 0.0398) / np.sqrt(1.0799 + 1e-3), rtol=1e-12)


def test_buffers_updated_in_place():
    layer = BatchNorm((3,), mode="batch", dtype=F64)
    mm = layer.buffers["moving_mean"]
    layer.forward(np.arange(6.0).reshape(2, 3), train=True)
    assert layer.buffers["moving_mean"] is mm and mm.any()


@pytest.mark.parametrize("kwargs", [dict(mode="train"), dict(momentum=1.5), dict(eps=0.0)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        BatchNorm((3,), **kwargs)


def test_bad_input():
    layer = BatchNorm((2, 2, 3), dtype=F64)
    with pytest.raises(ValueError, match=r"\(N, 2, 2, 3\)"):
        layer.forward(np.zeros((1, 2, 2, 4)))
    with pytest.raises(TypeError, match="dtype"):
        layer.forward(np.zeros((1, 2, 2, 3), np.float32))
