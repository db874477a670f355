"""How Shapes3D-like are the built-in renders? Judged by a VAE trained on real Shapes3D.

``refmem bench renderer-critic --vae shapes3d_vae.npz`` renders ``n`` random scenes
(default 600, 2x2 supersampling, as the experiments use) with every renderer version
(``--renderer`` picks some; the same scenes for each) and passes them through a VAE
trained on the *real* dataset, normally the paper's released Shapes3D VAE converted with
``refmem convert keras`` (docs/crosscheck.md). It reports:

* the reconstruction error decode(μ(x)) vs x, the paper's metric (Σ over the 4,096 pixels
  of the channel-mean |x - x̂|): median, quartiles, mean. For scale: the paper's run ended
  training at a loss of about 47 on real images; the error of predicting every render by
  the mean render is also given (``mean_image_error``);
* ``shape_1nn``: leave-one-out 1-nearest-neighbour accuracy of the shape factor from the
  latent means μ (Euclidean; chance 0.25), also per shape (``shape_1nn_by_shape``);
* the median error per shape, scale and orientation, and the factors of the worst
  renders (``--out DIR`` also writes ``worst_v<V>.png`` per version: the worst renders
  above their reconstructions, and ``results.json``).

With several versions the figures are printed side by side, one column per version.

A renderer close to the real data gives a low error and a high 1-NN accuracy; the
numbers are a calibration aid, not a pass/fail criterion.
"""
from __future__ import annotations

import argparse
import os
import time
from typing import List, Optional

import numpy as np

from refmem._utils import save_json
from refmem.datasets import shapes3d

DESCRIPTION = ("Shapes3D-like renders judged by a VAE trained on real Shapes3D (--vae): "
               "reconstruction error and shape 1-NN from latent means")


