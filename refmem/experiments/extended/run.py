"""The extended-model experiment (docs/paper-experiments.md, E12-E13) end to end: ``run(config, out_dir)``.

1. Get a VAE: the one given, the one at ``vae_path``, or the consolidated VAE of the
   consolidation preset ``config.vae_preset`` and the same seed
   (:func:`refmem.experiments.common.trained_vae`: trained once, then cached).
2. Render held-out scenes with the paper's three white squares, and one 10 % cue each.
3. Sweep the thresholds (the paper's five plus the figure thresholds).
4. Write ``results.json``, ``report.md`` and the figures.
"""
from __future__ import annotations

import os
import time
from typing import Any, Optional

import numpy as np

from refmem._utils import save_json, spawn_rngs
from refmem.config import config_to_dict
from refmem._errors import UsageError
from refmem.experiments.common import prepare_out_dir, versions
from refmem.experiments.runner import run_vae
from refmem.progress import format_seconds, log
from refmem.experiments.extended.config import PAPER_SWEEP, ExtendedConfig, validate_config
from refmem.experiments.criteria import evaluate
from refmem.experiments.extended.criteria import CRITERIA, measures
from refmem.experiments.extended.report import plot_tradeoff, save_stage_figures, write_report
from refmem.experiments.extended.sweep import SweepResult, make_cues, make_stimuli, summarize, threshold_sweep

__all__ = ["run", "control_summaries", "untrained_like", "STREAM_ENTROPY", "BLEND_BETA"]

#: inverse temperature of the ``blend`` control (the paper's is 100)
BLEND_BETA = 1e-3

#: extra entropy mixed into the seed of this experiment's random streams, so that its
#: scenes are not the consolidation run's scenes for the same ``--seed`` (both derive
#: streams with ``spawn_rngs``; equal roots would give equal first streams)
STREAM_ENTROPY = 0x4E7E4D  # "extended"


def run(config: ExtendedConfig, out_dir: str, *, vae: Any = None, vae_path: Optional[str] = None,
        preset: str = "custom", verbose: bool = True) -> dict:
    """Run the extended-model experiment and write its outputs to ``out_dir``.

    Parameters
    ----------
    config : ExtendedConfig
    out_dir : str
    vae : refmem.neocortex.vae.VAE, optional
        Use this VAE (takes precedence over ``vae_path``).
    vae_path : str, optional
        Load the VAE from this ``.npz``; without ``vae`` or ``vae_path`` one is trained.
    preset : str
        Name recorded in the report.
    verbose : bool
        Print progress lines.

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    cfg = validate_config(config)
    say = log if verbose else (lambda msg: None)
    prepare_out_dir(out_dir)
    t_start = time.perf_counter()
    try:
        vae, vae_info = run_vae(vae, vae_path, cfg.vae_preset, cfg.seed, (cfg.image_size, cfg.image_size, 3),
                                lambda m: say("extended: " + m), not verbose)
    except ValueError as exc:
        if "images of shape" not in str(exc):
            raise
        raise UsageError(f"{exc} (image_size {cfg.image_size})") from None
    dtype = np.dtype(getattr(vae, "dtype", np.float32))
    streams = spawn_rngs(np.random.SeedSequence([int(cfg.seed), STREAM_ENTROPY]), ["stimuli", "cues"])
    t0 = time.perf_counter()
    stimuli, labels = make_stimuli(cfg.n_items, streams["stimuli"], cfg.image_size, dtype=dtype)
    cues = make_cues(stimuli, cfg.cue_fraction, streams["cues"])
    t_stim = time.perf_counter() - t0
    say(f"extended: {cfg.n_items} stimuli rendered in {format_seconds(t_stim)}")
    thresholds = sorted(set(cfg.thresholds) | set(cfg.figure_thresholds))
    t0 = time.perf_counter()
    sweep = threshold_sweep(vae, stimuli, cues, thresholds, beta=cfg.beta, normalize=cfg.normalize,
                            max_iter=cfg.max_iter, combine_tol=cfg.combine_tol, batch_size=cfg.batch_size,
                            keep=cfg.figure_thresholds, progress=lambda m: say("extended: " + m))
    t_sweep = time.perf_counter() - t0
    summary = summarize(sweep, cfg.thresholds)
    figs = list(cfg.figure_thresholds) or [thresholds[0], thresholds[-1]]
    low, high = min(figs), max(figs)
    t0 = time.perf_counter()
    controls = control_summaries(vae, untrained_like(vae, cfg.seed), stimuli, cues, cfg, thresholds, low)
    t_controls = time.perf_counter() - t0
    ctl_measures = {name: measures(s, low, high) for name, s in controls.items()}
    criteria = evaluate(CRITERIA, measures(summary, low, high), ctl_measures)
    t0 = time.perf_counter()
    figures = save_stage_figures(out_dir, sweep.recalls, cfg.n_figure_items)
    skipped = []
    if plot_tradeoff(os.path.join(out_dir, "error_vs_threshold.png"), summary):
        figures.append("error_vs_threshold.png")
    else:
        skipped.append("error_vs_threshold.png")
    t_fig = time.perf_counter() - t0
    results = {
        "experiment": "extended", "preset": preset, "config": config_to_dict(cfg), "versions": versions(),
        "vae": vae_info,
        "summary": summary, "criteria": criteria, "passed": all(c["passed"] is True for c in criteria),
        "controls": controls,
        "paper": PAPER_SWEEP,
        "per_item": {"thresholds": sweep.thresholds.tolist(), "sse": sweep.sse.tolist(),
                     "count": sweep.count.tolist(), "stored": sweep.stored.tolist(),
                     "correct": sweep.correct.tolist(), "vae_sse": sweep.vae_sse.tolist(),
                     "labels": labels.tolist()},
        "figures": figures, "skipped_figures": skipped,
        "timings": {"vae_training_s": vae_info["train_s"], "stimuli_s": t_stim, "sweep_s": t_sweep, "controls_s": t_controls,
                    "figures_s": t_fig, "total_s": time.perf_counter() - t_start},
    }
    save_json(os.path.join(out_dir, "results.json"), results)
    write_report(os.path.join(out_dir, "report.md"), results, ctl_measures)
    say(f"extended: {sum(c['passed'] is True for c in criteria)}/{len(criteria)} criteria pass; "
        f"wrote {os.path.join(out_dir, 'report.md')}")
    return results


def untrained_like(vae: Any, seed: int) -> Optional[Any]:
    """An untrained VAE of ``vae``'s registered architecture (None for a custom one)."""
    from refmem.neocortex.architectures import ARCHITECTURES

    conf = getattr(vae, "config", None) or {}
    build = ARCHITECTURES.get(conf.get("architecture"))
    return None if build is None else build(**conf.get("kwargs", {}), rng=int(seed))


