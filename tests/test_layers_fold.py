"""Batch normalisation with fixed statistics folded into the kernel layer before it
(N27)-(N28): the folded unit equals the two layers run one after the other."""
import numpy as np
import pytest

import refmem.nn.layers as L
from refmem.nn.gradcheck import check_layer
from refmem.nn.layers.fold import FoldedPair

F64 = np.float64

KERNEL_LAYERS = {
    "conv": lambda bias: L.Conv2D((7, 6, 3), 5, 4, 2, "valid", use_bias=bias, dtype=F64, rng=0),
    "conv_same": lambda bias: L.Conv2D((5, 5, 3), 5, 3, 1, "same", use_bias=bias, dtype=F64, rng=0),
    "conv_transpose": lambda bias: L.Conv2DTranspose((3, 4, 3), 5, 3, 2, "same", use_bias=bias, dtype=F64, rng=0),
    "upsample_conv": lambda bias: L.UpsampleConv2D((3, 4, 3), 5, use_bias=bias, dtype=F64, rng=0),
}


def _pair(kind, bias, mode, rng):
    layer = KERNEL_LAYERS[kind](bias)
    bn = L.BatchNorm(layer.output_shape, mode=mode, dtype=F64, name="bn")
    for k, p in list(layer.params.items()) + list(bn.params.items()):
        p[...] = rng.normal(0.0, 1.0, p.shape) if k != "gamma" else rng.uniform(0.5, 2.0, p.shape)
    bn.buffers["moving_mean"][...] = rng.normal(0.0, 1.0, bn.buffers["moving_mean"].shape)
    bn.buffers["moving_variance"][...] = rng.uniform(0.2, 3.0, bn.buffers["moving_variance"].shape)
    act = L.LeakyReLU(layer.output_shape, dtype=F64, name="act")
    return L.Sequential([layer, bn, act]), L.Sequential([layer, bn, act], fuse=False)


@pytest.mark.parametrize("kind", sorted(KERNEL_LAYERS))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode, train", [("as_run", True), ("as_run", False), ("batch", False)])
def test_folded_pair_equals_the_two_layers(kind, bias, mode, train):
    rng = np.random.default_rng(1)
    fused, plain = _pair(kind, bias, mode, rng)
    assert isinstance(fused.units[0], FoldedPair) and len(plain.units) == 3
    x = rng.standard_normal((3,) + fused.input_shape)
    y1, c1 = fused.forward(x, train=train)
    y2, c2 = plain.forward(x, train=train)
    assert c1[0][0] == "fold"  # fixed statistics: folded
    np.testing.assert_allclose(y1, y2, rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y1.shape)
    grads = []
    for net, cache in ((fused, c1), (plain, c2)):
        net.zero_grad()
        dx = net.backward(dy, cache)
        grads.append((dx, {k: g.copy() for k, g in net.grads.items()}))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12, atol=1e-12)
    for k in grads[1][1]:
        np.testing.assert_allclose(grads[0][1][k], grads[1][1][k], rtol=1e-11, atol=1e-11, err_msg=k)


def test_batch_statistics_in_training_are_not_folded():
    rng = np.random.default_rng(2)
    fused, plain = _pair("conv", True, "batch", rng)
    x = rng.standard_normal((4,) + fused.input_shape)
    saved = {k: v.copy() for k, v in fused.buffers.items()}
    y1, c1 = fused.forward(x, train=True)
    assert c1[0][0] == "plain"
    for k, v in saved.items():
        fused.buffers[k][...] = v
    np.testing.assert_allclose(y1, plain.forward(x, train=True)[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(KERNEL_LAYERS))
def test_folded_gradients_are_exact(kind):
    rng = np.random.default_rng(3)
    fused, _ = _pair(kind, True, "as_run", rng)
    unit = L.Sequential(fused.layers[:2])  # kernel layer + BN only: linear, no kinks
    errs = check_layer(unit, rng.standard_normal((2,) + unit.input_shape), rng, h=1e-3)
    assert max(errs.values()) < 1e-6, errs


def test_first_unit_without_input_gradient():
    rng = np.random.default_rng(4)
    fused, plain = _pair("conv", True, "as_run", rng)
    x = rng.standard_normal((2,) + fused.input_shape)
    y, c = fused.forward(x)
    dy = rng.standard_normal(y.shape)
    fused.zero_grad()
    assert fused.backward(dy, c, need_dx=False) is None
    got = {k: g.copy() for k, g in fused.grads.items()}
    plain.zero_grad()
    plain.backward(dy, plain.forward(x)[1])
    for k, g in plain.grads.items():
        np.testing.assert_allclose(got[k], g, rtol=1e-12, atol=1e-12)