def loo_1nn_predictions(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Leave-one-out 1-nearest-neighbour prediction of each row's label (Euclidean; ties to the lowest index)."""
    f = np.asarray(features, np.float64)
    sq = np.einsum("ij,ij->i", f, f)
    d = sq[:, None] + sq[None, :] - 2.0 * f @ f.T  # ||a - b||^2
    np.fill_diagonal(d, np.inf)
    return np.asarray(labels)[np.argmin(d, axis=1)]


def loo_1nn_accuracy(features: np.ndarray, labels: np.ndarray) -> float:
    """Leave-one-out 1-nearest-neighbour accuracy (Euclidean; ties to the lowest index)."""
    return float(np.mean(loo_1nn_predictions(features, labels) == labels))


def _by_factor(err: np.ndarray, labels: np.ndarray, factor: int) -> dict:
    names = shapes3d.SHAPE_NAMES if factor == shapes3d.SHAPE else None
    out = {}
    for v in range(shapes3d.FACTOR_SIZES[factor]):
        sel = labels[:, factor] == v
        if sel.any():
            key = names[v] if names else f"{shapes3d.FACTOR_VALUES[factor][v]:.3g}"
            out[key] = float(np.median(err[sel]))
    return out


def run(vae_path: str, n: int = 600, seed: int = 0, supersample: int = 2, n_worst: int = 16,
        version: Optional[int] = None, vae=None) -> dict:
    """Measure one renderer version (default :data:`refmem.datasets.shapes3d.RENDERER_VERSION`).

    Returns a JSON-ready dict (see the module docstring) plus, under the private key
    ``"_worst_images"``, the worst renders and their reconstructions. ``vae`` (already
    loaded from ``vae_path``) saves loading it again.
    """
    from refmem.analysis.metrics import per_image_error
    from refmem.neocortex.architectures import load_vae

    vae = load_vae(vae_path) if vae is None else vae
    if vae.input_shape != (64, 64, 3):
        raise ValueError(f"{vae_path}: expected a 64x64x3 (Shapes3D) VAE, got input shape {vae.input_shape}")
    version = shapes3d.RENDERER_VERSION if version is None else version
    t0 = time.perf_counter()
    x, labels = shapes3d.sample(n, rng=seed, supersample=supersample, cache=False, progress=False,
                                version=version)
    t_render = time.perf_counter() - t0
    mu, _ = vae.encode(x, batch_size=100)
    x_hat = vae.decode(mu, batch_size=100)
    err = per_image_error(x, x_hat)
    mean_err = per_image_error(x, np.broadcast_to(x.mean(axis=0), x.shape))
    worst = np.argsort(-err)[:n_worst]
    shape = labels[:, shapes3d.SHAPE]
    pred = loo_1nn_predictions(mu, shape)
    return {
        "vae": os.fspath(vae_path), "n": n, "seed": seed, "supersample": supersample,
        "renderer_version": int(version), "default_version": shapes3d.RENDERER_VERSION,
        "recon_error": {"median": float(np.median(err)), "q25": float(np.percentile(err, 25)),
                        "q75": float(np.percentile(err, 75)), "mean": float(err.mean()),
                        "max": float(err.max())},
        "mean_image_error_median": float(np.median(mean_err)),
        "shape_1nn": float(np.mean(pred == shape)),
        "shape_1nn_by_shape": {name: float(np.mean(pred[shape == k] == k)) for k, name in enumerate(shapes3d.SHAPE_NAMES)
                               if np.any(shape == k)},
        "median_error_by": {name: _by_factor(err, labels, f) for f, name in
                            ((shapes3d.SHAPE, "shape"), (3, "scale"), (5, "orientation"))},
        "worst": [{"error": float(err[i]), **{shapes3d.FACTOR_NAMES[f]: float(shapes3d.FACTOR_VALUES[f][labels[i, f]])
                                              for f in range(6)}} for i in worst],
        "render_s": t_render, "total_s": time.perf_counter() - t0,
        "_worst_images": np.concatenate([x[worst], x_hat[worst]]),
    }


def _print_side_by_side(results: List[dict]) -> None:
    """One row per measure, one column per version."""
    head = "| measure | " + " | ".join(f"v{r['renderer_version']}" for r in results) + " |"
    print(head + "\n|---|" + "---|" * len(results))
    rows = [("recon error, median", lambda r: f"{r['recon_error']['median']:.1f}"),
            ("recon error, quartiles", lambda r: f"{r['recon_error']['q25']:.1f}-{r['recon_error']['q75']:.1f}"),
            ("recon error, mean", lambda r: f"{r['recon_error']['mean']:.1f}"),
            ("mean-image predictor, median", lambda r: f"{r['mean_image_error_median']:.1f}"),
            ("shape 1-NN from mu (chance 0.25)", lambda r: f"{r['shape_1nn']:.3f}")]
    rows += [(f"shape 1-NN, {k}", lambda r, k=k: f"{r['shape_1nn_by_shape'][k]:.3f}")
             for k in results[0]["shape_1nn_by_shape"]]
    for name, d in results[0]["median_error_by"].items():
        rows += [(f"median error, {name} {k}", lambda r, name=name, k=k: f"{r['median_error_by'][name][k]:.0f}")
                 for k in d]
    for label, fn in rows:
        print(f"| {label} | " + " | ".join(fn(r) for r in results) + " |")


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="refmem bench renderer-critic", description=DESCRIPTION)
    p.add_argument("--vae", required=True, metavar="PATH",
                   help="a Shapes3D VAE trained on real images (e.g. the paper's, via `refmem convert keras`)")
    p.add_argument("--n", type=int, default=600, help="renders (default 600)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--supersample", type=int, default=2)
    p.add_argument("--renderer", type=int, nargs="+", default=None, metavar="V",
                   help="renderer versions to judge (default: all, "
                        + ", ".join(map(str, shapes3d.RENDERER_VERSIONS)) + f"; v{shapes3d.RENDERER_VERSION} is "
                        "the default renderer)")
    p.add_argument("--out", metavar="DIR", help="write results.json and worst_v<V>.png here")
    a = p.parse_args(argv)
    if not 2 <= a.n <= shapes3d.N_IMAGES:
        p.error("--n must lie in [2, 480000]")
    if not os.path.isfile(a.vae):
        p.error(f"--vae {a.vae!r}: no such file")
    versions = list(dict.fromkeys(a.renderer or shapes3d.RENDERER_VERSIONS))
    bad = [v for v in versions if v not in shapes3d.RENDERER_VERSIONS]
    if bad:
        p.error(f"--renderer {bad[0]}: not a renderer version (choose from {list(shapes3d.RENDERER_VERSIONS)})")
    from refmem.neocortex.architectures import load_vae

    vae = load_vae(a.vae)
    results, images = [], {}
    for v in versions:
        res = run(a.vae, a.n, a.seed, a.supersample, version=v, vae=vae)
        images[v] = res.pop("_worst_images")
        results.append(res)
    print(f"{a.n} renders (seed {a.seed}, the same scenes for every version), judged by {a.vae}; "
          f"default renderer v{shapes3d.RENDERER_VERSION}")
    for res in results:
        r = res["recon_error"]
        print(f"renderer v{res['renderer_version']}: reconstruction error (sum over pixels of channel-mean "
              f"|x - x_hat|) median {r['median']:.1f} (quartiles {r['q25']:.1f}-{r['q75']:.1f}, mean {r['mean']:.1f}); "
              f"mean-image predictor: median {res['mean_image_error_median']:.1f}; shape from latent means, "
              f"leave-one-out 1-NN: {res['shape_1nn']:.3f} (chance 0.25; "
              + ", ".join(f"{k} {v:.2f}" for k, v in res["shape_1nn_by_shape"].items()) + ")")
        for name, d in res["median_error_by"].items():
            print(f"  median error by {name}: " + ", ".join(f"{k} {v:.0f}" for k, v in d.items()))
        print("  worst renders: " + "; ".join(
            f"{w['error']:.0f} {shapes3d.SHAPE_NAMES[int(w['shape'])]} scale {w['scale']:.2f} "
            f"orient {w['orientation']:.0f}" for w in res["worst"][:8]))
    if len(results) > 1:
        print()
        _print_side_by_side(results)
    if a.out:
        from refmem.imageio import save_grid

        os.makedirs(a.out, exist_ok=True)
        save_json(os.path.join(a.out, "results.json"),
                  {"vae": results[0]["vae"], "n": a.n, "seed": a.seed, "supersample": a.supersample,
                   "default_version": shapes3d.RENDERER_VERSION,
                   "versions": {str(r["renderer_version"]): r for r in results}})
        for v, imgs in images.items():
            save_grid(os.path.join(a.out, f"worst_v{v}.png"), imgs, ncols=len(imgs) // 2, scale=2)
        print(f"results.json and worst_v<V>.png (worst renders above their reconstructions) in {a.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