def _every_threshold(sweep: SweepResult, thresholds) -> SweepResult:
    """A one-threshold sweep's rows repeated at every threshold (a model that ignores it)."""
    rep = {k: np.repeat(getattr(sweep, k), len(thresholds), axis=0)
           for k in ("sse", "sse_in", "sse_out", "count", "stored", "correct", "max_weight")}
    keep = {k: getattr(sweep, k) for k in ("vae_sse", "vae_sse_in", "vae_sse_out", "vae_cue_sse", "latent_dim",
                                             "image_elements")}
    return SweepResult(thresholds=np.asarray(thresholds, float), **rep, **keep)


def control_summaries(vae: Any, untrained: Optional[Any], stimuli: np.ndarray, cues: np.ndarray,
                      cfg: ExtendedConfig, thresholds, low: float) -> dict:
    """Sweep summaries of the negative controls of :mod:`refmem.experiments.extended.criteria`.

    ``untrained`` (if given) is swept like the model; ``blend`` (beta = :data:`BLEND_BETA`)
    at the low threshold only; ``vae_only`` and ``store_all`` at thresholds 1 and 0,
    their rows repeated at every threshold.
    """
    kw = dict(normalize=cfg.normalize, max_iter=cfg.max_iter, combine_tol=cfg.combine_tol,
              batch_size=cfg.batch_size)
    out = {}
    if untrained is not None:
        out["untrained"] = summarize(threshold_sweep(untrained, stimuli, cues, thresholds, beta=cfg.beta, **kw),
                                     cfg.thresholds)
    out["blend"] = summarize(threshold_sweep(vae, stimuli, cues, [low], beta=BLEND_BETA, **kw))
    for name, t in (("vae_only", 1.0), ("store_all", 0.0)):
        one = threshold_sweep(vae, stimuli, cues, [t], beta=cfg.beta, **kw)
        out[name] = summarize(_every_threshold(one, thresholds), cfg.thresholds)
    return out
