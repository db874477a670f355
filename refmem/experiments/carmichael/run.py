"""The Carmichael effect (paper.md E14), end to end: ``run(config, out_dir)``.

1. The consolidated Shapes3D VAE (:func:`refmem.experiments.trained_vae.trained_vae`) and a
   shape probe (standardised RBF SVC) fitted on the latent means of rendered scenes.
2. Four stimuli, one per shape, made ambiguous: Gaussian blur inside a disc around the
   object, then an opaque white square at a position seeded by the image's bytes.
3. Extended-model traces (threshold 0.2): the sensory part from the stimulus's own VAE
   error, the conceptual part replaced by the *context* latent (mu of the unblurred
   scene with the context's shape). Hopfield beta 5 (normalised), 4 traces.
4. Recall from cues with 10 % of the elements zeroed (the same cues under every
   condition), <= 5 updates, sensory and decoded latent combined; the recall's shape
   read by the probe on its re-encoded mu. Contexts: cube and sphere; control: each
   stimulus's own latent (no context).
5. ``results.json``, ``report.md`` and the figure.
"""
from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, Dict, Optional

import numpy as np

from refmem._utils import spawn_rngs
from refmem.config import config_to_dict
from refmem.experiments.carmichael import figures, report
from refmem.experiments.carmichael.config import CarmichaelConfig, validate_config
from refmem.experiments.carmichael.criteria import CRITERIA, NO_CONTEXT, VAE_ONLY, measures
from refmem.experiments.common import prepare_out_dir, versions
from refmem.experiments.criteria import evaluate
from refmem.experiments.runner import finish, run_vae
from refmem.progress import format_seconds, log

__all__ = ["run", "make_stimuli", "square_position", "STREAMS", "STREAM_ENTROPY"]

#: named random streams of a run
STREAMS = ("cues", "probe")
#: mixed into the seed so the probe's scenes are not the consolidation's scenes
STREAM_ENTROPY = 0xCA41C4


def _quantize(images: np.ndarray) -> np.ndarray:
    return (np.floor(images * np.float32(255) + np.float32(0.5)) / np.float32(255)).astype(np.float32)


def square_position(image: np.ndarray, size: int = 64) -> tuple:
    """Top-left (col, row) of the white square, uniform in [0, size)^2, seeded by the image.

    The seed is the first 8 bytes of the SHA-1 of the image's uint8 pixels, so the same
    scene always gets the same square (the paper seeds its draw with a hash of the image).
    """
    u8 = np.clip(np.round(np.asarray(image, dtype=np.float64) * 255), 0, 255).astype(np.uint8)
    seed = int.from_bytes(hashlib.sha1(u8.tobytes()).digest()[:8], "big")
    col, row = np.random.default_rng(seed).integers(0, size, size=2)
    return int(col), int(row)


def make_stimuli(cfg: CarmichaelConfig) -> Dict[str, np.ndarray]:
    """The 4 clean scenes (one per shape), their ambiguous versions and the squares' masks.

    Returns
    -------
    dict
        ``clean`` (4, 64, 64, 3), ``stimuli`` (4, 64, 64, 3), ``squares`` (4, 64, 64) bool,
        ``positions`` (4, 2) (col, row), ``labels`` (4, 6).
    """
    from refmem.datasets.shapes3d import render
    from refmem.datasets.transforms import carmichael_stimulus

    labels = np.array([[cfg.floor_hue, cfg.wall_hue, cfg.object_hue, cfg.scale, s, cfg.orientation]
                       for s in range(4)], np.int64)
    clean = _quantize(render(labels))
    stimuli, squares, positions = [], np.zeros((4, 64, 64), bool), []
    for i, img in enumerate(clean):
        col, row = square_position(img)
        stimuli.append(carmichael_stimulus(img, square=(col, row), center=tuple(cfg.center), radius=cfg.radius,
                                           blur_sigma=cfg.blur_sigma, square_size=cfg.square_size, quantize=True))
        squares[i, max(row, 0):row + cfg.square_size, max(col, 0):col + cfg.square_size] = True
        positions.append((col, row))
    return {"clean": clean, "stimuli": np.stack(stimuli).astype(np.float32), "squares": squares,
            "positions": np.array(positions), "labels": labels}


def _recall(vae, cfg, stimuli, x_hat, latents, cues):
    from refmem.systems.extended import ExtendedModel

    model = ExtendedModel(vae, cfg.threshold, beta=cfg.beta, normalize=cfg.normalize, max_iter=cfg.max_iter,
                          combine_tol=cfg.combine_tol, batch_size=8)
    model.store(stimuli, x_hat=x_hat, mu=latents)  # conceptual part = the given latents
    return model.recall(cues, targets=np.arange(len(stimuli)))


