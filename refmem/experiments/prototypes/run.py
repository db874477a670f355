"""Prototypical distortion on real digits (paper.md E10), end to end: ``run(config, out_dir)``.

1. The 5,000 shipped MNIST digits (:mod:`refmem.datasets.digits`), ``n_per_class`` per
   class, split per class into a stored half and a held-out half.
2. The MNIST VAE (:func:`refmem.neocortex.mnist_vae`): the one given (``vae`` /
   ``vae_path``), or a new one consolidated from Hopfield replays of the stored half
   (:func:`refmem.systems.replay_training.consolidate_by_replay`), saved as ``vae.npz``.
3. Recall = ``decode(mu(x))`` without noise, for every digit.
4. Variance statistics on the held-out half, the stored half and all digits; the
   criteria on one of them (``measure_on``), with the identity control.
5. ``results.json``, ``report.md`` and the figures.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, Optional

import numpy as np

from refmem._utils import spawn_rngs
from refmem.config import config_to_dict
from refmem.experiments.common import prepare_out_dir, versions
from refmem.experiments.criteria import evaluate
from refmem.experiments.runner import finish, run_vae
from refmem.experiments.prototypes import figures, report
from refmem.experiments.prototypes.config import MEASURE_SETS, PrototypesConfig, validate_config
from refmem.experiments.prototypes.criteria import CONTROL, CRITERIA, UNTRAINED, measures
from refmem.progress import log

__all__ = ["run", "split_digits", "STREAMS"]

#: named random streams of a run
STREAMS = ("split", "init", "consolidation")


def split_digits(labels: np.ndarray, n_per_class: int, rng: Any) -> Dict[str, np.ndarray]:
    """Per class, a random ``n_per_class`` of the digits, halved: ``{"trained", "heldout"}`` indices.

    The stored ("trained") half gets ``n_per_class // 2`` digits of each class, the
    held-out half the rest; both are sorted.
    """
    trained, held = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))[:n_per_class]
        trained.append(idx[:n_per_class // 2])
        held.append(idx[n_per_class // 2:])
    return {"trained": np.sort(np.concatenate(trained)), "heldout": np.sort(np.concatenate(held))}


def _training_loss(vae, name: str) -> None:
    """Set the VAE's training loss: ``bce`` = summed BCE + KL, as mean BCE + KL / P (same
    minimiser, gradients / P, which Adam's normalisation absorbs); ``l1`` = the paper's."""
    if name == "bce":
        vae.recon, vae.kl_weight = "bce", 1.0 / float(np.prod(vae.input_shape))
    else:
        vae.recon, vae.kl_weight = "l1_channel_mean", 1.0


def _json_measures(m: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in m.items() if not isinstance(v, np.ndarray)}


def run(config: PrototypesConfig, out_dir: str, *, vae: Any = None, vae_path: Optional[str] = None,
        preset: str = "custom", quiet: bool = False, say: Optional[Callable[[str], None]] = None) -> Dict[str, Any]:
    """Measure prototypical distortion with ``config``; write the outputs into ``out_dir``.

    Without ``vae`` or ``vae_path`` an MNIST VAE is consolidated here from replays of the
    stored half of the digits; with either, that VAE is measured (``vae`` wins; a file may
    hold e.g. weights converted from the paper's release). ``preset`` names the run in the
    report, ``quiet`` silences progress. Returns the content of ``results.json``.
    """
    from refmem.datasets import digits
    from refmem.neocortex import mnist_vae
    from refmem.neocortex.recall import reconstruct
    from refmem.systems.replay_training import consolidate_by_replay

    cfg = validate_config(config)
    say = (lambda s: None) if quiet else (say or (lambda s: log("prototypes: " + s)))
    prepare_out_dir(out_dir)
    t_all = time.perf_counter()
    rngs = spawn_rngs(cfg.seed, STREAMS)
    images, labels = digits.load()
    x_all = (images.astype(np.float32) / np.float32(255))[..., None]  # (5000, 28, 28, 1) in [0, 1]
    split = split_digits(labels, cfg.n_per_class, rngs["split"])
    sets = {"trained": split["trained"], "heldout": split["heldout"],
            "all": np.sort(np.concatenate([split["trained"], split["heldout"]]))}
    consolidation = None
    if vae is not None or vae_path is not None:
        vae, vae_info = run_vae(vae, vae_path, "", cfg.seed, (28, 28, 1), say, quiet)
    else:
        vae = mnist_vae(cfg.latent_dim, rng=rngs["init"], dtype=np.float32)
        mem = x_all[split["trained"]]
        say(f"consolidating the MNIST VAE from replays of {len(mem)} digits ({cfg.epochs} epochs max) ...")
        _training_loss(vae, cfg.train_loss)
        consolidation = consolidate_by_replay(
            vae, mem, rngs["consolidation"], beta=cfg.beta, normalize=cfg.normalize,
            max_iter=cfg.max_replay_iter, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
            patience=cfg.patience, log=say)
        _training_loss(vae, "l1")  # the architecture's own loss settings, as load_vae rebuilds them
        vae.save(os.path.join(out_dir, "vae.npz"))
        vae_info = {"source": f"consolidated here from Hopfield replays of {len(mem)} digits "
                              f"(training loss: {cfg.train_loss})",
                    "path": "vae.npz", "trained": True,  # in the run folder
                    "train_s": consolidation["replay_s"] + consolidation["train_s"]}
    primary = cfg.measure_on if cfg.measure_on != "auto" else ("heldout" if vae_info["trained"] else "all")
    t0 = time.perf_counter()
    idx = sets["all"]
    recalls = np.zeros_like(x_all)
    recalls[idx] = reconstruct(vae, x_all[idx])  # x_hat = g(mu(x)), no noise
    t_recall = time.perf_counter() - t0
    per_set, arrays = {}, {}
    for name in MEASURE_SETS:
        i = sets[name]
        m = measures(x_all[i], recalls[i], labels[i])
        arrays[name] = m
        per_set[name] = _json_measures(m)
        say(f"{name}: {m['classes_shrunk']}/{len(m['classes'])} classes shrink, t = {m['test']['t']:.1f}, "
            f"p = {m['p_value']:.3g}, d = {m['cohens_d']:.3f}, distance ratio {m['prototype_distance_ratio']:.3f}")
    i = sets[primary]
    controls = {CONTROL: _json_measures(measures(x_all[i], x_all[i], labels[i])),  # identity: recall = input
                UNTRAINED: _json_measures(measures(x_all[i], reconstruct(
                    mnist_vae(vae.latent_dim, rng=spawn_rngs(cfg.seed, STREAMS)["init"]), x_all[i]), labels[i]))}
    rows = evaluate(CRITERIA, per_set[primary], controls)
    t0 = time.perf_counter()
    written, skipped = figures.write_figures(out_dir, arrays[primary], x_all, recalls, labels, sets[primary],
                                             cfg.n_examples)
    t_fig = time.perf_counter() - t0
    res = {"experiment": "prototypes", "preset": preset, "config": config_to_dict(cfg), "versions": versions(),
           "vae": vae_info, "measured_on": primary, "sets": per_set, "controls": controls,
           "consolidation": None if consolidation is None else {
               "replay": consolidation["replay"], "history": consolidation["history"],
               "replay_s": consolidation["replay_s"], "train_s": consolidation["train_s"]},
           "split": {k: int(len(v)) for k, v in sets.items()},
           "figures": written, "skipped_figures": skipped,
           "timings": {"vae_s": vae_info["train_s"], "recall_s": t_recall, "figures_s": t_fig,
                       "total_s": time.perf_counter() - t_all}}
    return finish(out_dir, res, rows, report.write_report, say)
