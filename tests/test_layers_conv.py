"""Convolutions: Keras padding arithmetic, vectorised == loop references, gradients,
and the sub-pixel UpsampleConv2D == UpSampling2D + Conv2D."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from refmem.nn.gradcheck import check_layer
from refmem.nn.layers import (Conv2D, Conv2DTranspose, UpSampling2D, UpsampleConv2D, conv2d_naive,
                           conv2d_transpose_naive, conv_output_length, conv_transpose_output_length,
                           same_padding)
from refmem.nn.layers.conv import conv2d_backward, conv2d_forward
from refmem.nn.layers.conv_transpose import conv2d_transpose_forward

F64 = np.float64
TOL = 1e-6
#: step of the central differences: every layer checked here is linear in its input and
#: in its parameters, so the difference quotient has no truncation error and a large
#: step keeps the roundoff (which grows as 1/h) far below TOL even for tiny gradients
H = 1e-3


def keras_conv_output_length(n, k, padding, s):
    # keras.utils.conv_utils.conv_output_length (dilation 1)
    out = n if padding == "same" else n - k + 1
    return (out + s - 1) // s


def tf_same_pad_total(n, k, s):
    # TensorFlow's documented rule (tf.nn.convolution, "same" padding)
    return max(k - s, 0) if n % s == 0 else max(k - n % s, 0)


def keras_deconv_output_length(n, k, padding, s):
    # keras.utils.conv_utils.deconv_output_length with output_padding=None
    return n * s if padding == "same" else n * s + max(k - s, 0)


@given(n=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4))
@settings(max_examples=200)
def test_padding_arithmetic_matches_keras_and_tf(n, k, s):
    assert conv_output_length(n, k, s, "same") == keras_conv_output_length(n, k, "same", s)
    if n >= k:
        assert conv_output_length(n, k, s, "valid") == keras_conv_output_length(n, k, "valid", s)
    before, after = same_padding(n, k, s)
    assert before + after == tf_same_pad_total(n, k, s)
    assert before == (before + after) // 2 and after - before in (0, 1)
    assert conv_transpose_output_length(n, k, s, "same") == keras_deconv_output_length(n, k, "same", s)
    assert conv_transpose_output_length(n, k, s, "valid") == keras_deconv_output_length(n, k, "valid", s)


def test_valid_conv_too_small_input_raises():
    with pytest.raises(ValueError, match="kernel size"):
        Conv2D((3, 3, 1), 2, 4)


conv_cases = st.fixed_dictionaries({
    "n": st.integers(1, 3), "h": st.integers(1, 8), "w": st.integers(1, 8), "c": st.sampled_from([1, 2, 3, 8, 9]),
    "f": st.integers(1, 3), "kh": st.integers(1, 4), "kw": st.integers(1, 4),
    "sh": st.integers(1, 3), "sw": st.integers(1, 3), "padding": st.sampled_from(["same", "valid"]),
    "seed": st.integers(0, 2 ** 16)})


def _fits(p):
    return p["padding"] == "same" or (p["h"] >= p["kh"] and p["w"] >= p["kw"])


@given(p=conv_cases.filter(_fits))
def test_conv2d_vectorised_equals_naive_and_shape(p):
    rng = np.random.default_rng(p["seed"])
    x = rng.standard_normal((p["n"], p["h"], p["w"], p["c"]))
    layer = Conv2D((p["h"], p["w"], p["c"]), p["f"], (p["kh"], p["kw"]), (p["sh"], p["sw"]),
                   p["padding"], dtype=F64, rng=rng)
    layer.params["bias"][:] = rng.standard_normal(p["f"])
    y, _ = layer.forward(x)
    ref = conv2d_naive(x, layer.params["kernel"], layer.params["bias"], (p["sh"], p["sw"]), p["padding"])
    assert y.shape == ref.shape == (p["n"],) + layer.output_shape
    assert layer.output_shape[:2] == (keras_conv_output_length(p["h"], p["kh"], p["padding"], p["sh"]),
                                      keras_conv_output_length(p["w"], p["kw"], p["padding"], p["sw"]))
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


@given(p=conv_cases)
def test_conv2d_transpose_vectorised_equals_naive_and_is_adjoint(p):
    rng = np.random.default_rng(p["seed"])
    x = rng.standard_normal((p["n"], p["h"], p["w"], p["c"]))
    layer = Conv2DTranspose((p["h"], p["w"], p["c"]), p["f"], (p["kh"], p["kw"]), (p["sh"], p["sw"]),
                            p["padding"], dtype=F64, rng=rng)
    kernel = layer.params["kernel"]
    y, _ = layer.forward(x)
    ref = conv2d_transpose_naive(x, kernel, None, (p["sh"], p["sw"]), p["padding"])
    assert y.shape == ref.shape == (p["n"],) + layer.output_shape
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    # TF's definition: convT(x) = d/dz <conv2d(z, W), x> (gradient of the conv w.r.t. its input)
    z = rng.standard_normal(y.shape)
    cz, cache = conv2d_forward(z, kernel, None, (p["sh"], p["sw"]), p["padding"])
    assert cz.shape == x.shape
    dz, _, _ = conv2d_backward(x, cache)
    np.testing.assert_allclose(y, dz, rtol=1e-12, atol=1e-12)


@given(p=conv_cases.filter(_fits))
@settings(max_examples=15)
def test_conv2d_gradients(p):
    rng = np.random.default_rng(p["seed"])
    layer = Conv2D((p["h"], p["w"], p["c"]), p["f"], (p["kh"], p["kw"]), (p["sh"], p["sw"]),
                   p["padding"], dtype=F64, rng=rng)
    layer.params["bias"][:] = rng.standard_normal(p["f"])
    errs = check_layer(layer, rng.standard_normal((p["n"], p["h"], p["w"], p["c"])), rng, h=H)
    assert max(errs.values()) < TOL, errs


@pytest.mark.parametrize("c", [3, 9])  # both col2im layouts (channels-first below 8 channels)
@pytest.mark.parametrize("k, s, padding", [(4, 2, "valid"), (3, 2, "same"), (2, 2, "same"),
                                           (3, 1, "same"), (4, 3, "valid"), (1, 2, "valid")])
def test_conv2d_gradients_both_col2im_paths(c, k, s, padding):
    rng = np.random.default_rng(k * 10 + s)
    layer = Conv2D((7, 6, c), 2, k, s, padding, dtype=F64, rng=rng)
    layer.params["bias"][:] = rng.standard_normal(2)
    errs = check_layer(layer, rng.standard_normal((2, 7, 6, c)), rng, h=H)
    assert max(errs.values()) < TOL, errs


@given(p=conv_cases)
@settings(max_examples=15)
def test_conv2d_transpose_gradients(p):
    rng = np.random.default_rng(p["seed"])
    layer = Conv2DTranspose((p["h"], p["w"], p["c"]), p["f"], (p["kh"], p["kw"]), (p["sh"], p["sw"]),
                            p["padding"], dtype=F64, rng=rng)
    errs = check_layer(layer, rng.standard_normal((p["n"], p["h"], p["w"], p["c"])), rng, h=H)
    assert max(errs.values()) < TOL, errs


@given(n=st.integers(1, 3), h=st.integers(1, 5), w=st.integers(1, 5), c=st.integers(1, 3),
       f=st.integers(1, 3), k=st.integers(1, 5), u=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
def test_upsample_conv_equals_composition(n, h, w, c, f, k, u, seed):
    rng = np.random.default_rng(seed)
    fused = UpsampleConv2D((h, w, c), f, k, u, dtype=F64, rng=seed)
    up = UpSampling2D((h, w, c), u, dtype=F64)
    conv = Conv2D((u * h, u * w, c), f, k, 1, "same", dtype=F64, rng=seed)
    np.testing.assert_array_equal(fused.params["kernel"], conv.params["kernel"])  # same init, same names
    assert list(fused.params) == list(conv.params) and fused.output_shape == conv.output_shape
    b = rng.standard_normal(f)
    fused.params["bias"][:] = b
    conv.params["bias"][:] = b
    x = rng.standard_normal((n, h, w, c))
    y1, c1 = fused.forward(x)
    a, ca = up.forward(x)
    y2, c2 = conv.forward(a)
    np.testing.assert_allclose(y1, y2, rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y1.shape)
    dx1 = fused.backward(dy, c1)
    dx2 = up.backward(conv.backward(dy, c2), ca)
    np.testing.assert_allclose(dx1, dx2, rtol=1e-12, atol=1e-12)
    for key in ("kernel", "bias"):
        np.testing.assert_allclose(fused.grads[key], conv.grads[key], rtol=1e-11, atol=1e-11)


@given(n=st.integers(1, 2), h=st.integers(1, 4), c=st.integers(1, 3), f=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16))
@settings(max_examples=10)
def test_upsample_conv_gradients(n, h, c, f, seed):
    rng = np.random.default_rng(seed)
    layer = UpsampleConv2D((h, h + 1, c), f, dtype=F64, rng=rng)
    layer.params["bias"][:] = rng.standard_normal(f)
    errs = check_layer(layer, rng.standard_normal((n, h, h + 1, c)), rng, h=H)
    assert max(errs.values()) < TOL, errs


@pytest.mark.parametrize("shape, f", [((2, 6, 2), 2), ((3, 2, 2), 9), ((11, 12, 2), 8)])
def test_upsample_conv_every_path(shape, f):
    # channels-first scatter (f < 8), NHWC scatter (small image), stride-phase gather (large image)
    layer = UpsampleConv2D(shape, f, dtype=F64, rng=0)
    rng = np.random.default_rng(1)
    layer.params["bias"][:] = rng.standard_normal(f)
    errs = check_layer(layer, rng.standard_normal((2,) + shape), rng, h=H)
    assert max(errs.values()) < TOL, errs
    x = rng.standard_normal((2,) + shape)
    ref = conv2d_naive(np.repeat(np.repeat(x, 2, axis=1), 2, axis=2), layer.params["kernel"],
                       layer.params["bias"], 1, "same")
    np.testing.assert_allclose(layer.forward(x)[0], ref, rtol=1e-12, atol=1e-12)


def test_upsample_conv_rejects_valid_padding():
    with pytest.raises(ValueError, match="same"):
        UpsampleConv2D((4, 4, 2), 3, padding="valid")


def test_paper_encoder_and_decoder_shapes():
    shapes = [(64, 64, 3)]
    for f in (32, 64, 128, 256):
        shapes.append(Conv2D(shapes[-1], f, 4, 2, "valid").output_shape)
    assert shapes[1:] == [(31, 31, 32), (14, 14, 64), (6, 6, 128), (2, 2, 256)]
    s = (4, 4, 256)
    for f in (128, 64, 32, 3):
        s = UpsampleConv2D(s, f).output_shape
    assert s == (64, 64, 3)


def test_asymmetric_same_padding_even_kernel():
    # 4x4 input, 2x2 kernel, stride 1, 'same': TF pads 0 before and 1 after
    x = np.arange(16, dtype=F64).reshape(1, 4, 4, 1)
    k = np.ones((2, 2, 1, 1))
    y = conv2d_naive(x, k, None, 1, "same")
    assert y[0, 0, 0, 0] == 0 + 1 + 4 + 5 and y[0, 3, 3, 0] == 15
    yt, _ = conv2d_transpose_forward(x, k, None, 2, "same")
    np.testing.assert_allclose(yt, conv2d_transpose_naive(x, k, None, 2, "same"))
    assert yt.shape == (1, 8, 8, 1)


@pytest.mark.parametrize("make", [
    lambda: Conv2D((6, 6, 2), 3, 3, dtype=F64),
    lambda: Conv2DTranspose((6, 6, 2), 3, 3, 2, dtype=F64),
    lambda: UpsampleConv2D((6, 6, 2), 3, dtype=F64),
])
def test_bad_input_raises(make):
    layer = make()
    with pytest.raises(ValueError, match=r"\(N, 6, 6, 2\)"):
        layer.forward(np.zeros((1, 6, 6, 3)))
    with pytest.raises(ValueError, match=r"\(N, 6, 6, 2\)"):
        layer.forward(np.zeros((6, 6, 2)))
    with pytest.raises(TypeError, match="dtype"):
        layer.forward(np.zeros((1, 6, 6, 2), np.float32))
    with pytest.raises(TypeError):
        layer.forward([[0.0]])
    y, cache = layer.forward(np.zeros((2, 6, 6, 2)))
    with pytest.raises(ValueError, match="dy of shape"):
        layer.backward(np.zeros((1,) + y.shape[1:]), cache)


@pytest.mark.parametrize("kwargs, err", [
    (dict(kernel_size=0), ValueError), (dict(kernel_size=2.5), TypeError),
    (dict(strides=(1, 0)), ValueError), (dict(padding="full"), ValueError), (dict(filters=0), ValueError)])
def test_bad_constructor_args(kwargs, err):
    args = dict(input_shape=(8, 8, 2), filters=3, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(err):
        Conv2D(**args)


@pytest.mark.parametrize("fn", [conv2d_naive, conv2d_transpose_naive,
                                lambda x, k, b: conv2d_forward(x, k, b), lambda x, k, b: conv2d_transpose_forward(x, k, b)])
def test_functional_convs_validate(fn):
    x, k = np.zeros((1, 4, 4, 2)), np.zeros((2, 2, 2, 2))
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        fn(np.zeros((4, 4, 2)), k, None)
    with pytest.raises(ValueError, match="input channels"):
        fn(np.zeros((1, 4, 4, 3)), k, None)
    with pytest.raises(ValueError, match="bias"):
        fn(x, k, np.zeros(3))
    with pytest.raises(TypeError):
        fn(x.astype(int), k, None)


def test_same_padding_stride2_worked_example():
    # the MNIST encoder's Conv 3x3 s2 'same' on 28 -> 14: TF pads 0 rows before and 1 after
    # (total = (14 - 1) * 2 + 3 - 28 = 1), so output (0, 0) reads x[0:2, 0:2] under taps 0..1
    # and output (13, 13) reads x[26:28, 26:28] plus the zero row/column after
    assert same_padding(28, 3, 2) == (0, 1)
    x = np.arange(28 * 28, dtype=F64).reshape(1, 28, 28, 1)
    k = np.ones((3, 3, 1, 1))
    y, _ = conv2d_forward(x, k, None, 2, "same")
    assert y.shape == (1, 14, 14, 1)
    assert y[0, 0, 0, 0] == x[0, 0:3, 0:3, 0].sum()
    assert y[0, 13, 13, 0] == x[0, 26:28, 26:28, 0].sum()
    # a symmetric (1, 1) padding would read x[-1:2] at (0, 0) instead
    assert y[0, 0, 0, 0] != x[0, 0:2, 0:2, 0].sum()


@pytest.mark.parametrize("k, s, padding, rows", [
    (3, 2, "same", slice(0, 2)),   # out 2; conv 'same' from 2: total 1 -> before 0: W[0:2]
    (4, 2, "same", slice(1, 3)),   # out 2; total 2 -> before 1: taps 1, 2 land on 0, 1
    (3, 1, "same", slice(1, 2)),   # out 1; total 2 -> before 1: tap 1 (the centre)
    (3, 2, "valid", slice(0, 3)),  # out 1*2 + max(3-2, 0) = 3: the whole kernel
    (1, 3, "valid", slice(0, 1)),  # out 3 (k < s): tap 0 at row 0, rows 1-2 stay 0
])
def test_conv_transpose_single_pixel_worked_examples(k, s, padding, rows):
    # Keras Conv2DTranspose of a one-pixel input equal to 1: the output is the kernel
    # W[a, b, :, 0] placed at rows/cols a - p_top, cropped to the output size
    kernel = np.arange(1.0, k * k * 2 + 1).reshape(k, k, 2, 1)  # (kh, kw, F=2, C=1)
    y, _ = conv2d_transpose_forward(np.ones((1, 1, 1, 1)), kernel, None, s, padding)
    out = conv_transpose_output_length(1, k, s, padding)
    assert y.shape == (1, out, out, 2)
    expect = np.zeros((out, out, 2))
    block = kernel[rows, rows, :, 0]
    expect[:block.shape[0], :block.shape[1]] = block
    np.testing.assert_array_equal(y[0], expect)


def test_constructor_defaults_are_keras():
    # Keras: Conv2D and Conv2DTranspose both default to strides 1, padding 'valid', bias on
    for cls in (Conv2D, Conv2DTranspose):
        layer = cls((5, 5, 2), 3, 3)
        assert layer.strides == (1, 1) and layer.padding == "valid" and layer.use_bias
    assert Conv2DTranspose((5, 5, 2), 3, 3, 2).output_shape == (11, 11, 3)  # (5 - 1) * 2 + 3
    assert conv2d_transpose_naive(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 4, 2)), None, 2).shape == (1, 11, 11, 4)
