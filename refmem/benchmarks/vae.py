"""``refmem bench vae``: training throughput of the paper's Shapes3D VAE.

Times full training steps of :func:`refmem.neocortex.vae.shapes3d_vae` (forward, backward,
AMSGrad update; batch 32, float32 by default) after warm-up, and reports

* images/s (target on a 2-core machine: >= 100),
* achieved GFLOP/s from an analytic FLOP count, and that as a fraction of the float32
  matmul throughput (:func:`refmem.benchmarks._common.matmul_gflops`) measured in the
  same run, so loaded or different machines can be compared,
* a per-layer forward/backward time breakdown (one extra instrumented pass).

FLOP counting rule: a multiply-add is 2 FLOPs; only Dense and convolution layers
count (element-wise ops, batch norm, pooling and the optimiser are ignored); a
training step is 3x the forward FLOPs (forward, input gradient, weight gradient);
"upsample x2 then conv 3x3" is counted at the upsampled resolution as a plain
Conv2D would compute it (nominal FLOPs: ~150 MFLOP forward, ~450 MFLOP per image
per training step), even though the fused phase form does 2.25x fewer.
"""
from __future__ import annotations

import argparse
import time
from collections import OrderedDict
from typing import Dict, List, Optional

import numpy as np

from refmem._utils import save_json
from refmem.nn.layers import Conv2D, Conv2DTranspose, Dense, UpsampleConv2D
from refmem.nn.optim import Adam
from refmem.benchmarks._common import machine_info, matmul_gflops

__all__ = ["DESCRIPTION", "main", "forward_flops", "run"]

DESCRIPTION = "Shapes3D VAE training step (batch 32, float32): images/s, GFLOP/s vs matmul"


def _named_layers(vae) -> List:
    enc = vae.encoder
    dec = list(getattr(vae.decoder, "layers", [vae.decoder]))
    return ([(f"encoder.{l.name}", l) for l in enc.trunk_layers + enc.mu_layers + enc.log_var_layers]
            + [(f"decoder.{l.name}", l) for l in dec])


def _layer_flops(layer) -> int:
    if isinstance(layer, Dense):
        return 2 * layer.input_shape[0] * layer.output_shape[0]
    if isinstance(layer, (Conv2D, UpsampleConv2D)):
        (kh, kw), c = layer.kernel_size, layer.input_shape[2]
        ho, wo, f = layer.output_shape
        return 2 * ho * wo * kh * kw * c * f  # nominal: at the output (upsampled) resolution
    if isinstance(layer, Conv2DTranspose):
        (kh, kw), (h, w, c) = layer.kernel_size, layer.input_shape
        return 2 * h * w * kh * kw * c * layer.output_shape[2]
    return 0


def forward_flops(vae) -> int:
    """Analytic forward FLOPs per image (counting rule in the module docstring)."""
    return sum(_layer_flops(l) for _, l in _named_layers(vae))


def _instrument(named_layers, times: Dict[str, List[float]]):
    """Wrap each layer's forward/backward (instance attributes) to accumulate wall time."""
    def wrap(fn, key):
        def timed(*a, **k):
            t = time.perf_counter()
            out = fn(*a, **k)
            times[key][0] += time.perf_counter() - t
            return out
        return timed

    for name, l in named_layers:
        times.setdefault(f"{name} forward", [0.0])
        times.setdefault(f"{name} backward", [0.0])
        l.forward = wrap(l.forward, f"{name} forward")
        l.backward = wrap(l.backward, f"{name} backward")


def _uninstrument(named_layers) -> None:
    for _, l in named_layers:
        for attr in ("forward", "backward"):
            l.__dict__.pop(attr, None)


def _breakdown(vae, opt, x, rng, batch: int, repeat: int = 3):
    """Per-layer forward/backward seconds (minimum over ``repeat`` instrumented steps)
    and, for Dense/conv layers, the achieved nominal GFLOP/s of that pass."""
    named = _named_layers(vae)
    best: Dict[str, float] = OrderedDict()
    for _ in range(repeat):
        times: Dict[str, List[float]] = OrderedDict()
        _instrument(named, times)
        try:
            t0 = time.perf_counter()
            vae.zero_grad()
            vae.forward_backward(x, None, rng, True, True)
            t1 = time.perf_counter()
            opt.step(vae.grads)
            t2 = time.perf_counter()
        finally:
            _uninstrument(named)
        step = OrderedDict((k, v[0]) for k, v in times.items())
        step["optimizer step"] = t2 - t1
        step["other (losses, reparameterisation)"] = max(0.0, (t1 - t0) - sum(v[0] for v in times.values()))
        for k, v in step.items():
            best[k] = min(best.get(k, float("inf")), v)
    gflops = OrderedDict()
    for name, layer in named:
        f = _layer_flops(layer) * batch
        if f:  # backward = input gradient + weight gradient = 2x the forward FLOPs
            gflops[f"{name} forward"] = f / best[f"{name} forward"] / 1e9
            gflops[f"{name} backward"] = 2 * f / best[f"{name} backward"] / 1e9
    return best, gflops