def run(config: CarmichaelConfig, out_dir: str, *, vae: Any = None, vae_path: Optional[str] = None,
        preset: str = "custom", quiet: bool = False, say: Optional[Callable[[str], None]] = None) -> Dict[str, Any]:
    """Store the ambiguous stimuli under each context, recall them, write ``out_dir``.

    ``config`` is a :class:`CarmichaelConfig`. The Shapes3D VAE: ``vae``, or the one saved
    at ``vae_path``, or (neither given) the cached consolidation VAE of
    ``config.vae_preset``. Returns what ``results.json`` holds.
    """
    from refmem.analysis.decoding import fit_probe
    from refmem.datasets import shapes3d
    from refmem.datasets.transforms import noise
    from refmem.hippocampus.traces import vae_forward
    from refmem.neocortex.recall import decode, encode_mu

    t_all = time.perf_counter()
    cfg = validate_config(config)
    say = (lambda s: None) if quiet else (say or (lambda s: log("carmichael: " + s)))
    vae, vae_info = run_vae(vae, vae_path, cfg.vae_preset, cfg.seed, (64, 64, 3), say, quiet)
    prepare_out_dir(out_dir)
    rngs = spawn_rngs(np.random.SeedSequence([int(cfg.seed), STREAM_ENTROPY]), STREAMS)
    t0 = time.perf_counter()
    scenes, labels = shapes3d.sample(cfg.probe_fit + cfg.probe_test, rngs["probe"])
    mu = encode_mu(vae, scenes).astype(np.float64)
    probe = fit_probe(mu[:cfg.probe_fit], labels[:cfg.probe_fit, shapes3d.SHAPE])
    probe_acc = float(probe.score(mu[cfg.probe_fit:], labels[cfg.probe_fit:, shapes3d.SHAPE]))
    say(f"shape probe on mu: accuracy {probe_acc:.3f} on {cfg.probe_test} held-out scenes "
        f"({format_seconds(time.perf_counter() - t0)})")

    def shape_of(images):
        mu_ = encode_mu(vae, np.clip(images, 0, 1))  # recalls may undershoot 0 by rounding
        return probe.predict(mu_.astype(np.float64)).astype(np.int64)

    st = make_stimuli(cfg)
    x = st["stimuli"]
    x_hat, own_mu = vae_forward(vae, x, 8)
    cues = np.stack([noise(xi, cfg.cue_fraction, rngs["cues"]) for xi in x]).astype(x.dtype)
    recalls, predicted, results = {}, {}, {}
    ctx_images, ctx_decoded = {}, {}
    for c in cfg.contexts:
        ctx_lab = st["labels"][c:c + 1].copy()
        ctx_lab[0, shapes3d.SHAPE] = c
        ctx_images[c] = _quantize(shapes3d.render(ctx_lab))[0]  # unblurred scene, shape = context
        ctx_mu = np.repeat(encode_mu(vae, ctx_images[c][None]), len(x), axis=0).astype(x.dtype)
        ctx_decoded[c] = decode(vae, ctx_mu[:1])[0]  # what the context alone recalls: g(mu(x_ctx))
        res = _recall(vae, cfg, x, x_hat, ctx_mu, cues)
        recalls[c], predicted[c], results[c] = res.combined, shape_of(res.combined), res
        say(f"context {shapes3d.SHAPE_NAMES[c]}: recalled shapes "
            f"{[shapes3d.SHAPE_NAMES[s] for s in predicted[c]]}")
    own = _recall(vae, cfg, x, x_hat, own_mu, cues)  # control: the stimulus's own latent
    own_pred = shape_of(own.combined)
    m = measures(recalls, predicted, x, st["squares"], cfg.contexts)
    ctrl_none = measures({c: own.combined for c in cfg.contexts}, {c: own_pred for c in cfg.contexts}, x,
                         st["squares"], cfg.contexts)
    ctrl_vae = measures({c: results[c].decoded for c in cfg.contexts},
                        {c: shape_of(results[c].decoded) for c in cfg.contexts}, x, st["squares"], cfg.contexts)
    controls = {NO_CONTEXT: ctrl_none, VAE_ONLY: ctrl_vae}
    rows = evaluate(CRITERIA, m, controls)
    written = figures.write_figures(out_dir, st, cues, ctx_images, recalls, own.combined, cfg.contexts)
    res = {"experiment": "carmichael", "preset": preset, "config": config_to_dict(cfg), "versions": versions(),
           "vae": vae_info, "probe_accuracy": probe_acc, "measures": m, "controls": controls,
           "stimulus_shape": st["labels"][:, shapes3d.SHAPE].tolist(),
           "square_positions": st["positions"].tolist(),
           "context_decoded": {"shapes": shape_of(np.stack([ctx_decoded[c] for c in cfg.contexts])).tolist(),
                               "mae": float(np.mean(np.abs(ctx_decoded[cfg.contexts[0]].astype(np.float64)
                                                           - ctx_decoded[cfg.contexts[1]])))},
           "predicted": {"stimuli": shape_of(x).tolist(), "clean": shape_of(st["clean"]).tolist(),
                         "no_context": own_pred.tolist(), **{str(c): predicted[c].tolist() for c in cfg.contexts}},
           "retrieval": {str(c): {"winner": results[c].winner.tolist(), "max_weight": results[c].max_weight.tolist()}
                         for c in cfg.contexts},
           "stored_sensory": {str(c): results[c].stored_sensory.reshape(4, -1).astype(bool).sum(1).tolist()
                              for c in cfg.contexts[:1]},
           "figures": written, "skipped_figures": [],
           "timings": {"vae_s": vae_info["train_s"], "total_s": time.perf_counter() - t_all}}
    return finish(out_dir, res, rows, report.write_report, say)
