"""E9 end to end: groups of scenes over days, consolidation, lesions, recall by age (a reconstruction).

1. **Scenes**: ``T`` groups of ``n`` scenes (slot ``i`` of every group shares shape and
   scale; with ``context_factor`` each group has its own hues of that factor), plus
   ``n_probe`` held-out scenes for the shape probe. All scenes are distinct.
2. **Days, twice** (:func:`refmem.systems.days.consolidate_over_days`): the groups
   arrive one a day in the forward order (group ``g`` on day ``g``) and, from the same
   initial VAE, in the reverse order; each day the new group is stored, everything
   stored is replayed, and the VAE trains ``k`` epochs. Resumable per day.
3. **Recall at day T** of every scene from a cue with ``cue_fraction`` of its elements
   zeroed: intact (Hopfield), lesioned (``decode(mu(cue))``) after each order, the
   untrained VAE (control ``k = 0``), and partial lesions (a fraction of memories
   removed; :func:`refmem.systems.recall.arbitrated_recall`; forward order).
4. **Semantic memory**: shape decoding from ``mu`` of held-out scenes.
5. ``results.json``, ``report.md``, figures.

Each scene is recalled once at age ``T - 1 - g`` and once at age ``g``, so the age
effect is measured within scenes (:mod:`.criteria`).
"""
from __future__ import annotations

import os
import time
from typing import Dict

import numpy as np

from refmem._utils import load_json, save_json, spawn_rngs
from refmem.analysis.decoding import decoding_accuracy, probe_split
from refmem.analysis.metrics import per_image_error
from refmem.config import config_to_dict, is_saved_config
from refmem.datasets.shapes3d import FACTOR_SIZES, SHAPE, factors_to_index, render
from refmem.datasets.transforms import noise
from refmem._errors import UsageError
from refmem._resume import remove_checkpoint_npz
from refmem.experiments.common import prepare_out_dir, versions
from refmem.experiments.runner import finish
from refmem.experiments.criteria import evaluate
from refmem.experiments.lesion import figures as figs
from refmem.experiments.lesion.config import LesionConfig, validate_config
from refmem.experiments.lesion.criteria import NO_HIPPOCAMPUS, NO_REPLAY, criteria_for, measures
from refmem.experiments.lesion.report import write_report
from refmem.hippocampus.lesion import lesion, lesion_mask
from refmem.hippocampus.replay import build_hippocampus
from refmem.neocortex.recall import encode_mu
from refmem.progress import format_seconds, log as _print
from refmem.systems.days import cohort_index, consolidate_over_days
from refmem.systems.recall import arbitrated_recall, hippocampal_recall, neocortical_recall

__all__ = ["run", "matched_cohorts", "STREAM_ENTROPY"]

#: mixed into the seed so this experiment's scenes differ from other experiments' for one --seed
STREAM_ENTROPY = 0x1E5109
STREAMS = ("data", "init", "replay", "batches", "cues", "lesion", "probe")


