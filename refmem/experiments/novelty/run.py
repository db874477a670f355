"""E17 end to end: familiar vs novel items, reconstruction error, and trace size.

1. **Shapes3D**: scenes without the novel shape train the Shapes3D VAE
   (:func:`refmem.neocortex.training.fit`); test sets: unseen scenes of the three
   trained shapes (familiar; twice ``n_test``, for the control) and scenes of the
   novel shape.
2. **Digits**: the shipped digits without the novel classes train the digits VAE; test
   sets: unseen digits of the trained classes, digits of the novel classes, and
   rendered scenes in greyscale 28 x 28 (out of domain).
3. Per item: reconstruction error ``sum_pixels mean_channels |x - decode(mu(x))|``
   (the paper's metric) and trace size (pixels whose prediction error exceeds
   ``trace_threshold``: the extended model's stored sensory units).
4. ``results.json``, ``report.md``, figures.

Both VAEs train with the consolidation loop (:func:`refmem.systems.consolidation.train`:
per-epoch held-out error and class decoding on the familiar items, a checkpoint after
every epoch). With ``resume`` an interrupted training continues from its checkpoint and
finished VAEs saved in the run folder are reused.
"""
from __future__ import annotations

import os
import time
from typing import Dict

import numpy as np

from refmem._utils import load_json, save_json, spawn_rngs
from refmem.analysis.metrics import per_image_error
from refmem.config import config_to_dict, is_saved_config
from refmem._errors import UsageError, warn
from refmem.experiments.common import prepare_out_dir, versions
from refmem.experiments.runner import finish
from refmem.experiments.criteria import evaluate
from refmem.experiments.novelty import figures as figs
from refmem.experiments.novelty.config import NoveltyConfig, scene_pool, validate_config
from refmem.experiments.novelty.criteria import RANDOM_SPLIT, SETS, criteria_for, measures, set_measures
from refmem.experiments.novelty.report import write_report
from refmem.hippocampus.traces import prediction_error
from refmem.neocortex.recall import reconstruct
from refmem.progress import log as _print

__all__ = ["run", "shapes_sets", "digits_sets", "STREAM_ENTROPY"]

#: mixed into the seed so this experiment's scenes differ from other experiments' for one --seed
STREAM_ENTROPY = 0x70E17
STREAMS = ("shapes", "digits", "ood", "init_shapes", "init_digits", "batches")


def shapes_sets(cfg: NoveltyConfig, rng):
    """Shapes3D train / familiar (2 n_test) / novel (n_test) scenes, and the familiar scenes' shapes.

    Returns ``(sets, familiar_labels)``; the novel shape occurs only in ``sets["novel_shape"]``.
    """
    from refmem.datasets.shapes3d import SHAPE, sample

    n_fam = cfg.shapes_train + 2 * cfg.n_test
    pool = scene_pool(cfg.shapes_train, cfg.n_test)
    x, lab = sample(pool, rng, supersample=cfg.supersample, progress=False)
    fam, nov = np.flatnonzero(lab[:, SHAPE] != cfg.novel_shape), np.flatnonzero(lab[:, SHAPE] == cfg.novel_shape)
    if len(fam) < n_fam or len(nov) < cfg.n_test:
        raise ValueError("the scene pool is too small for this split; use another seed")
    return ({"train": x[fam[:cfg.shapes_train]], "familiar": x[fam[cfg.shapes_train:n_fam]],
             "novel_shape": x[nov[:cfg.n_test]]}, lab[fam[cfg.shapes_train:n_fam], SHAPE])


def digits_sets(cfg: NoveltyConfig, rng, rng_ood):
    """Digits train / familiar (2 n_test, unseen digits of trained classes) / novel classes / scenes.

    Returns ``(sets, familiar_labels)``.
    """
    from refmem.datasets import digits
    from refmem.datasets.shapes3d import sample

    images, labels = digits.load()
    x = (images.astype(np.float32) / np.float32(255))[..., None]
    novel = np.isin(labels, cfg.digits_novel)
    fam = rng.permutation(np.flatnonzero(~novel))
    nov = rng.permutation(np.flatnonzero(novel))
    scenes, _ = sample(cfg.n_test, rng_ood, image_size=28, supersample=cfg.supersample, progress=False)
    grey = scenes.mean(axis=-1, keepdims=True).astype(np.float32)       # greyscale: channel mean
    train = fam[2 * cfg.n_test:] if cfg.digits_train is None else fam[2 * cfg.n_test:2 * cfg.n_test + cfg.digits_train]
    return ({"train": x[train], "familiar": x[fam[:2 * cfg.n_test]],
             "novel_digits": x[nov[:cfg.n_test]], "scenes_ood": grey}, labels[fam[:2 * cfg.n_test]])


def _train(vae, x, familiar, labels, epochs, batch, lr, seed, checkpoint, resume, say, name):
    """The consolidation loop (per-epoch held-out error and class decoding, checkpoint, exact resume)."""
    from refmem.nn.optim import Adam
    from refmem.systems.consolidation import train

    half = len(familiar) // 2
    held = (familiar, labels, np.arange(half), np.arange(half, len(familiar)), "svc", min(200, len(familiar)))
    h = train(vae, Adam(vae.params, lr=lr, amsgrad=True), x, held, epochs=epochs, batch_size=batch,
              patience=epochs, batch_seed=seed, checkpoint_path=checkpoint, resume=resume,
              log=lambda line: say(f"novelty ({name}): " + line))
    say(f"novelty: {name} VAE trained on {len(x)} items for {epochs} epochs, loss {h['loss'][0]:.1f} -> "
        f"{h['loss'][-1]:.1f}")
    return {"loss": list(h["loss"]), "decoding_accuracy": list(h["decoding_accuracy"])}


