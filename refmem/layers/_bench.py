"""Timing of the Shapes3D VAE's hot layers (forward + backward, batch 32, float32).

Run ``python -m refmem.layers._bench [--batch 32] [--repeat 5]``. Prints, for each hot
layer, the best wall time of forward+backward, the useful GFLOP/s (2 M K F per matrix
product: 1 product forward, 2 backward; the UpsampleConv2D figure counts the phase form's
FLOPs and, in brackets, the naive upsample-then-3x3 count), the reference float32 matmul
rate from the same run, and the forward+backward throughput of the whole conv stack
(encoder + decoder layers, no loss) in images/s. Timings on a shared machine are noisy;
``--cpu-time`` reports process CPU time instead of wall time, which is steadier under
load when run single-threaded (``OPENBLAS_NUM_THREADS=1``).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from ..benchmarks._common import best_time as _wall_time
from . import (BatchNorm, Conv2D, Dense, GlobalAveragePooling2D, LeakyReLU, Reshape, Sequential,
               Sigmoid, UpsampleConv2D)


def _conv_flops(layer, n):
    """FLOPs of forward + backward (dx, dW) for Conv2D / UpsampleConv2D layers."""
    ho, wo, f = layer.output_shape
    kh, kw = layer.kernel_size
    c = layer.input_shape[-1]
    naive = 2 * n * ho * wo * kh * kw * c * f
    if isinstance(layer, UpsampleConv2D):
        taps = sum(m.shape[0] for m in layer._rows[0]) * sum(m.shape[0] for m in layer._cols[0])
        uh, uw = layer.size
        phase = 2 * n * (ho // uh) * (wo // uw) * taps * c * f
        return 3 * phase, 3 * naive
    return 3 * naive, 3 * naive


def hot_layers(dtype=np.float32):
    """The convolution layers of :func:`conv_stack` (the hot paths)."""
    return [l for l in conv_stack(dtype).layers if isinstance(l, (Conv2D, UpsampleConv2D))]


def conv_stack(dtype=np.float32):
    """Encoder and decoder layers of the Shapes3D VAE chained (GAP -> Dense -> Dense 4096)."""
    rng = np.random.default_rng(0)
    layers, shape = [], (64, 64, 3)
    for i, f in enumerate((32, 64, 128, 256), 1):
        conv = Conv2D(shape, f, 4, 2, "valid", dtype=dtype, rng=rng, name=f"conv{i}")
        shape = conv.output_shape
        layers += [conv, BatchNorm(shape, dtype=dtype, name=f"bn{i}"),
                   LeakyReLU(shape, dtype=dtype, name=f"act{i}")]
    layers += [GlobalAveragePooling2D(shape, dtype=dtype, name="gap"),
               Dense(256, 20, dtype=dtype, rng=rng, name="mu"),
               Dense(20, 4096, dtype=dtype, rng=rng, name="dec"),
               Reshape((4096,), (4, 4, 256), dtype=dtype, name="reshape")]
    shape = (4, 4, 256)
    for i, f in enumerate((128, 64, 32), 5):
        conv = UpsampleConv2D(shape, f, dtype=dtype, rng=rng, name=f"conv{i}")
        shape = conv.output_shape
        layers += [conv, BatchNorm(shape, dtype=dtype, name=f"bn{i}"),
                   LeakyReLU(shape, dtype=dtype, name=f"act{i}")]
    conv = UpsampleConv2D(shape, 3, dtype=dtype, rng=rng, name="conv8")
    layers += [conv, Sigmoid(conv.output_shape, dtype=dtype, name="out")]
    return Sequential(layers)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cpu-time", action="store_true", help="time with process CPU time")
    args = ap.parse_args(argv)
    clock = time.process_time if args.cpu_time else time.perf_counter
    best_time = lambda fn, repeat: _wall_time(fn, repeat, clock=clock)  # noqa: E731
    n, dtype = args.batch, np.float32
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(dtype)
    ref = 2 * 1024 ** 3 / best_time(lambda: a @ a, args.repeat) / 1e9
    print(f"reference sgemm 1024^3: {ref:.1f} GFLOP/s ({'CPU' if args.cpu_time else 'wall'} time)")
    rng = np.random.default_rng(1)
    total_t = 0.0
    for layer in hot_layers(dtype):
        x = rng.standard_normal((n,) + layer.input_shape).astype(dtype)
        dy = rng.standard_normal((n,) + layer.output_shape).astype(dtype)
        tf = best_time(lambda: layer.forward(x), args.repeat)
        _, cache = layer.forward(x)
        tb = best_time(lambda: layer.backward(dy, cache), args.repeat)
        flops, naive = _conv_flops(layer, n)
        total_t += tf + tb
        print(f"{layer.name:6s} {type(layer).__name__:15s} {str(layer.input_shape):15s} -> "
              f"{str(layer.output_shape):13s} fwd {1e3 * tf:6.1f} ms  bwd {1e3 * tb:6.1f} ms  "
              f"{flops / (tf + tb) / 1e9:6.1f} GFLOP/s = {flops / (tf + tb) / 1e9 / ref:4.2f} x sgemm"
              f"  [{naive / (tf + tb) / 1e9:6.1f} naive-count]")
    print(f"hot conv layers total: {1e3 * total_t:.1f} ms per batch of {n}")
    net = conv_stack(dtype)
    x = rng.random((n, 64, 64, 3)).astype(dtype)

    def step():
        y, cache = net.forward(x, train=True)
        net.backward(np.ones_like(y), cache)

    t = best_time(step, args.repeat)
    print(f"conv stack forward+backward: {1e3 * t:.1f} ms per batch -> {n / t:.1f} images/s")


if __name__ == "__main__":
    main()
