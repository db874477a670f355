"""Boundary extension and contraction (paper.md E11), end to end: ``run(config, out_dir)``.

1. The consolidated Shapes3D VAE (:func:`refmem.experiments.trained_vae.trained_vae`).
2. Held-out cubes whose object hue differs from both the floor and the wall hue.
3. For every zoom level z: zoom (edge-replicated pad for z < 100, crop for z > 100,
   bicubic resize back; the paper's uint8 pipeline), zero 10 % of the elements, recall
   ``decode(mu(cue))``.
4. Object height in the middle column of the zoomed clean input and of the recall
   (k-means colour segmentation, :func:`refmem.analysis.segmentation.object_height`);
   change = (h_out - h_in) / h_in. The identity control measures the zoomed input again
   (fresh k-means draws); a second identity returns the noisy cue itself.
5. ``results.json``, ``report.md`` and the figures.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional

import numpy as np

from refmem._utils import as_rng, spawn_rngs
from refmem.config import config_to_dict
from refmem.experiments.boundary import figures, report
from refmem.experiments.boundary.config import PAPER_MEDIANS, BoundaryConfig, validate_config
from refmem.experiments.boundary.criteria import CONTROL, CRITERIA, NOISY, measures
from refmem.experiments.common import prepare_out_dir, versions
from refmem.experiments.criteria import evaluate
from refmem.experiments.runner import finish, run_vae
from refmem.progress import format_seconds, log

__all__ = ["run", "held_out_cubes", "heights", "STREAMS", "STREAM_ENTROPY"]

#: named random streams of a run
STREAMS = ("scenes", "noise", "kmeans")
#: mixed into the seed so the scenes are not the consolidation's scenes for the same seed
STREAM_ENTROPY = 0xB0E11


def held_out_cubes(n: int, rng: Any, supersample: int = 2) -> tuple:
    """``n`` distinct rendered cubes whose object hue differs from floor and wall hue (paper.md E11).

    Factor combinations are drawn uniformly without replacement among all cubes that
    satisfy the condition; images are quantised to 8 bits like :func:`shapes3d.sample`.

    Returns
    -------
    images : (n, 64, 64, 3) float32 in [0, 1]; labels : (n, 6) int64
    """
    from refmem.datasets import shapes3d

    lab = shapes3d.index_to_factors(np.arange(shapes3d.N_IMAGES))
    ok = (lab[:, 4] == 0) & (lab[:, 2] != lab[:, 0]) & (lab[:, 2] != lab[:, 1])
    pool = np.flatnonzero(ok)
    if not 1 <= n <= len(pool):
        raise ValueError(f"n_images must lie in [1, {len(pool)}], got {n}")
    labels = lab[np.sort(as_rng(rng).choice(pool, size=int(n), replace=False))]
    imgs = shapes3d.render(labels, 64, supersample)
    return (np.floor(imgs * np.float32(255) + np.float32(0.5)) / np.float32(255)).astype(np.float32), labels


def heights(images: np.ndarray, rng: Any, cfg: BoundaryConfig) -> np.ndarray:
    """Object height (:func:`object_height`) of every image, k-means draws from ``rng`` in order."""
    from refmem.analysis.segmentation import object_height

    return np.array([object_height(im, rng, k=cfg.k, column=cfg.column, rows=tuple(cfg.rows),
                                   attempts=cfg.attempts, max_iter=cfg.max_iter, eps=cfg.eps) for im in images])


def run(config: BoundaryConfig, out_dir: str, *, vae: Any = None, vae_path: Optional[str] = None,
        preset: str = "custom", quiet: bool = False, say: Optional[Callable[[str], None]] = None) -> Dict[str, Any]:
    """Run the boundary-extension experiment with ``config`` (BoundaryConfig); write its outputs into ``out_dir``.

    The VAE is ``vae`` if given, else the file ``vae_path``, else the consolidated VAE of
    ``config.vae_preset`` (:func:`refmem.experiments.runner.run_vae`); ``preset`` is the
    name recorded in the report; ``quiet`` silences the progress lines (``say`` receives
    them otherwise). Returns the content of ``results.json``.
    """
    from refmem.datasets.transforms import noise, zoom
    from refmem.analysis.segmentation import size_change
    from refmem.neocortex.recall import reconstruct

    cfg = validate_config(config)
    say = (lambda s: None) if quiet else (say or (lambda s: log("boundary: " + s)))
    t_all = time.perf_counter()
    vae, vae_info = run_vae(vae, vae_path, cfg.vae_preset, cfg.seed, (64, 64, 3), say, quiet)
    prepare_out_dir(out_dir)
    rngs = spawn_rngs(np.random.SeedSequence([int(cfg.seed), STREAM_ENTROPY]), STREAMS)
    x, labels = held_out_cubes(cfg.n_images, rngs["scenes"], cfg.supersample)
    zooms = sorted(int(z) for z in cfg.zoom_levels)
    n_ctrl = cfg.n_images if cfg.n_control is None else min(cfg.n_control, cfg.n_images)
    h_in, h_out, h_ctrl, h_noisy = (np.zeros((len(zooms), n), np.int64)
                                    for n in (cfg.n_images, cfg.n_images, n_ctrl, n_ctrl))
    examples = []
    t0 = time.perf_counter()
    for k, z in enumerate(zooms):
        zoomed = zoom(x, z, quantize=True)  # pad / crop, bicubic back to 64x64, uint8 levels
        cue = noise(zoomed, cfg.cue_fraction, rngs["noise"])  # exactly int(size f) elements zeroed
        recall = reconstruct(vae, cue)  # decode(mu(cue))
        h_in[k] = heights(zoomed, rngs["kmeans"], cfg)
        h_out[k] = heights(recall, rngs["kmeans"], cfg)
        h_ctrl[k] = heights(zoomed[:n_ctrl], rngs["kmeans"], cfg)  # identity: the recall is the input
        h_noisy[k] = heights(cue[:n_ctrl], rngs["kmeans"], cfg)  # ... or the noisy cue itself
        examples.append((zoomed[0], cue[0], recall[0]))
        med = np.median(size_change(h_in[k], h_out[k]))
        say(f"zoom {z}%: median change {med:+.3f} ({format_seconds(time.perf_counter() - t0)} elapsed)")
    t_measure = time.perf_counter() - t0
    change = size_change(h_in, h_out)
    m = measures(zooms, change)
    controls = {CONTROL: measures(zooms, size_change(h_in[:, :n_ctrl], h_ctrl)),
                NOISY: measures(zooms, size_change(h_in[:, :n_ctrl], h_noisy))}
    rows = evaluate(CRITERIA, m, controls)
    written, skipped = figures.write_figures(out_dir, zooms, change, x[0], examples)
    res = {"experiment": "boundary", "preset": preset, "config": config_to_dict(cfg), "versions": versions(),
           "vae": vae_info, "measures": m, "controls": controls,
           "paper_medians": {str(k): v for k, v in PAPER_MEDIANS.items()},
           "n_zero_input_height": int(np.sum(h_in == 0)), "n_control": n_ctrl,
           "per_image": {"zoom": zooms, "h_in": h_in.tolist(), "h_out": h_out.tolist(), "labels": labels.tolist()},
           "figures": written, "skipped_figures": skipped,
           "timings": {"vae_s": vae_info["train_s"], "measure_s": t_measure,
                       "total_s": time.perf_counter() - t_all}}
    return finish(out_dir, res, rows, report.write_report, say)
