"""The conformance items: for each, how its inputs are drawn and how refmem computes
its outputs. :mod:`refmem.interop.fixtures` writes them; another implementation
recomputes the outputs from the same inputs.

Each item is ``Item(name, checks, make, compute, outputs, params, tol)``: ``make(rng)``
returns the float64 inputs, ``compute(inputs, **params)`` the outputs (a dict of arrays).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple

import numpy as np

Arrays = Dict[str, np.ndarray]

_F = np.float64


@dataclass
class Item:
    name: str
    checks: str
    make: Callable[[np.random.Generator], Arrays]
    compute: Callable[..., Arrays]
    outputs: Tuple[str, ...]
    params: dict = field(default_factory=dict)
    tol: float = 1e-10


# ----------------------------------------------------------------------------- layers
def _layer_fb(layer, inp: Arrays, train: bool = False) -> Arrays:
    """Forward + backward of one layer with the parameters/buffers found in ``inp``."""
    for k in layer.params:
        layer.params[k][...] = inp[k]
    for k in layer.buffers:
        if k in inp:
            layer.buffers[k][...] = inp[k]
    layer.zero_grad()
    y, cache = layer.forward(inp["x"], train=train)
    dx = layer.backward(inp["dy"], cache)
    out = {"y": y, "dx": dx}
    out.update({f"d_{k}": g.copy() for k, g in layer.grads.items()})
    if train:
        out.update({f"new_{k}": b.copy() for k, b in layer.buffers.items()})
    return out


def _conv_item(name, cls, x_shape, filters, k, strides, padding, checks, **extra):
    from refmem.nn import layers as L

    def layer():
        c = getattr(L, cls)
        if cls == "UpsampleConv2D":
            return c(x_shape[1:], filters, k, size=strides, dtype=_F)
        return c(x_shape[1:], filters, k, strides=strides, padding=padding, dtype=_F)

    def make(rng):
        lay = layer()
        out = {"x": rng.standard_normal(x_shape),
               "kernel": rng.standard_normal(lay.params["kernel"].shape) * 0.3,
               "bias": rng.standard_normal(lay.params["bias"].shape) * 0.1}
        out["dy"] = rng.standard_normal((x_shape[0],) + lay.output_shape)
        return out

    params = {"kernel_size": k, "strides" if cls != "UpsampleConv2D" else "size": strides,
              "padding": padding, **extra}
    return Item(name, checks, make, lambda inp, **_: _layer_fb(layer(), inp),
                ("y", "dx", "d_kernel", "d_bias"), params)


def _simple_item(name, make_layer, x_shape, checks, params=None, bn=False, train=False, positive=False):
    def make(rng):
        lay = make_layer()
        x = rng.standard_normal(x_shape)
        x = np.where(np.abs(x) < 1e-3, 0.5, x)  # keep away from the kinks of ReLU/LeakyReLU
        out = {"x": x, "dy": rng.standard_normal((x_shape[0],) + lay.output_shape)}
        if bn:
            c = x_shape[-1]
            out.update(gamma=rng.uniform(0.5, 1.5, c), beta=rng.standard_normal(c) * 0.2,
                       moving_mean=rng.standard_normal(c) * 0.2, moving_variance=rng.uniform(0.5, 2, c))
        return out

    outputs = ("y", "dx") + (("d_gamma", "d_beta") if bn else ()) + (
        ("new_moving_mean", "new_moving_variance") if train else ())
    return Item(name, checks, make, lambda inp, **_: _layer_fb(make_layer(), inp, train), outputs,
                params or {})


def layer_items() -> List[Item]:
    from refmem.nn import layers as L

    conv = "y = conv(x, W) + b, Keras layouts (NHWC, W (kh, kw, in, out)); dx, dW, db by backprop of sum(y * dy)"
    items = [
        Item("dense", "y = x W + b, W (in, out); dx = dy W^T, dW = x^T dy, db = sum_n dy",
             lambda rng: {"x": rng.standard_normal((4, 6)), "kernel": rng.standard_normal((6, 5)),
                          "bias": rng.standard_normal(5), "dy": rng.standard_normal((4, 5))},
             lambda inp, **_: _layer_fb(L.Dense(6, 5, dtype=_F), inp), ("y", "dx", "d_kernel", "d_bias")),
        _conv_item("conv2d_valid_k4_s2", "Conv2D", (2, 10, 10, 3), 4, 4, 2, "valid",
                   conv + "; 'valid': out = floor((n - k) / s) + 1"),
        _conv_item("conv2d_same_k3_s2", "Conv2D", (2, 8, 8, 3), 4, 3, 2, "same",
                   conv + "; Keras 'same' with odd total padding: (0, 1) rows/cols, the extra one after"),
        _conv_item("conv2d_same_k3_s1", "Conv2D", (2, 6, 6, 3), 4, 3, 1, "same", conv + "; 'same', padding (1, 1)"),
        _conv_item("upsample_conv2d_k3", "UpsampleConv2D", (2, 4, 4, 3), 4, 3, 2, "same",
                   "y = Conv2D(3x3, stride 1, 'same')(UpSampling2D(2, nearest)(x)); W (kh, kw, in, out)"),
        _conv_item("conv2d_transpose_same_k3_s2", "Conv2DTranspose", (2, 4, 4, 3), 4, 3, 2, "same",
                   "Keras Conv2DTranspose 'same', W (kh, kw, out, in): full transposed conv of length "
                   "(n-1)s+k = 2n+1 cropped to 2n keeping offset 0 (the extra row/col is dropped at the end)"),
        _conv_item("conv2d_transpose_same_k3_s1", "Conv2DTranspose", (2, 5, 5, 3), 2, 3, 1, "same",
                   "Keras Conv2DTranspose 'same' stride 1: full length n+2 cropped by 1 at each end"),
        _simple_item("batchnorm_as_run", lambda: L.BatchNorm((4, 4, 5), mode="as_run", dtype=_F), (3, 4, 4, 5),
                     "BN as the paper ran it (inference formula during training): y = gamma (x - m) / "
                     "sqrt(v + 1e-3) + beta with the moving statistics m, v", {"eps": 1e-3}, bn=True),
        _simple_item("batchnorm_batch", lambda: L.BatchNorm((4, 4, 5), mode="batch", dtype=_F), (3, 4, 4, 5),
                     "BN with batch statistics (train=True): y = gamma (x - mu_B) / sqrt(var_B + 1e-3) + beta, "
                     "biased var_B over (N, H, W); new m = 0.99 m + 0.01 mu_B, new v = 0.99 v + 0.01 var_B M/(M-1)",
                     {"eps": 1e-3, "momentum": 0.99}, bn=True, train=True),
        _simple_item("leaky_relu", lambda: L.LeakyReLU((7,), 0.3, dtype=_F), (4, 7),
                     "y = x if x > 0 else 0.3 x (Keras default slope)", {"alpha": 0.3}),
        _simple_item("relu", lambda: L.ReLU((7,), dtype=_F), (4, 7), "y = max(x, 0)"),
        _simple_item("sigmoid", lambda: L.Sigmoid((7,), dtype=_F), (4, 7), "y = 1 / (1 + exp(-x))"),
        _simple_item("global_average_pooling", lambda: L.GlobalAveragePooling2D((3, 4, 5), dtype=_F),
                     (2, 3, 4, 5), "y[n, c] = mean over (h, w) of x[n, h, w, c]"),
        _simple_item("upsampling2d_nearest", lambda: L.UpSampling2D((3, 4, 2), 2, dtype=_F), (2, 3, 4, 2),
                     "y[n, 2i + a, 2j + b, c] = x[n, i, j, c]"),
    ]
    return items


# ----------------------------------------------------------------------------- losses
def _loss_out(fn, inp, *args):
    res = fn(*[inp[k] for k in args[0]], *args[1:])
    if len(res) == 2:
        return {"loss": np.array(res[0]), "d_x_hat": res[1]}
    return {"loss": np.array(res[0]), "d_mu": res[1], "d_log_var": res[2]}


def loss_items() -> List[Item]:
    from refmem.nn import losses as Lo

    def xs(rng, shape, binary=False):
        x = (rng.random(shape) < 0.3).astype(_F) if binary else rng.random(shape)
        return {"x": x, "x_hat": rng.uniform(0.01, 0.99, shape)}

    def gauss(rng):
        return {"mu": rng.standard_normal((4, 6)), "log_var": rng.standard_normal((4, 6)) * 0.5}

    return [
        Item("loss_l1_channel_mean", "loss = (1 / (N C)) sum |x - x_hat| (NHWC; sum over pixels of the "
             "channel-mean absolute error, batch mean); d_x_hat = sign(x_hat - x) / (N C)",
             lambda rng: xs(rng, (3, 5, 5, 3)),
             lambda inp, **_: _loss_out(Lo.recon_l1_channel_mean, inp, ("x", "x_hat")), ("loss", "d_x_hat")),
        Item("loss_bce_mean", "loss = -mean[x log(p + 1e-7) + (1 - x) log(1 - p + 1e-7)], p = clip(x_hat, "
             "1e-7, 1 - 1e-7) (Keras)", lambda rng: xs(rng, (4, 9), binary=True),
             lambda inp, **_: _loss_out(Lo.bce_mean, inp, ("x", "x_hat")), ("loss", "d_x_hat")),
        Item("loss_kl_sum", "KL = batch mean of -1/2 sum_j (1 + log_var - mu^2 - exp(log_var))", gauss,
             lambda inp, **_: _loss_out(Lo.kl_normal, inp, ("mu", "log_var"), "sum"),
             ("loss", "d_mu", "d_log_var")),
        Item("loss_kl_mean", "KL = mean over batch and latents of -1/2 (1 + log_var - mu^2 - exp(log_var))",
             gauss, lambda inp, **_: _loss_out(Lo.kl_normal, inp, ("mu", "log_var"), "mean"),
             ("loss", "d_mu", "d_log_var")),
    ]
