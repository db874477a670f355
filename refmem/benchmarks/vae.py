"""``refmem bench vae``: training throughput of the paper's Shapes3D VAE.

Times full training steps of :func:`refmem.neocortex.vae.shapes3d_vae` (forward, backward,
AMSGrad update; batch 32, float32, batch norm as the paper ran it) and a float32 matrix
product of comparable size (``2048 x 2048 @ 2048 x 2048``, 17 GFLOP against the step's
~14 nominal / ~8 executed GFLOP), interleaved: each of ``rounds`` rounds times
``steps`` training steps and one product, and the fraction of the matmul throughput is
the median over rounds of the per-round ratio, so a load that changes during the run
affects both sides alike. It reports

* images/s (median step),
* achieved GFLOP/s and that as a fraction of the same run's matmul throughput, for two
  FLOP counts (below),
* both by wall time and by the process's CPU time: on a machine shared with other jobs
  the CPU time of a single-threaded run (``OPENBLAS_NUM_THREADS=1``) is the stable
  figure (time-slicing does not enter it); with several BLAS threads only wall time is
  meaningful,
* a per-unit forward/backward profile (one more set of instrumented steps): every layer,
  or a convolution with the batch normalisation folded into it (``conv1+bn1``).

FLOP counting rule: a multiply-add is 2 FLOPs; only Dense and convolution layers count
(element-wise ops, batch norm, pooling and the optimiser are ignored); a training step is
3x the forward FLOPs (forward, input gradient, weight gradient; the encoder's first
layer skips its input gradient, which is still counted). *Nominal* counts "upsample x2
then conv 3x3" at the upsampled resolution as a plain ``Conv2D`` (or a framework) would
compute it: ~150 MFLOP forward, ~450 MFLOP per image per step. *Executed* counts the
decoder's transposed-convolution form, 16 instead of 36 taps per low-resolution pixel:
~83 MFLOP forward, ~249 MFLOP per image per step. The executed fraction is the hardware
efficiency; the nominal one compares with frameworks that upsample first.
"""
from __future__ import annotations

import argparse
import os
import time
from collections import OrderedDict
from typing import Dict, List, Optional

import numpy as np

from refmem._memory import retain_freed_memory
from refmem._utils import save_json
from refmem.nn.layers import Conv2D, Conv2DTranspose, Dense, UpsampleConv2D
from refmem.nn.optim import Adam
from refmem.benchmarks._common import machine_info

__all__ = ["DESCRIPTION", "main", "forward_flops", "run"]

DESCRIPTION = "Shapes3D VAE training step (batch 32, float32): images/s, GFLOP/s vs matmul"
MATMUL_N = 2048
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _sequentials(vae) -> List:
    enc = vae.encoder
    return [(f"encoder.", s) for s in (enc.trunk, enc.mu_head, enc.log_var_head) if s is not None] + \
        [("decoder.", vae.decoder)]


def _named_layers(vae) -> List:
    return [(p + l.name, l) for p, s in _sequentials(vae) for l in s.layers]


def _named_units(vae) -> List:
    return [(p + u.name, u) for p, s in _sequentials(vae) for u in getattr(s, "units", s.layers)]


def _layer_flops(layer, executed: bool = False) -> int:
    if isinstance(layer, Dense):
        return 2 * layer.input_shape[0] * layer.output_shape[0]
    if isinstance(layer, UpsampleConv2D) and executed:
        (kh, kw), (uh, uw) = layer.kernel_size, layer.size
        h, w, c = layer.input_shape
        return 2 * h * w * (kh + uh - 1) * (kw + uw - 1) * c * layer.filters
    if isinstance(layer, (Conv2D, UpsampleConv2D)):
        (kh, kw), c = layer.kernel_size, layer.input_shape[2]
        ho, wo, f = layer.output_shape
        return 2 * ho * wo * kh * kw * c * f  # nominal: at the output (upsampled) resolution
    if isinstance(layer, Conv2DTranspose):
        (kh, kw), (h, w, c) = layer.kernel_size, layer.input_shape
        return 2 * h * w * kh * kw * c * layer.output_shape[2]
    return 0


def _unit_flops(unit, executed: bool) -> int:
    return _layer_flops(getattr(unit, "layer", unit), executed)


def forward_flops(vae, executed: bool = False) -> int:
    """Analytic forward FLOPs per image, nominal or executed (rules in the module docstring)."""
    return sum(_layer_flops(l, executed) for _, l in _named_layers(vae))