def run(batch: int = 32, steps: int = 5, warmup: int = 2, dtype: str = "float32",
        fused: bool = True, breakdown: bool = True, seed: int = 0) -> dict:
    """Time ``steps`` training steps after ``warmup``; return the figures as a dict."""
    from refmem.neocortex import shapes3d_vae

    rng = np.random.default_rng(seed)
    vae = shapes3d_vae(rng=rng, dtype=np.dtype(dtype), fused_upsample=fused)
    x = rng.uniform(0.0, 1.0, size=(batch, 64, 64, 3)).astype(dtype)
    opt = Adam(vae.params, lr=1e-3, amsgrad=True)

    def step():
        vae.zero_grad()
        vae.forward_backward(x, None, rng, True, True)  # x already validated and cast
        opt.step(vae.grads)

    for _ in range(max(0, warmup)):
        step()
    ts = []
    for _ in range(max(1, steps)):
        t = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t)
    t_med, t_best = float(np.median(ts)), float(min(ts))
    mm = matmul_gflops(dtype=np.float32)
    fl = 3 * forward_flops(vae)  # per image per training step
    out = OrderedDict(
        batch=batch, steps=len(ts), dtype=dtype, fused_upsample=fused,
        step_seconds_median=t_med, step_seconds_best=t_best,
        images_per_s=batch / t_med, images_per_s_best=batch / t_best,
        mflop_per_image_step=fl / 1e6, gflops=fl * batch / t_med / 1e9,
        matmul_gflops_float32=mm)
    out["fraction_of_matmul"] = out["gflops"] / mm
    if breakdown:
        out["breakdown_seconds"], out["breakdown_gflops"] = _breakdown(vae, opt, x, rng, batch, repeat=3)
    return out


def _print(res: dict) -> None:
    print(f"Shapes3D VAE training step: batch {res['batch']}, {res['dtype']}, "
          f"fused upsample-conv {res['fused_upsample']}, {res['steps']} timed steps")
    print(f"  step time      median {res['step_seconds_median'] * 1e3:8.1f} ms   "
          f"best {res['step_seconds_best'] * 1e3:8.1f} ms")
    print(f"  throughput     {res['images_per_s']:8.1f} images/s (best {res['images_per_s_best']:.1f}); "
          f"target >= 100 on 2 cores")
    print(f"  FLOPs          {res['mflop_per_image_step']:.0f} MFLOP per image per step (nominal)")
    print(f"  achieved       {res['gflops']:8.2f} GFLOP/s = {100 * res['fraction_of_matmul']:.1f}% of "
          f"float32 matmul ({res['matmul_gflops_float32']:.1f} GFLOP/s, same run)")
    if "breakdown_seconds" in res:
        per = res["breakdown_seconds"]
        total = sum(per.values())
        gf = res.get("breakdown_gflops", {})
        print("  per-layer time (best of 3 instrumented steps; nominal GFLOP/s for Dense/conv):")
        for k, v in sorted(per.items(), key=lambda kv: -kv[1]):
            if v >= 0.005 * total:
                rate = f"{gf[k]:7.1f} GFLOP/s" if k in gf else ""
                print(f"    {k:<34} {v * 1e3:8.1f} ms  {100 * v / total:5.1f}%  {rate}")


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point (``refmem bench vae [--steps N] [--json PATH] ...``)."""
    p = argparse.ArgumentParser(prog="refmem bench vae", description=DESCRIPTION)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=5, help="timed steps (median reported)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--unfused", action="store_true",
                   help="UpSampling2D + Conv2D instead of the fused UpsampleConv2D")
    p.add_argument("--no-breakdown", action="store_true", help="skip the per-layer timing")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="also write the figures (and machine info) as JSON")
    a = p.parse_args(argv)
    if a.batch < 1 or a.steps < 1 or a.warmup < 0:
        p.error("--batch and --steps must be >= 1, --warmup >= 0")
    res = run(batch=a.batch, steps=a.steps, warmup=a.warmup, dtype=a.dtype, fused=not a.unfused,
              breakdown=not a.no_breakdown, seed=a.seed)
    _print(res)
    if a.json:
        save_json(a.json, {"benchmark": "vae", "machine": machine_info(), **res})
        print(f"  wrote {a.json}")
    return 0
