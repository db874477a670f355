"""Properties shared by every layer: gradient accumulation, float32 ~ float64,
Keras initialisation, Sequential composition, exports."""
import numpy as np
import pytest

import refmem.nn.layers as L
from refmem.nn.gradcheck import numerical_vjp, rel_error

F64 = np.float64

# (constructor taking dtype, per-example input shape); kinks avoided by the inputs below
FACTORIES = {
    "dense": (lambda dt: L.Dense(5, 4, dtype=dt, rng=0), (5,)),
    "conv_valid_s2": (lambda dt: L.Conv2D((9, 9, 3), 4, 4, 2, "valid", dtype=dt, rng=0), (9, 9, 3)),
    "conv_same": (lambda dt: L.Conv2D((6, 5, 3), 4, 3, 1, "same", dtype=dt, rng=0), (6, 5, 3)),
    "conv_transpose": (lambda dt: L.Conv2DTranspose((3, 4, 3), 2, 3, 2, "same", dtype=dt, rng=0), (3, 4, 3)),
    "upsample_conv": (lambda dt: L.UpsampleConv2D((3, 3, 4), 3, dtype=dt, rng=0), (3, 3, 4)),
    "upsampling": (lambda dt: L.UpSampling2D((3, 3, 2), dtype=dt), (3, 3, 2)),
    "gap": (lambda dt: L.GlobalAveragePooling2D((3, 3, 2), dtype=dt), (3, 3, 2)),
    "flatten": (lambda dt: L.Flatten((3, 3, 2), dtype=dt), (3, 3, 2)),
    "reshape": (lambda dt: L.Reshape((18,), (3, 3, 2), dtype=dt), (18,)),
    "bn_as_run": (lambda dt: L.BatchNorm((3, 3, 2), dtype=dt), (3, 3, 2)),
    "bn_batch": (lambda dt: L.BatchNorm((3, 3, 2), mode="batch", dtype=dt), (3, 3, 2)),
    "leaky_relu": (lambda dt: L.LeakyReLU((3, 3, 2), dtype=dt), (3, 3, 2)),
    "relu": (lambda dt: L.ReLU((3, 3, 2), dtype=dt), (3, 3, 2)),
    "sigmoid": (lambda dt: L.Sigmoid((3, 3, 2), dtype=dt), (3, 3, 2)),
    "dropout_batch": (lambda dt: L.Dropout((3, 3, 2), 0.3, mode="batch", dtype=dt), (3, 3, 2)),
}


def _input(shape, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal((4,) + shape)
    return (x + 0.1 * np.sign(x)).astype(dtype)  # away from the ReLU kink


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_backward_accumulates(name):
    make, shape = FACTORIES[name]
    layer = make(F64)
    x = _input(shape, F64)
    y, cache = layer.forward(x, train=True, rng=np.random.default_rng(1))
    dy = np.random.default_rng(2).standard_normal(y.shape)
    dx1 = layer.backward(dy, cache)
    first = {k: g.copy() for k, g in layer.grads.items()}
    dx2 = layer.backward(dy, cache)
    np.testing.assert_array_equal(dx1, dx2)
    for k, g in layer.grads.items():
        np.testing.assert_allclose(g, 2 * first[k], rtol=1e-14, atol=0)
    assert list(layer.grads) == list(layer.params)
    assert all(layer.grads[k].shape == layer.params[k].shape for k in layer.params)
    layer.zero_grad()
    assert all(not g.any() for g in layer.grads.values())


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_float32_close_to_float64(name):
    make, shape = FACTORIES[name]
    l64, l32 = make(F64), make(np.float32)
    x = _input(shape, F64)
    y64, c64 = l64.forward(x, train=True, rng=np.random.default_rng(1))
    y32, c32 = l32.forward(x.astype(np.float32), train=True, rng=np.random.default_rng(1))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)
    dy = np.random.default_rng(2).standard_normal(y64.shape)
    dx64, dx32 = l64.backward(dy, c64), l32.backward(dy.astype(np.float32), c32)
    assert dx32.dtype == np.float32
    np.testing.assert_allclose(dx32, dx64, rtol=1e-4, atol=1e-5)
    for k in l64.grads:
        assert l32.grads[k].dtype == np.float32
        np.testing.assert_allclose(l32.grads[k], l64.grads[k], rtol=1e-4, atol=1e-4)


def test_sequential_of_layers_gradients():
    rng = np.random.default_rng(0)
    net = L.Sequential([
        L.Conv2D((8, 8, 2), 3, 4, 2, "valid", dtype=F64, rng=rng, name="conv1"),
        L.BatchNorm((3, 3, 3), mode="batch", dtype=F64, name="bn1"),
        L.LeakyReLU((3, 3, 3), dtype=F64, name="act1"),
        L.GlobalAveragePooling2D((3, 3, 3), dtype=F64, name="gap"),
        L.Dense(3, 16, dtype=F64, rng=rng, name="dense"),
        L.Reshape((16,), (2, 2, 4), dtype=F64, name="reshape"),
        L.UpsampleConv2D((2, 2, 4), 2, dtype=F64, rng=rng, name="upconv"),
        L.Sigmoid((4, 4, 2), dtype=F64, name="out"),
    ])
    assert "conv1.kernel" in net.params and "bn1.moving_mean" in net.buffers
    x = rng.standard_normal((3, 8, 8, 2))
    y, cache = net.forward(x, train=True)
    dy = rng.standard_normal(y.shape)
    net.zero_grad()
    dx = net.backward(dy, cache)
    # a bias before batch-statistics BN has exactly zero gradient (the mean is removed)
    assert np.abs(net.grads["conv1.bias"]).max() < 1e-12
    saved = {k: v.copy() for k, v in net.buffers.items()}

    def run(inp):
        out = net.forward(inp, train=True)[0]
        for k, v in saved.items():
            net.buffers[k][...] = v
        return out

    # whole-network check: errors relative to each gradient's norm (a sum of many
    # terms has rounding error ~ eps |f| / h ~ 1e-9, too much for tiny single entries)
    def norm_rel(a, b):
        return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))

    assert norm_rel(dx, numerical_vjp(run, x.copy(), dy)) < 1e-7
    for k, p in net.params.items():
        if k != "conv1.bias":
            assert norm_rel(net.grads[k], numerical_vjp(lambda _: run(x), p, dy)) < 1e-7, k