def matched_cohorts(n_per_cohort: int, n_days: int, n_extra: int, rng, context_factor=None) -> tuple:
    """Factor labels of ``n_days`` matched cohorts plus ``n_extra`` other scenes, all distinct.

    Returns ``(labels (T n + n_extra, 6), slot (T n,))``: memory ``c n + i`` is slot
    ``i`` of cohort ``c``; every cohort's slot ``i`` has the same shape and scale. With
    ``context_factor`` (a hue), cohort ``c`` only uses values ``v`` of that factor with
    ``v mod T = c`` (the other scenes use any value).
    """
    n = n_per_cohort * n_days
    geometry = np.stack([rng.integers(FACTOR_SIZES[3], size=n_per_cohort),
                         rng.integers(FACTOR_SIZES[4], size=n_per_cohort)], axis=1)
    labels = np.zeros((n + n_extra, 6), np.int64)
    labels[:n, 3:5] = np.tile(geometry, (n_days, 1))
    labels[n:, 3] = rng.integers(FACTOR_SIZES[3], size=n_extra)
    labels[n:, 4] = rng.integers(FACTOR_SIZES[4], size=n_extra)
    free = (0, 1, 2, 5)
    todo = np.arange(n + n_extra)
    while todo.size:                                # redraw until every scene is distinct
        for j in free:
            labels[todo, j] = rng.integers(FACTOR_SIZES[j], size=todo.size)
        if context_factor is not None:
            mem = todo[todo < n]
            day = mem // n_per_cohort
            k = rng.integers(-(-(FACTOR_SIZES[context_factor] - day) // n_days))   # values day, day + T, ...
            labels[mem, context_factor] = day + n_days * k
        idx = factors_to_index(labels)
        _, first = np.unique(idx, return_index=True)
        dup = np.ones(len(idx), bool)
        dup[first] = False
        todo = np.flatnonzero(dup)
    return labels, np.tile(np.arange(n_per_cohort), n_days)


def _make_vae(cfg: LesionConfig, rng):
    from refmem.neocortex import shapes3d_vae

    return shapes3d_vae(latent_dim=cfg.latent_dim, rng=rng, dtype=np.float32, widths=tuple(cfg.vae_widths))


def run(config: LesionConfig, out_dir: str, *, resume: bool = False, quiet: bool = False,
        preset: str = "custom", log=None) -> Dict:
    """Run E9 and write ``results.json``, ``report.md`` and the figures into ``out_dir``.

    Parameters
    ----------
    config : LesionConfig
    out_dir : str
    resume : bool
        Continue after the last finished day of an interrupted run in ``out_dir`` (same config).
    quiet : bool
    preset : str
        Recorded in the report.
    log : callable(str), optional

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    from refmem.nn.optim import Adam

    cfg = validate_config(config)
    say = (lambda s: None) if quiet else (log or _print)
    prepare_out_dir(out_dir)
    cfg_path = os.path.join(out_dir, "config.json")
    ckpt = {o: os.path.join(out_dir, f"days_{o}.npz") for o in ("forward", "reverse")}
    if resume and os.path.exists(cfg_path) and not is_saved_config(load_json(cfg_path), cfg):
        raise UsageError(f"cannot resume: {out_dir} holds a run with another config; use a new --out")
    for path in ckpt.values():
        if not resume:
            remove_checkpoint_npz(path)
    save_json(cfg_path, config_to_dict(cfg))
    rng = spawn_rngs(np.random.SeedSequence([int(cfg.seed), STREAM_ENTROPY]), STREAMS)
    t_all = t = time.perf_counter()
    cpu0 = time.process_time()
    timings: Dict[str, float] = {}

    T, n = cfg.n_days, cfg.n_per_cohort
    labels, _ = matched_cohorts(n, T, cfg.n_probe, rng["data"], cfg.context_factor)
    images = render(labels, 64, cfg.supersample)
    images = np.floor(images * 255 + 0.5) / np.float32(255)      # 8-bit levels, as 3dshapes
    scenes, probe_x, probe_y = images[:T * n], images[T * n:], labels[T * n:, SHAPE]
    group = cohort_index(n, T)                                     # arrival day in the forward order
    timings["render"] = time.perf_counter() - t
    say(f"lesion: {T} groups x {n} scenes + {cfg.n_probe} probe scenes [{format_seconds(timings['render'])}]")

    cues = noise(scenes, cfg.cue_fraction, rng["cues"])
    replay_seed, epoch_seed = int(rng["replay"].integers(2 ** 63)), int(rng["batches"].integers(2 ** 63))
    untrained = _make_vae(cfg, rng["init"])
    orders = {"forward": np.arange(T * n),
              "reverse": np.concatenate([np.flatnonzero(group == g) for g in range(T - 1, -1, -1)])}
    vaes, lesioned, counts, days = {}, {}, {}, {}
    for name, perm in orders.items():                              # perm: arrival index -> scene
        t = time.perf_counter()
        vae = _make_vae(cfg, spawn_rngs(np.random.SeedSequence([int(cfg.seed), STREAM_ENTROPY]), STREAMS)["init"])
        opt = Adam(vae.params, lr=cfg.lr, amsgrad=True)
        hist = consolidate_over_days(vae, opt, scenes[perm], group, epochs_per_day=cfg.epochs_per_day,
                                     replays_per_day=cfg.replays_per_day, beta=cfg.beta, normalize=cfg.normalize,
                                     max_iter=cfg.max_iter, batch_size=cfg.batch_size, replay_seed=replay_seed,
                                     epoch_seed=epoch_seed, checkpoint_path=ckpt[name], resume=resume,
                                     log=lambda s, o=name: say(f"lesion ({o}): " + s))
        vae.save(os.path.join(out_dir, f"vae_{name}.npz"))
        vaes[name] = vae
        lesioned[name] = np.empty(T * n)
        lesioned[name][perm] = per_image_error(scenes[perm], neocortical_recall(vae, cues[perm]))
        counts[name] = np.empty(T * n)
        counts[name][perm] = hist["replay_counts"].sum(axis=0)
        days[name] = {k: v for k, v in hist.items() if k != "replay_counts"}
        timings[f"days_{name}"] = time.perf_counter() - t

    t = time.perf_counter()
    net = build_hippocampus(scenes, cfg.beta, cfg.normalize)
    intact_x, winner = hippocampal_recall(net, cues, cfg.max_iter)
    err = {"intact": per_image_error(scenes, intact_x),
           "control": per_image_error(scenes, neocortical_recall(untrained, cues)), **lesioned}
    partial = {"fractions": list(cfg.lesion_fractions), "mean": [], "by_age": [], "used_hippocampus": []}
    for f in cfg.lesion_fractions:                                 # forward order
        keep = lesion_mask(len(scenes), f, rng["lesion"])
        rec, used = arbitrated_recall(lesion(net, keep), vaes["forward"], cues, cfg.max_iter)
        e = per_image_error(scenes, rec)
        partial["mean"].append(float(e.mean()))
        partial["by_age"].append([float(e[group == T - 1 - a].mean()) for a in range(T)])
        partial["used_hippocampus"].append(float(used.mean()))
    del net
    fit_idx, test_idx = probe_split(cfg.n_probe, cfg.n_probe // 2, cfg.n_probe - cfg.n_probe // 2, rng["probe"])
    acc = {name: decoding_accuracy(encode_mu(m, probe_x), probe_y, fit_idx, test_idx, cfg.probe_kind)
           for name, m in (("forward", vaes["forward"]), ("reverse", vaes["reverse"]), ("untrained", untrained))}
    timings["recall"] = time.perf_counter() - t

    crit = criteria_for(cfg.alpha, cfg.max_intact_ratio, cfg.min_decoding)
    m = measures(err["intact"], err["forward"], err["reverse"], group, acc["forward"])
    controls = {NO_REPLAY: measures(err["intact"], err["control"], err["control"], group, acc["untrained"]),
                NO_HIPPOCAMPUS: measures(err["forward"], err["forward"], err["reverse"], group, acc["forward"])}
    rows = evaluate(crit, m, controls)

    def age_stats(e_fwd, e_rev):                                  # mean and SEM at each age, both orders
        vals = [np.concatenate([[] if e_fwd is None else e_fwd[group == T - 1 - a],
                                [] if e_rev is None else e_rev[group == a]]) for a in range(T)]
        return {"mean": [float(v.mean()) for v in vals],
                "sem": [float(v.std(ddof=1) / np.sqrt(len(v))) for v in vals]}

    res = {"experiment": "lesion", "preset": preset, "config": config_to_dict(cfg), "versions": versions(),
           "reconstruction": True, "ages": list(range(T)),
           "by_age": {"lesioned": age_stats(err["forward"], err["reverse"]),
                      "control": age_stats(err["control"], err["control"]),
                      "intact": age_stats(err["intact"], err["intact"]),
                      "forward": age_stats(err["forward"], None),
                      "reverse": age_stats(None, err["reverse"])},
           "by_group": {k: [float(v[group == g].mean()) for g in range(T)] for k, v in err.items()},
           "replays_per_memory_by_age": age_stats(counts["forward"], counts["reverse"])["mean"],
           "never_replayed_by_age": age_stats((counts["forward"] == 0) * 1.0, (counts["reverse"] == 0) * 1.0)["mean"],
           "intact_winner_correct": float(np.mean(winner == np.arange(len(scenes)))),
           "partial_lesion": partial, "decoding_accuracy": acc, "measures": m, "controls": controls,
           "days": days}
    t = time.perf_counter()
    ex = np.concatenate([np.flatnonzero(group == g)[:cfg.n_examples] for g in range(T)])   # oldest first
    res["figures"], res["skipped_figures"] = figs.write_figures(
        out_dir, res, {"original": scenes[ex], "cue": cues[ex], "intact": intact_x[ex],
                       "lesioned": neocortical_recall(vaes["forward"], cues[ex])})
    timings["figures"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_all
    timings["cpu_s"] = time.process_time() - cpu0             # ~ idle wall time with one BLAS thread
    res["timings"] = timings
    return finish(out_dir, res, rows, write_report, lambda line: say("lesion: " + line))