def _matmul(dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((MATMUL_N, MATMUL_N)).astype(dtype)
    b = rng.standard_normal((MATMUL_N, MATMUL_N)).astype(dtype)
    out = np.empty((MATMUL_N, MATMUL_N), dtype)
    return lambda: np.matmul(a, b, out=out), 2.0 * MATMUL_N ** 3


def _instrument(named, times: Dict[str, float], clock):
    """Wrap forward/backward(_params) of each unit (instance attributes) to add up ``clock`` time."""
    def wrap(fn, key):
        def timed(*a, **k):
            t = clock()
            out = fn(*a, **k)
            times[key] += clock() - t
            return out
        return timed

    for name, u in named:
        times.setdefault(f"{name} forward", 0.0)
        times.setdefault(f"{name} backward", 0.0)
        u.forward = wrap(u.forward, f"{name} forward")
        u.backward = wrap(u.backward, f"{name} backward")
        if hasattr(u, "backward_params"):
            u.backward_params = wrap(u.backward_params, f"{name} backward")


def _uninstrument(named) -> None:
    for _, u in named:
        for attr in ("forward", "backward", "backward_params"):
            u.__dict__.pop(attr, None)


def _breakdown(vae, step, batch: int, clock, repeat: int = 3):
    """Per-unit forward/backward seconds (minimum over ``repeat`` instrumented steps) and
    the executed GFLOP/s of each convolution/Dense unit."""
    named = _named_units(vae)
    best: Dict[str, float] = OrderedDict()
    for _ in range(repeat):
        times: Dict[str, float] = OrderedDict()
        _instrument(named, times, clock)
        try:
            t0 = clock()
            t1, t2 = step(clock)
        finally:
            _uninstrument(named)
        units = OrderedDict(times)
        units["optimizer step"] = t2 - t1
        units["other (losses, reparameterisation)"] = max(0.0, (t1 - t0) - sum(times.values()))
        for k, v in units.items():
            best[k] = min(best.get(k, float("inf")), v)
    gflops = OrderedDict()
    for name, unit in named:
        f = _unit_flops(unit, executed=True) * batch
        if f:  # backward = input gradient + weight gradient = 2x the forward FLOPs
            if best[f"{name} forward"] > 0:
                gflops[f"{name} forward"] = f / best[f"{name} forward"] / 1e9
            if best[f"{name} backward"] > 0:
                gflops[f"{name} backward"] = 2 * f / best[f"{name} backward"] / 1e9
    return best, gflops


def run(batch: int = 32, rounds: int = 5, steps: int = 2, warmup: int = 2, dtype: str = "float32",
        fused: bool = True, breakdown: bool = True, seed: int = 0, clock: str = "wall") -> dict:
    """Interleave ``rounds`` x (``steps`` training steps, one matmul); return the figures."""
    from refmem.neocortex import shapes3d_vae

    kept = retain_freed_memory()  # as training does (train_epoch)
    rng = np.random.default_rng(seed)
    vae = shapes3d_vae(rng=rng, dtype=np.dtype(dtype), fused_upsample=fused)
    x = rng.uniform(0.0, 1.0, size=(batch, 64, 64, 3)).astype(dtype)
    opt = Adam(vae.params, lr=1e-3, amsgrad=True)

    def step(clk=time.perf_counter):
        vae.zero_grad()
        vae.forward_backward(x, None, rng, True, True)  # x already validated and cast
        t1 = clk()
        opt.step(vae.grads)
        return t1, clk()

    mm, mm_flop = _matmul(np.float32)
    for _ in range(max(0, warmup)):
        step()
    mm()
    per = {c: {"step": [], "mm": []} for c in CLOCKS}
    for _ in range(max(1, rounds)):
        for _ in range(max(1, steps)):
            t = {c: f() for c, f in CLOCKS.items()}
            step()
            for c, f in CLOCKS.items():
                per[c]["step"].append(f() - t[c])
        t = {c: f() for c, f in CLOCKS.items()}
        mm()
        for c, f in CLOCKS.items():
            per[c]["mm"].append(f() - t[c])
    nominal, executed = 3 * forward_flops(vae), 3 * forward_flops(vae, executed=True)  # per image per step
    out = OrderedDict(batch=batch, rounds=max(1, rounds), steps_per_round=max(1, steps), dtype=dtype,
                      fused_upsample=fused, mflop_per_image_step=nominal / 1e6,
                      executed_mflop_per_image_step=executed / 1e6, matmul_n=MATMUL_N,
                      openblas_num_threads=os.environ.get("OPENBLAS_NUM_THREADS"), freed_memory_kept=kept)
    for c in CLOCKS:
        st = np.array(per[c]["step"]).reshape(max(1, rounds), -1)
        mmt = np.array(per[c]["mm"])
        ratio = (mm_flop / mmt) / (batch / np.median(st, axis=1))  # per round: matmul FLOP/s over images/s
        pre = "" if c == "wall" else "cpu_"
        t_med = float(np.median(st))
        out[pre + "step_seconds_median"] = t_med
        out[pre + "step_seconds_best"] = float(st.min())
        out[pre + "images_per_s"] = batch / t_med
        out[pre + "gflops"] = nominal * batch / t_med / 1e9
        out[pre + "gflops_executed"] = executed * batch / t_med / 1e9
        out[pre + "matmul_gflops_float32"] = float(np.median(mm_flop / mmt)) / 1e9
        out[pre + "fraction_of_matmul"] = float(np.median(nominal / ratio))
        out[pre + "fraction_of_matmul_executed"] = float(np.median(executed / ratio))
    out["images_per_s_best"] = batch / out["step_seconds_best"]
    if breakdown:
        out["breakdown_clock"] = clock
        out["breakdown_seconds"], out["breakdown_gflops"] = _breakdown(vae, step, batch, CLOCKS[clock])
    return out


def _print(res: dict) -> None:
    print(f"Shapes3D VAE training step: batch {res['batch']}, {res['dtype']}, "
          f"fused upsample-conv {res['fused_upsample']}; {res['rounds']} rounds of "
          f"{res['steps_per_round']} steps + one {res['matmul_n']}^3 float32 matmul")
    print(f"  FLOPs          {res['mflop_per_image_step']:.0f} MFLOP per image per step nominal, "
          f"{res['executed_mflop_per_image_step']:.0f} executed")
    for pre, label in (("", "wall time"), ("cpu_", "CPU time")):
        print(f"  {label + ':':<14} step median {res[pre + 'step_seconds_median'] * 1e3:7.1f} ms = "
              f"{res[pre + 'images_per_s']:6.1f} images/s; matmul {res[pre + 'matmul_gflops_float32']:.1f} GFLOP/s")
        print(f"  {'':<14} {res[pre + 'gflops']:6.1f} GFLOP/s nominal = "
              f"{100 * res[pre + 'fraction_of_matmul']:.1f}% of float32 matmul; "
              f"{res[pre + 'gflops_executed']:6.1f} executed = {100 * res[pre + 'fraction_of_matmul_executed']:.1f}% "
              f"(median of per-round ratios)")
    if "breakdown_seconds" in res:
        per = res["breakdown_seconds"]
        total = sum(per.values())
        gf = res.get("breakdown_gflops", {})
        print(f"  per-unit time ({res['breakdown_clock']} clock, best of 3 instrumented steps; executed "
              f"GFLOP/s for Dense/conv):")
        for k, v in sorted(per.items(), key=lambda kv: -kv[1]):
            if v >= 0.005 * total:
                rate = f"{gf[k]:7.1f} GFLOP/s" if k in gf else ""
                print(f"    {k:<38} {v * 1e3:8.1f} ms  {100 * v / total:5.1f}%  {rate}")


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point (``refmem bench vae [--rounds N] [--json PATH] ...``)."""
    p = argparse.ArgumentParser(prog="refmem bench vae", description=DESCRIPTION)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--rounds", type=int, default=5, help="rounds of (steps, one matmul); medians reported")
    p.add_argument("--steps", type=int, default=2, help="training steps per round")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--unfused", action="store_true",
                   help="UpSampling2D + Conv2D instead of the fused UpsampleConv2D")
    p.add_argument("--clock", default="wall", choices=sorted(CLOCKS),
                   help="clock of the per-unit profile (cpu: process CPU time, for loaded machines)")
    p.add_argument("--no-breakdown", action="store_true", help="skip the per-unit timing")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="also write the figures (and machine info) as JSON")
    a = p.parse_args(argv)
    if a.batch < 1 or a.steps < 1 or a.rounds < 1 or a.warmup < 0:
        p.error("--batch, --rounds and --steps must be >= 1, --warmup >= 0")
    res = run(batch=a.batch, rounds=a.rounds, steps=a.steps, warmup=a.warmup, dtype=a.dtype,
              fused=not a.unfused, breakdown=not a.no_breakdown, seed=a.seed, clock=a.clock)
    _print(res)
    if a.json:
        save_json(a.json, {"benchmark": "vae", "machine": machine_info(), **res})
        print(f"  wrote {a.json}")
    return 0