@pytest.mark.parametrize("first", ["conv", "upsample_conv", "conv_transpose", "dense", "bn"])
def test_backward_without_input_gradient_gives_the_same_parameter_gradients(first):
    # a network whose input is data skips dx: layers before the first parameterised one are
    # not run backward, and that layer accumulates its parameter gradients only
    rng = np.random.default_rng(2)
    head = {"conv": L.Conv2D((6, 6, 3), 3, 3, 1, "same", dtype=F64, rng=rng, name="first"),
            "upsample_conv": L.UpsampleConv2D((3, 3, 3), 3, dtype=F64, rng=rng, name="first"),
            "conv_transpose": L.Conv2DTranspose((3, 3, 3), 3, 2, 2, "same", dtype=F64, rng=rng, name="first"),
            "dense": None, "bn": L.BatchNorm((6, 6, 3), dtype=F64, name="first")}[first]
    if head is None:
        layers = [L.Dropout((4,), 0.5, dtype=F64), L.Dense(4, 108, dtype=F64, rng=rng, name="first"),
                  L.Reshape((108,), (6, 6, 3), dtype=F64)]
    else:
        shape = head.input_shape
        layers = [L.Dropout(shape, 0.5, dtype=F64), head]
    layers += [L.LeakyReLU((6, 6, 3), dtype=F64), L.Conv2D((6, 6, 3), 2, 4, 2, "valid", dtype=F64, rng=rng)]
    net = L.Sequential(layers)
    x = rng.standard_normal((2,) + net.input_shape)
    y, cache = net.forward(x)
    dy = rng.standard_normal(y.shape)
    net.zero_grad()
    assert net.backward(dy, cache).shape == x.shape
    full = {k: g.copy() for k, g in net.grads.items()}
    net.zero_grad()
    assert net.backward(dy, cache, need_dx=False) is None
    for k in full:
        np.testing.assert_allclose(net.grads[k], full[k], rtol=1e-13, atol=1e-13)


def test_keras_initialisation():
    conv = L.Conv2D((64, 64, 3), 32, 4, 2, rng=0)
    limit = np.sqrt(6 / (16 * 3 + 16 * 32))
    k = conv.params["kernel"]
    assert k.shape == (4, 4, 3, 32) and k.dtype == np.float32
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.95 * limit
    assert abs(k.std() - limit / np.sqrt(3)) < 0.05 * limit
    assert not conv.params["bias"].any()
    dense = L.Dense(256, 20, rng=0)
    assert np.abs(dense.params["kernel"]).max() <= np.sqrt(6 / 276)
    convt = L.Conv2DTranspose((7, 7, 16), 8, 3, 2, rng=0)
    assert convt.params["kernel"].shape == (3, 3, 8, 16)
    bn = L.BatchNorm((4, 4, 5))
    assert (bn.params["gamma"] == 1).all() and not bn.params["beta"].any()
    np.testing.assert_array_equal(L.Dense(4, 4, rng=5).params["kernel"], L.Dense(4, 4, rng=5).params["kernel"])


def test_two_forwards_backprop_in_any_order():
    layer = L.Conv2D((5, 5, 2), 3, 3, dtype=F64, rng=0)
    rng = np.random.default_rng(0)
    xa, xb = rng.standard_normal((2, 2, 5, 5, 2))
    ya, ca = layer.forward(xa)
    yb, cb = layer.forward(xb)
    dxb = layer.backward(np.ones_like(yb), cb)
    layer.zero_grad()
    dxa = layer.backward(np.ones_like(ya), ca)
    gka = layer.grads["kernel"].copy()
    layer.zero_grad()
    ya2, ca2 = layer.forward(xa)
    assert rel_error(layer.backward(np.ones_like(ya2), ca2), dxa) == 0
    np.testing.assert_array_equal(layer.grads["kernel"], gka)
    assert dxb.shape == xb.shape


def test_public_exports():
    for name in ["Layer", "Sequential", "Dense", "Conv2D", "Conv2DTranspose", "UpsampleConv2D",
                 "UpSampling2D", "GlobalAveragePooling2D", "Flatten", "Reshape", "BatchNorm",
                 "LeakyReLU", "ReLU", "Sigmoid", "Dropout", "conv2d_naive", "conv2d_transpose_naive",
                 "conv_output_length", "same_padding"]:
        assert name in L.__all__ and hasattr(L, name)
