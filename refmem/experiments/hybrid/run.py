"""E16 end to end: hybrid recall of memories at several stages of consolidation.

1. **Staged VAEs** (cached in ``$REFMEM_CACHE_DIR/vae/hybrid-...``): store
   ``n_memories`` scenes, replay them from noise, train the VAE on the replays with the
   consolidation process (:func:`refmem.systems.consolidation.train`, checkpoint after
   every epoch) and keep it at each stage (:class:`refmem.neocortex.training.Snapshots`).
2. **Recall** of ``n_test`` stored scenes from cues with a fraction of their elements
   zeroed: the VAE alone ``decode(mu(cue))``, the Hopfield network queried with the raw
   cue, and gist-then-Hopfield (:func:`refmem.systems.recall.gist_then_hopfield`), at
   every stage and for the untrained VAE (the control).
3. ``results.json``, ``report.md``, figures.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from typing import Dict, Optional

import numpy as np

from refmem._errors import one_line, warn
from refmem._resume import remove_checkpoint_npz
from refmem._utils import load_json, portable_path, remove_temp_files, save_json, spawn_rngs, writable_folder
from refmem.analysis.decoding import probe_split
from refmem.analysis.metrics import per_image_error
from refmem.config import config_to_dict
from refmem.datasets.transforms import noise
from refmem.experiments.common import prepare_out_dir, versions
from refmem.experiments.runner import finish
from refmem.experiments.criteria import evaluate
from refmem.experiments.hybrid import figures as figs
from refmem.experiments.hybrid.config import TRAINING_FIELDS, HybridConfig, validate_config
from refmem.experiments.hybrid.criteria import UNTRAINED, criteria_for, measures
from refmem.experiments.hybrid.report import write_report
from refmem.hippocampus.replay import build_hippocampus, from_pattern, load_or_replay
from refmem.progress import log as _print
from refmem.systems.recall import exact_recovery, gist_then_hopfield, hippocampal_recall, neocortical_recall

__all__ = ["run", "staged_vaes", "stage_dir", "STREAM_ENTROPY"]

#: mixed into the seed so this experiment's scenes differ from other experiments' for one --seed
STREAM_ENTROPY = 0x4B7B1D
STREAMS = ("data", "replay", "init", "batches", "probes", "cues")


def _streams(cfg):
    return spawn_rngs(np.random.SeedSequence([int(cfg.seed), STREAM_ENTROPY]), STREAMS)


def stage_dir(cfg: HybridConfig, preset: str = "custom") -> str:
    """Cache folder of the staged VAEs: keyed by the fields that determine them and by the
    default renderer version (left out for version 1, so its folders keep their names), so
    VAEs trained on one renderer's scenes are never reused for another's."""
    from refmem.datasets._cache import cache_dir
    from refmem.datasets.shapes3d import renderer_key

    d = config_to_dict(cfg)
    data = {**{k: d[k] for k in TRAINING_FIELDS}, **renderer_key()}
    key = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]
    return cache_dir(os.path.join("vae", f"hybrid-{preset}-seed{cfg.seed}-{key}"))


def _data(cfg):
    from refmem.datasets.shapes3d import SHAPE, sample

    x, labels = sample(cfg.n_memories + cfg.n_heldout, _streams(cfg)["data"], supersample=cfg.supersample,
                       progress=False)
    return x[:cfg.n_memories], x[cfg.n_memories:], labels[cfg.n_memories:, SHAPE]


def _make_vae(cfg):
    from refmem.neocortex import shapes3d_vae

    return shapes3d_vae(latent_dim=cfg.latent_dim, rng=_streams(cfg)["init"], dtype=np.float32,
                        widths=tuple(cfg.vae_widths))


def staged_vaes(cfg: HybridConfig, folder: str, say=lambda s: None) -> Dict:
    """Train (or load from ``folder``) the VAE at every stage; return ``{"stages": {e: vae}, "history"}``.

    Stage 0 is the untrained VAE. Interrupted training resumes from the last epoch.
    """
    from refmem.neocortex import load_vae
    from refmem.neocortex.training import Snapshots
    from refmem.nn.optim import Adam
    from refmem.systems.consolidation import train

    paths = {e: os.path.join(folder, f"stage_{e}.npz") for e in (0, *cfg.stages)}
    hist_path = os.path.join(folder, "history.json")
    cached = _load_stages(paths, hist_path)
    if cached is None:
        remove_temp_files(folder)
        memories, heldout, held_y = _data(cfg)
        rng = _streams(cfg)
        net = build_hippocampus(memories, cfg.beta, cfg.normalize)
        states, _, _ = load_or_replay(os.path.join(folder, "replay.npz"), net, cfg.n_memories, rng["replay"],
                                      cfg.max_iter, 250)
        x_train = from_pattern(states, memories.shape[1:])
        del net, states
        vae = _make_vae(cfg)
        vae.save(paths[0])
        opt = Adam(vae.params, lr=cfg.lr, amsgrad=True)
        fit_idx, test_idx = probe_split(cfg.n_heldout, cfg.probe_train, cfg.probe_test, rng["probes"])
        say(f"hybrid: consolidating a VAE on {cfg.n_memories} replays; stages after epochs {list(cfg.stages)} "
            f"(once, into {folder})")
        h = train(vae, opt, x_train, (heldout, held_y, fit_idx, test_idx, "svc", min(200, cfg.n_heldout)),
                  epochs=max(cfg.stages), batch_size=cfg.batch_size, patience=max(cfg.stages),
                  batch_seed=int(rng["batches"].integers(2 ** 63)),
                  checkpoint_path=os.path.join(folder, "checkpoint.npz"), resume=True,
                  log=lambda s: say("hybrid: " + s),
                  callbacks=[Snapshots(cfg.stages, on_save=lambda e, v: v.save(paths[e]))])
        missing = [e for e, p in paths.items() if not os.path.isfile(p)]
        if missing:
            raise ValueError(f"training stopped before stages {missing} (early stopping); lower the stages")
        save_json(hist_path, {k: v for k, v in h.items() if k != "best_loss"})
        return {"stages": {e: load_vae(p) for e, p in paths.items()}, "history": load_json(hist_path)}
    say(f"hybrid: using the staged VAEs in {folder}")
    return cached


def _load_stages(paths: Dict, hist_path: str) -> Optional[Dict]:
    """The cached stages, or None to train them (none cached yet, or damaged: then a
    warning, and the folder's checkpoints are removed so training starts afresh)."""
    from refmem.neocortex import load_vae

    if not (all(os.path.isfile(p) for p in paths.values()) and os.path.isfile(hist_path)):
        return None
    try:
        return {"stages": {e: load_vae(p) for e, p in paths.items()}, "history": load_json(hist_path)}
    except ValueError as exc:
        warn(f"the cached stage VAEs are damaged ({exc}); training them again")
    folder = os.path.dirname(hist_path)
    remove_checkpoint_npz(os.path.join(folder, "checkpoint.npz"))
    for p in [*paths.values(), hist_path]:
        if os.path.exists(p):
            os.remove(p)
    return None


def _writable_stage_dir(folder: str) -> Optional[str]:
    """``folder`` created, or None (with a warning) when the cache cannot be written."""
    exc = writable_folder(folder)
    if exc is not None:
        warn(f"cannot write to the cache ({one_line(exc)}); training the stage VAEs without caching them")
        return None
    return folder


def _rates(recall, stored, threshold):
    return float(np.mean(exact_recovery(recall, stored, threshold))), float(np.mean(per_image_error(stored, recall)))


def run(config: HybridConfig, out_dir: str, *, quiet: bool = False, preset: str = "custom", log=None) -> Dict:
    """Run E16 and write ``results.json``, ``report.md`` and the figures into ``out_dir``.

    The staged VAEs are trained once into the user cache (resumable) and reused.
    """
    cfg = validate_config(config)
    say = (lambda s: None) if quiet else (log or _print)
    prepare_out_dir(out_dir)
    save_json(os.path.join(out_dir, "config.json"), config_to_dict(cfg))
    t_all = t = time.perf_counter()
    cpu0 = time.process_time()
    folder = _writable_stage_dir(stage_dir(cfg, preset.split()[0]))
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="refmem-hybrid-") as tmp:
            staged = staged_vaes(cfg, tmp, say)
    else:
        staged = staged_vaes(cfg, folder, say)
    timings = {"stages": time.perf_counter() - t}

    t = time.perf_counter()
    memories, _, _ = _data(cfg)
    x = memories[:cfg.n_test]
    net = build_hippocampus(memories, cfg.beta, cfg.normalize)
    cue_rngs = spawn_rngs(int(_streams(cfg)["cues"].integers(2 ** 63)), [str(f) for f in cfg.fractions])
    names = {0: "untrained", **{e: f"epoch {e}" for e in cfg.stages}}
    table: Dict[str, Dict[str, Dict[str, float]]] = {names[e]: {} for e in names}
    examples = {}
    for f in cfg.fractions:
        cues = noise(x, f, cue_rngs[str(f)])
        raw, _ = hippocampal_recall(net, cues, cfg.max_iter)
        raw_rate, raw_err = _rates(raw, x, cfg.recovery_cosine)
        for e, vae in staged["stages"].items():
            v = neocortical_recall(vae, cues)
            hyb, _ = gist_then_hopfield(vae, net, cues, cfg.max_iter)
            (vr, ve), (hr, he) = _rates(v, x, cfg.recovery_cosine), _rates(hyb, x, cfg.recovery_cosine)
            table[names[e]][f"{f:g}"] = {"vae": vr, "raw": raw_rate, "hybrid": hr, "vae_error": ve,
                                         "raw_error": raw_err, "hybrid_error": he}
            if f == cfg.fractions[0] and e == max(cfg.stages):
                k = cfg.n_examples
                examples = {"stored": x[:k], "cue": cues[:k], "gist": v[:k], "hybrid": hyb[:k], "raw": raw[:k]}
        say(f"hybrid: {f:.0%} zeroed: raw cue {raw_rate:.2f}; " + ", ".join(
            f"{n} VAE {table[n][f'{f:g}']['vae']:.2f} / gist->MHN {table[n][f'{f:g}']['hybrid']:.2f}"
            for n in names.values()))
    del net
    timings["recall"] = time.perf_counter() - t
    first = f"{cfg.fractions[0]:g}"
    model_table = {names[e]: table[names[e]] for e in cfg.stages}
    m = measures(model_table, first)
    controls = {UNTRAINED: measures({"untrained": table["untrained"]}, first)}
    rows = evaluate(criteria_for(cfg.min_advantage), m, controls)
    hist = staged["history"]
    res = {"experiment": "hybrid", "preset": preset, "config": config_to_dict(cfg), "versions": versions(),
           "stage_dir": portable_path(folder), "table": table, "stages": [names[e] for e in cfg.stages],
           "fractions": [f"{f:g}" for f in cfg.fractions],
           "consolidation": {k: hist.get(k) for k in ("loss", "recon_loss", "heldout_recon", "decoding_accuracy")},
           "measures": m, "controls": controls}
    t = time.perf_counter()
    res["figures"], res["skipped_figures"] = figs.write_figures(out_dir, res, examples)
    timings["figures"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_all
    timings["cpu_s"] = time.process_time() - cpu0             # ~ idle wall time with one BLAS thread
    res["timings"] = timings
    return finish(out_dir, res, rows, write_report, lambda line: say("hybrid: " + line))