def _reload(vae, path) -> bool:
    """Load ``vae``'s weights from an earlier run's file; a damaged file means training again (a warning)."""
    try:
        vae.load_weights(path)
    except ValueError as exc:
        warn(f"{exc}; training this VAE again")
        return False
    return True


def _digits_vae(cfg, rng):
    from refmem.neocortex import mnist_vae

    vae = mnist_vae(latent_dim=cfg.digits_latent, rng=rng)
    vae.recon, vae.kl_weight = cfg.digits_recon, float(cfg.digits_kl_weight)   # training loss (see the config)
    return vae


def _scores(vae, x, trace_threshold):
    x_hat = reconstruct(vae, x)
    return per_image_error(x, x_hat), (prediction_error(x, x_hat) > trace_threshold).sum(axis=(1, 2)), x_hat


def run(config: NoveltyConfig, out_dir: str, *, resume: bool = False, quiet: bool = False,
        preset: str = "custom", log=None) -> Dict:
    """Run E17 and write ``results.json``, ``report.md`` and the figures into ``out_dir``."""
    from refmem.neocortex import shapes3d_vae

    cfg = validate_config(config)
    say = (lambda s: None) if quiet else (log or _print)
    prepare_out_dir(out_dir)
    cfg_path = os.path.join(out_dir, "config.json")
    reuse = resume and os.path.exists(cfg_path) and is_saved_config(load_json(cfg_path), cfg)
    if resume and not reuse and os.path.exists(cfg_path):
        raise UsageError(f"cannot resume: {out_dir} holds a run with another config; use a new --out")
    save_json(cfg_path, config_to_dict(cfg))
    rng = spawn_rngs(np.random.SeedSequence([int(cfg.seed), STREAM_ENTROPY]), STREAMS)
    t_all = t = time.perf_counter()
    cpu0 = time.process_time()
    shapes, shapes_y = shapes_sets(cfg, rng["shapes"])
    digit_sets, digits_y = digits_sets(cfg, rng["digits"], rng["ood"])
    data, fam_labels = {"shapes": shapes, "digits": digit_sets}, {"shapes": shapes_y, "digits": digits_y}
    timings = {"data": time.perf_counter() - t}
    seeds = rng["batches"].integers(2 ** 63, size=2)
    vaes, loss = {}, {}
    for i, (dom, make, epochs, batch, lr) in enumerate((
            ("shapes", lambda: shapes3d_vae(latent_dim=20, rng=rng["init_shapes"], widths=tuple(cfg.vae_widths)),
             cfg.shapes_epochs, cfg.shapes_batch, 1e-3),
            ("digits", lambda: _digits_vae(cfg, rng["init_digits"]),
             cfg.digits_epochs, cfg.digits_batch, cfg.digits_lr))):
        t, path = time.perf_counter(), os.path.join(out_dir, f"vae_{dom}.npz")
        vaes[dom] = make()
        if reuse and os.path.isfile(path) and _reload(vaes[dom], path):
            say(f"novelty: reusing {path}")
        else:
            loss[dom] = _train(vaes[dom], data[dom]["train"], data[dom]["familiar"], fam_labels[dom], epochs, batch,
                               lr, int(seeds[i]), os.path.join(out_dir, f"checkpoint_{dom}.npz"), resume, say, dom)
            vaes[dom].save(path)
        timings[f"train_{dom}"] = time.perf_counter() - t
    t = time.perf_counter()
    scores = {dom: {k: _scores(vaes[dom], x, cfg.trace_threshold) for k, x in d.items()} for dom, d in data.items()}
    thresholds = {"digits": float(cfg.digits_threshold),
                  "shapes": float(cfg.shapes_threshold) if cfg.shapes_threshold is not None
                  else float(np.quantile(scores["shapes"]["train"][0], cfg.threshold_quantile))}
    per_set, split = {}, {}
    n = cfg.n_test
    for s in SETS:
        dom = "shapes" if s == "novel_shape" else "digits"
        fe, ft, _ = scores[dom]["familiar"]
        ne, nt, _ = scores[dom][s]
        per_set[s] = set_measures(fe[:n], ne, ft[:n], nt, thresholds[dom])
        split[s] = set_measures(fe[:n], fe[n:], ft[:n], ft[n:], thresholds[dom])   # the random-split control
    timings["scoring"] = time.perf_counter() - t
    rows = evaluate(criteria_for(cfg.min_fraction_gap, cfg.min_auc, cfg.alpha), measures(per_set),
                    {RANDOM_SPLIT: measures(split)})
    res = {"experiment": "novelty", "preset": preset, "config": config_to_dict(cfg), "versions": versions(),
           "thresholds": thresholds, "sets": per_set, "random_split": split, "training_loss": loss,
           "errors": {dom: {k: v[0].tolist() for k, v in sc.items()} for dom, sc in scores.items()},
           "trace_sizes": {dom: {k: v[1].tolist() for k, v in sc.items()} for dom, sc in scores.items()}}
    t = time.perf_counter()
    res["figures"], res["skipped_figures"] = figs.write_figures(out_dir, res, data, scores, n)
    timings["figures"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_all
    timings["cpu_s"] = time.process_time() - cpu0             # ~ idle wall time with one BLAS thread
    res["timings"] = timings
    return finish(out_dir, res, rows, write_report, lambda line: say("novelty: " + line))
