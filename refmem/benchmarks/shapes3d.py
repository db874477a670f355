"""Benchmark of the Shapes3D-like renderer (``refmem bench shapes3d``).

Reports, for 64x64 images with and without 2x2 supersampling:

* ``raycast``: images/s of the ray caster alone, every image cast from scratch
  (:func:`refmem.datasets._raycast.cast`, batches of 100; about
  200 images/s at 2x2 on a 2-core machine is the target);
* ``render_cold``: images/s of :func:`refmem.datasets.shapes3d.render` on random
  scenes starting from an empty geometry memo (what ``sample(n, cache=False)`` costs);
* ``render_warm``: the same once all geometries are memoised (colouring only);
* peak traced memory of one batch of 100 images (``tracemalloc``) and peak RSS.

Throughputs are also given per GFLOP/s of a float32 matmul measured in the same run,
so that numbers from loaded or different machines can be compared.
"""
from __future__ import annotations

import argparse
import resource
import tracemalloc
from typing import List, Optional

import numpy as np

from refmem._utils import save_json
from refmem.datasets import _raycast, shapes3d
from refmem.datasets._geometry import GEOMETRIES
from refmem.benchmarks._common import best_time, machine_info, matmul_gflops

DESCRIPTION = "Shapes3D-like renderer: images/s at 64x64 with and without 2x2 supersampling"


def _cast_all(lab: np.ndarray, supersample: int) -> None:
    for lo in range(0, len(lab), 100):
        b = lab[lo:lo + 100]
        _raycast.cast(b[:, 4], shapes3d.FACTOR_VALUES[3][b[:, 3]], shapes3d.FACTOR_VALUES[5][b[:, 5]],
                      64, supersample, GEOMETRIES[shapes3d.RENDERER_VERSION])  # the default renderer


def run(n: int = 1000, repeat: int = 1, seed: int = 0) -> dict:
    """Measure the renderer; returns a JSON-ready dict (see module docstring)."""
    lab = shapes3d.index_to_factors(np.random.default_rng(seed).choice(shapes3d.N_IMAGES, n, replace=False))
    gflops = matmul_gflops()
    res = {"n_images": n, "image_size": 64, "matmul_gflops_f32": gflops, "settings": {}}
    for ss in (1, 2):
        t_cast = best_time(lambda: _cast_all(lab, ss), repeat)

        def cold():
            shapes3d._MEMO.clear()
            shapes3d.render(lab, 64, ss)
        t_cold = best_time(cold, repeat)
        t_warm = best_time(lambda: shapes3d.render(lab, 64, ss), repeat)
        shapes3d._MEMO.clear()
        tracemalloc.start()
        shapes3d.render(lab[:100], 64, ss)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        shapes3d._MEMO.clear()
        r = {"raycast_images_per_s": n / t_cast, "render_cold_images_per_s": n / t_cold,
             "render_warm_images_per_s": n / t_warm, "peak_traced_mb_batch100": peak / 2 ** 20}
        r.update({k.replace("_per_s", "_per_s_per_gflops"): v / gflops for k, v in list(r.items())
                  if k.endswith("_per_s")})
        res["settings"][f"supersample={ss}"] = r
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res["machine"] = machine_info()
    return res


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="refmem bench shapes3d", description=DESCRIPTION)
    p.add_argument("--n", type=int, default=1000, help="images per measurement (default 1000)")
    p.add_argument("--repeat", type=int, default=1, help="best of this many runs after a warm-up (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    a = p.parse_args(argv)
    if not 1 <= a.n <= shapes3d.N_IMAGES or a.repeat < 1:
        p.error("--n must lie in [1, 480000] and --repeat be >= 1")
    res = run(a.n, a.repeat, a.seed)
    print(f"shapes3d renderer, {a.n} random 64x64 scenes; float32 matmul {res['matmul_gflops_f32']:.1f} GFLOP/s")
    print(f"{'setting':<14}{'raycast/s':>11}{'render cold/s':>15}{'render warm/s':>15}{'peak MB (100)':>15}")
    for name, r in res["settings"].items():
        print(f"{name:<14}{r['raycast_images_per_s']:>11.0f}{r['render_cold_images_per_s']:>15.0f}"
              f"{r['render_warm_images_per_s']:>15.0f}{r['peak_traced_mb_batch100']:>15.0f}")
    ok = res["settings"]["supersample=2"]["raycast_images_per_s"] >= 200
    print(f"peak RSS {res['peak_rss_mb']:.0f} MB; target >= 200 images/s ray-cast at 2x2: "
          f"{'met' if ok else 'NOT met (machine load?)'}")
    if a.json:
        save_json(a.json, res)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
