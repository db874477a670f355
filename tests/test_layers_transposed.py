"""The transposed convolution (N25) in scatter and stride-phase gather form (N26): both
equal the loop reference, and every layer that uses it keeps exact gradients."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from refmem.nn.gradcheck import check_layer
from refmem.nn.layers import Conv2D, Conv2DTranspose, UpsampleConv2D, conv_transpose, conv_transpose_naive
from refmem.nn.layers.transposed import FEW_CHANNELS, conv_transpose_gather, gather_kernel, gather_pays
from refmem.nn.layers.upsample_conv import upsample_tap_matrix

F64 = np.float64
H = 1e-3  # the layers are linear in input and parameters: no truncation error

cases = st.fixed_dictionaries({
    "n": st.integers(1, 2), "h": st.integers(1, 6), "w": st.integers(1, 6), "b": st.integers(1, 4),
    "a": st.sampled_from([1, 3, FEW_CHANNELS, 9]), "m": st.integers(1, 3), "s": st.integers(1, 3),
    "oh": st.integers(0, 3), "ow": st.integers(0, 3), "dh": st.integers(-3, 3), "dw": st.integers(-3, 3),
    "bias": st.booleans(), "seed": st.integers(0, 2 ** 16)})


@given(p=cases)
@settings(max_examples=150)
def test_scatter_and_gather_equal_the_loop_reference(p):
    rng = np.random.default_rng(p["seed"])
    s, k = p["s"], p["m"] * p["s"]  # kernel a multiple of the stride: both forms apply
    x = rng.standard_normal((p["n"], p["h"], p["w"], p["b"]))
    kernel = rng.standard_normal((k, k + p["s"] * (p["m"] > 1), p["a"], p["b"]))
    kw = kernel.shape[1]
    full = (s * (p["h"] - 1) + k, s * (p["w"] - 1) + kw)
    origin = (min(p["oh"], full[0] - 1), min(p["ow"], full[1] - 1))
    out = (max(1, full[0] - origin[0] + p["dh"]), max(1, full[1] - origin[1] + p["dw"]))  # may overhang
    bias = rng.standard_normal(p["a"]) if p["bias"] else None
    ref = conv_transpose_naive(x, kernel, (s, s), origin, out, bias)
    for method in ("scatter", "gather"):
        y = conv_transpose(x, kernel, (s, s), origin, out, bias, method=method)
        assert y.shape == ref.shape and y.flags.c_contiguous
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


def test_gather_kernel_layout_worked_example():
    # k = 4, s = 2 (m = 2): G[(t, v), (r, r')] = W[2 (1 - t) + r, 2 (1 - v) + r']
    kernel = np.arange(16.0).reshape(4, 4, 1, 1)
    g = gather_kernel(kernel, (2, 2))
    assert g.shape == (4, 4)
    assert g[0].tolist() == [10.0, 11.0, 14.0, 15.0]  # t = v = 0: taps (2 + r, 2 + r')
    assert g[3].tolist() == [0.0, 1.0, 4.0, 5.0]  # t = v = 1: taps (r, r')


def test_gather_needs_divisible_kernel():
    with pytest.raises(ValueError, match="divisible"):
        conv_transpose_gather(np.zeros((1, 2, 2, 1)), np.zeros((3, 3, 1, 1)), (2, 2), (0, 0), (4, 4))
    with pytest.raises(ValueError, match="method"):
        conv_transpose(np.zeros((1, 2, 2, 1)), np.zeros((2, 2, 1, 1)), (2, 2), (0, 0), (4, 4), method="fft")


def test_gather_pays_rule():
    assert gather_pays((14, 14), (4, 4), (2, 2), 32)  # encoder conv2 input gradient: 225 / 196 positions
    assert gather_pays((16, 16), (4, 4), (2, 2), 32)  # decoder conv3 (upsample): 289 / 256
    assert not gather_pays((6, 6), (4, 4), (2, 2), 64)  # 49 / 36: border too costly
    assert not gather_pays((32, 32), (4, 4), (2, 2), 3)  # too few output channels
    assert not gather_pays((32, 32), (3, 3), (2, 2), 32)  # kernel not a multiple of the stride
    assert not gather_pays((32, 32), (4, 4), (1, 1), 32)  # stride 1: no phases


def test_upsample_tap_matrix_sums_to_the_upsampled_convolution():
    for k in range(1, 6):
        for u in range(1, 4):
            m, lead = upsample_tap_matrix(k, u)
            assert m.shape == (u + k - 1, k) and lead == k - 1 - (k - 1) // 2
            assert np.all(m.sum(axis=0) == u)  # every tap reaches u output rows per input row


@pytest.mark.parametrize("c", [3, 9])
@pytest.mark.parametrize("hw", [(6, 7), (24, 23)])  # small: scatter input gradient; large: gather
def test_conv2d_stride2_input_gradient_both_forms(c, hw):
    rng = np.random.default_rng(c + hw[0])
    layer = Conv2D(hw + (c,), 9, 4, 2, "valid", dtype=F64, rng=rng)
    assert gather_pays(layer.output_shape[:2], (4, 4), (2, 2), c) == (c >= FEW_CHANNELS and hw[0] > 20)
    layer.params["bias"][:] = rng.standard_normal(9)
    errs = check_layer(layer, rng.standard_normal((2,) + hw + (c,)), rng, h=H)
    assert max(errs.values()) < TOL, errs


TOL = 1e-6


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_transpose_gather_forward_and_gradients(padding):
    rng = np.random.default_rng(3)
    layer = Conv2DTranspose((12, 11, 3), 8, 4, 2, padding, dtype=F64, rng=rng)
    assert gather_pays((12, 11), (4, 4), (2, 2), 8)
    layer.params["bias"][:] = rng.standard_normal(8)
    errs = check_layer(layer, rng.standard_normal((2, 12, 11, 3)), rng, h=H)
    assert max(errs.values()) < TOL, errs


def test_upsample_conv_float32_matches_float64():
    rng = np.random.default_rng(5)
    l64 = UpsampleConv2D((16, 16, 8), 8, dtype=F64, rng=1)
    l32 = UpsampleConv2D((16, 16, 8), 8, dtype=np.float32, rng=1)
    x = rng.standard_normal((2, 16, 16, 8))
    np.testing.assert_allclose(l32.forward(x.astype(np.float32))[0], l64.forward(x)[0], rtol=0, atol=1e-5)


@given(n=st.integers(1, 2), h=st.integers(2, 7), w=st.integers(2, 7), k=st.integers(1, 3), s=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16))
@settings(max_examples=40)
def test_col2im_is_the_adjoint_of_im2col(n, h, w, k, s, seed):
    from refmem.nn.layers.im2col import col2im, im2col
    rng = np.random.default_rng(seed)
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    if ho < 1 or wo < 1:
        return
    x = rng.standard_normal((n, h, w, 2))
    c = rng.standard_normal((n, ho, wo, k, k, 2))
    lhs = np.sum(im2col(x, (k, k), (s, s), (ho, wo)) * c)  # <im2col(x), c> = <x, col2im(c)>
    assert np.isclose(lhs, np.sum(x * col2im(c, x.shape, (s, s))), rtol=1e-12)
