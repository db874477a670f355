"""The consolidation simulation end to end: encode -> replay -> train -> analyse -> report.

:func:`run` is the programmatic entry point (the CLI calls it):

1. **Data** (docs/paper-experiments.md, 1.2): ``n_memories + n_heldout`` distinct scenes from
   :func:`refmem.datasets.shapes3d.sample`; the first ``n_memories`` are the memories,
   the rest held-out scenes.
2. **Hippocampal encoding and replay** (docs/paper-experiments.md, 1.3, E1): :mod:`.replay`.
3. **Consolidation** (docs/paper-experiments.md, 1.4-1.6, E3): the Shapes3D VAE trained on the replays,
   measured at every epoch start (:func:`refmem.systems.consolidation.train`). With a
   given VAE (``vae`` / ``vae_path``, e.g. the paper's released weights converted by
   ``refmem convert keras``) nothing is trained: E3, a property of the training curve,
   is skipped, and the given VAE is measured once on the held-out scenes.
4. **Analyses** E2, E4-E8 (:mod:`.analyses`, :mod:`.relational`, :mod:`.imagination`,
   :mod:`.fewshot`).
5. **Outputs**: ``config.json``, ``results.json``, ``report.md``, ``vae.npz`` (only for a
   VAE trained here), figures (:mod:`.report`, :mod:`.figures`).

Random streams: ``spawn_rngs(seed, STREAMS)`` gives independent generators for the data,
replay cues, VAE initialisation, minibatches, probe split and analyses.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, Optional

import numpy as np

from refmem._memory import peak_rss_bytes
from refmem._utils import load_json, portable_path, save_json, spawn_rngs
from refmem.progress import format_seconds, log as _print
from refmem.experiments.consolidation import figures as figs
from refmem.experiments.consolidation.analyses import interpolation, latent_structure, recall_noisy
from refmem.experiments.consolidation.config import STREAMS, ConsolidationConfig, config_json, config_load, validate_config
from refmem.experiments.consolidation.fewshot import few_shot
from refmem.experiments.consolidation.imagination import imagination
from refmem.neocortex.recall import encode_mu
from refmem.analysis.decoding import probe_split
from refmem.experiments.consolidation.relational import relational_inference
from refmem.hippocampus.replay import build_hippocampus, from_pattern, load_or_replay, replay_stats
from refmem.experiments.consolidation.criteria import control_measures, criteria, measures
from refmem._errors import UsageError, warn
from refmem._resume import remove_checkpoint_npz
from refmem.experiments.common import prepare_out_dir, versions
from refmem.experiments.consolidation.report import write_report, write_results
from refmem.experiments.criteria import evaluate
from refmem.systems.consolidation import WITHIN_EPOCH_KEYS, measure_heldout, train

__all__ = ["run", "judge", "rejudge", "FILES", "ENCODER_LAYERS", "GIVEN_VAE_SKIPS"]

#: files written into the run folder
FILES = {"config": "config.json", "results": "results.json", "report": "report.md", "model": "vae.npz",
         "checkpoint": "checkpoint.npz", "replay": "replay.npz", "history": "history.json"}

#: encoder layers whose raw outputs the few-shot analysis probes (docs/paper-experiments.md, E8)
ENCODER_LAYERS = ("conv1", "conv2", "conv3", "conv4")

#: the Shapes3D image shape a VAE must take
IMAGE_SHAPE = (64, 64, 3)

#: criteria skipped when the VAE is given rather than trained here (they judge the training curve)
GIVEN_VAE_SKIPS = ("E3a", "E3b", "E3c", "E3d")


def _check_resume_config(path: str, cfg: ConsolidationConfig) -> None:
    saved = config_load(load_json(path))
    if saved != cfg:
        a, b = config_json(saved), config_json(cfg)
        diff = sorted(k for k in a if a[k] != b[k])
        raise UsageError(f"cannot resume: the config differs from the run in {os.path.dirname(path)} "
                         f"in {diff}; use the same config and seed, or a new --out")


def _make_vae(cfg: ConsolidationConfig, rng):
    from refmem.neocortex import shapes3d_vae

    return shapes3d_vae(latent_dim=cfg.latent_dim, rng=rng, dtype=np.float32, bn_mode=cfg.bn_mode,
                        widths=tuple(cfg.vae_widths))


def _untrained_like(cfg: ConsolidationConfig, vae=None):
    """The untrained control: the architecture of ``vae`` (or of the config when ``vae`` is None)
    initialised from the run's ``init`` stream, as the VAE trained here starts out."""
    rng = spawn_rngs(cfg.seed, STREAMS)["init"]
    if vae is None:
        return _make_vae(cfg, rng)
    from refmem.neocortex import ARCHITECTURES

    return ARCHITECTURES[vae.config["architecture"]](**vae.config["kwargs"], rng=rng)


def _given_vae(vae: Any, vae_path: Optional[str]):
    """``(vae, info)`` for a VAE given in memory or as a file; checked to be a Shapes3D-shaped VAE."""
    from refmem.neocortex import ARCHITECTURES, load_vae

    if vae is None:
        if not isinstance(vae_path, (str, os.PathLike)):
            raise TypeError(f"vae_path must be a path, got {type(vae_path).__name__}")
        if not os.path.isfile(vae_path):
            raise UsageError(f"--vae {os.fspath(vae_path)!r}: no such file")
        vae = load_vae(vae_path)
        info = {"source": f"loaded from {os.fspath(vae_path)}", "path": portable_path(vae_path)}
    else:
        info = {"source": "given in memory", "path": None}
    if tuple(vae.input_shape) != IMAGE_SHAPE:
        raise UsageError(f"the VAE must take Shapes3D images of shape {IMAGE_SHAPE}, got input shape "
                         f"{tuple(vae.input_shape)}")
    config = getattr(vae, "config", None) or {}
    if config.get("architecture") not in ARCHITECTURES:
        raise UsageError("the given VAE has no registered architecture in its config, so its untrained "
                         "control cannot be built; use a VAE made by refmem.neocortex.shapes3d_vae or load_vae")
    info.update(trained=False, architecture=config["architecture"], kwargs=dict(config.get("kwargs", {})))
    return vae, info


def _replay_figure(path: str, net, memories: np.ndarray, cfg: ConsolidationConfig, rng, n: int = 8) -> str:
    """Fresh noise cues, their replays and the stored memory each replay reached."""
    cues = rng.uniform(-1.0, 1.0, size=(n, net.dim)).astype(net.dtype)  # xi_0 ~ U(-1, 1)^d
    out, info = net.retrieve(cues, max_iter=cfg.max_replay_iter, return_info=True)
    shape = memories.shape[1:]
    return figs.replay_samples(path, from_pattern(cues, shape), from_pattern(out, shape),
                               memories[np.asarray(info["winner"])])


def _e3_numbers(h: Dict, control: bool = True) -> Dict[str, Optional[float]]:
    """E3's numbers from the per-epoch history; ``controls["untrained"]`` are those of the
    model before training, measured at every epoch (a flat curve: its epoch-start values)."""
    from refmem.analysis.stats import spearman

    acc = np.asarray(h["decoding_accuracy"], dtype=np.float64)
    finite = np.isfinite(acc)
    if finite.sum() >= 2:
        rho = 0.0 if np.ptp(acc[finite]) == 0 else float(spearman(np.arange(len(acc))[finite], acc[finite])[0])
    else:
        rho = float("nan")
    out = {"loss_first": h["recon_loss"][0], "loss_last": h["recon_loss"][-1],
           "loss_ratio": h["recon_loss"][0] / h["recon_loss"][-1],
           "heldout_recon_first": h["heldout_recon"][0], "heldout_recon_last": h["heldout_recon"][-1],
           "accuracy_first": float(acc[0]), "accuracy_final": float(acc[-1]),
           "accuracy_after_epoch1": float(acc[1]) if len(acc) > 2 else None,
           "accuracy_max": float(np.nanmax(acc)), "accuracy_spearman": rho}
    if not np.isfinite(rho):  # written as null in results.json; say why
        out["accuracy_spearman_null_reason"] = (f"a trend needs two or more finite decoding accuracies, got "
                                                f"{int(finite.sum())}")
    if control:
        flat = {k: [h[k][0]] * len(h[k]) for k in ("recon_loss", "heldout_recon", "decoding_accuracy")}
        out["controls"] = {"untrained": _e3_numbers(flat, control=False)}
    return out


def _replay_controls(stats: Dict, patterns: np.ndarray, threshold: float) -> Dict:
    """E1's numbers for a hippocampus at beta = 0 (every replay is the mean of the memories)
    and for one that always replays the same memory."""
    mean = patterns.mean(axis=0, dtype=np.float64)[None]
    nearest = int(np.argmax(patterns @ mean[0].astype(patterns.dtype)))
    blend = replay_stats(mean, {"winner": [nearest], "max_weight": [1.0 / len(patterns)], "n_iter": [0]},
                         patterns, threshold)
    return {"blend": {"fraction_converged": blend["fraction_converged"]},
            "one_memory": {"fraction_memories_replayed": 1.0 / len(patterns),
                           "expected_fraction_replayed_uniform": stats["expected_fraction_replayed_uniform"]}}


def run(config: ConsolidationConfig, out_dir: str, *, resume: bool = False, quiet: bool = False,
        preset: str = "custom", stop_after_epoch: Optional[int] = None,
        log: Optional[Callable[[str], None]] = None, vae: Any = None, vae_path: Optional[str] = None) -> Dict:
    """Run the consolidation simulation and write its outputs into ``out_dir``.

    Parameters
    ----------
    config : ConsolidationConfig
    out_dir : str
        Run folder (created if needed).
    resume : bool
        Continue an interrupted run in ``out_dir`` (same config required): the cached
        replays and the last epoch checkpoint are reused, and the result is bit-identical
        to an uninterrupted run.
    quiet : bool
        No progress lines or bars.
    preset : str
        Name of the preset the config came from (for the report).
    stop_after_epoch : int, optional
        Test hook: raise :class:`~refmem.systems.consolidation.RunInterrupted` after
        that epoch's checkpoint, as if the run had been killed.
    log : callable, optional
        Receives progress lines (default: print to stdout unless ``quiet``).
    vae : VAE, optional
        A trained Shapes3D VAE to analyse instead of training one (``vae`` wins over
        ``vae_path``). Rendering, replay (E1) and the analyses E2, E4-E8 run as usual;
        training is skipped, and with it the per-epoch curves and the criteria of E3
        (:data:`GIVEN_VAE_SKIPS`); the VAE is measured once on the held-out scenes
        (``results["given_vae"]``). The untrained control is the given VAE's architecture
        initialised from the run's ``init`` stream. Nothing is written to ``vae.npz``.
    vae_path : str, optional
        A saved VAE file (:func:`refmem.neocortex.load_vae`) to use as ``vae``.

    Returns
    -------
    dict
        The results (as in ``results.json``; the analyses also carry their ``arrays``).
    """
    from refmem.datasets.shapes3d import FACTOR_NAMES, SHAPE, SHAPE_NAMES, sample
    from refmem.nn.optim import Adam

    cfg = validate_config(config)
    given = vae is not None or vae_path is not None
    if given:
        vae, vae_info = _given_vae(vae, vae_path)  # a bad file fails before any work
    say = (lambda s: None) if quiet else (log or _print)
    bars = not quiet
    prepare_out_dir(out_dir)
    path = {k: os.path.join(out_dir, v) for k, v in FILES.items()}
    if resume and os.path.exists(path["config"]):
        _check_resume_config(path["config"], cfg)
    else:
        resume = False
        remove_checkpoint_npz(path["checkpoint"])  # a fresh run never reuses stale state
        if os.path.exists(path["replay"]):
            os.remove(path["replay"])
    save_json(path["config"], config_json(cfg))
    rngs = spawn_rngs(cfg.seed, STREAMS)
    sub = spawn_rngs(int(rngs["analysis"].integers(2 ** 63)), ["e2", "e5", "e6", "e7", "figures"])
    timings: Dict[str, float] = {}
    peak: Dict[str, Optional[int]] = {}
    t_all = t = time.perf_counter()

    # 1. data (docs/paper-experiments.md, 1.2): disjoint memories and held-out scenes
    say(f"rendering {cfg.n_memories} memories + {cfg.n_heldout} held-out scenes ...")
    images, labels = sample(cfg.n_memories + cfg.n_heldout, rngs["data"], supersample=cfg.supersample,
                            progress=None if bars else False)
    memories, mem_labels = images[:cfg.n_memories], labels[:cfg.n_memories]
    heldout, held_labels = images[cfg.n_memories:], labels[cfg.n_memories:]
    timings["render"] = time.perf_counter() - t
    peak["render"] = peak_rss_bytes()
    fit_idx, test_idx = probe_split(cfg.n_heldout, cfg.probe_train, cfg.probe_test, rngs["probes"])
    if len(np.unique(held_labels[fit_idx, SHAPE])) < 2:  # the probe needs two classes: say so before replay
        raise UsageError(f"the {cfg.probe_train} probe-training scenes (probe_train) hold one shape only; "
                         f"a decoding probe needs two: raise probe_train or change the seed")

    # 2. hippocampal encoding and replay (docs/paper-experiments.md, 1.3, E1)
    t = time.perf_counter()
    net = build_hippocampus(memories, cfg.beta, cfg.normalize)
    states, info, cached = load_or_replay(path["replay"], net, cfg.replay_count, rngs["replay"],
                                          cfg.max_replay_iter, cfg.replay_batch, progress=bars)
    stats = replay_stats(states, info, net.patterns, cfg.converged_weight)
    stats["controls"] = _replay_controls(stats, net.patterns, cfg.converged_weight)
    written = [_replay_figure(os.path.join(out_dir, "replay_samples.png"), net, memories, cfg, sub["figures"])]
    del net
    x_train = from_pattern(states, memories.shape[1:], inplace=True)  # (x + 1) / 2, clipped: the VAE's training set
    del states  # x_train now owns that memory
    timings["replay"] = time.perf_counter() - t
    peak["replay"] = peak_rss_bytes()
    say(f"replay: {stats['fraction_converged']:.3f} converged to one memory, {stats['distinct_memories']}/"
        f"{stats['n_memories']} distinct memories, max replays of one memory {stats['replay_count_max']}"
        f"{' (from cache)' if cached else ''} [{format_seconds(timings['replay'])}]")

    # 3. consolidation (docs/paper-experiments.md, 1.4-1.6, E3), or the given VAE measured once
    t = time.perf_counter()
    heldout_data = (heldout, held_labels[:, SHAPE], fit_idx, test_idx, cfg.probe_kind, cfg.heldout_recon_n)
    res: Dict = {"experiment": "consolidation", "preset": preset, "config": config_json(cfg),
                 "versions": versions(), "resumed": bool(resume), "replay": stats, "replay_from_cache": cached}
    if given:
        say(f"analysing the given VAE ({vae_info['source']}); no training, E3 skipped")
        hist = None
        res.update(vae=vae_info, epochs_trained=0, stopped_early=False,
                   given_vae=measure_heldout(vae, *heldout_data), skipped_criteria=list(GIVEN_VAE_SKIPS))
        timings["measure_vae"] = time.perf_counter() - t
    else:
        vae = _make_vae(cfg, rngs["init"])
        opt = Adam(vae.params, lr=cfg.lr, amsgrad=cfg.amsgrad)
        batch_seed = int(rngs["batches"].integers(2 ** 63))
        steps_per_epoch = -(-len(x_train) // cfg.batch_size)  # the last batch may be smaller
        if cfg.within_epoch_every > steps_per_epoch:
            warn(f"within_epoch_every={cfg.within_epoch_every} exceeds the {steps_per_epoch} steps of an epoch: "
                 "nothing is measured within epochs")
        say(f"training the VAE on {len(x_train)} replayed memories for up to {cfg.epochs} epochs ...")
        hist = train(vae, opt, x_train, heldout_data,
                     epochs=cfg.epochs, batch_size=cfg.batch_size, patience=cfg.patience, batch_seed=batch_seed,
                     checkpoint_path=path["checkpoint"], resume=resume, stop_after_epoch=stop_after_epoch,
                     log=say, epoch_progress=bars, within_every=cfg.within_epoch_every,
                     within_epochs=cfg.within_epoch_epochs)
        vae.save(path["model"])
        timings["training"] = time.perf_counter() - t
        res.update(vae={"source": "trained here", "path": FILES["model"], "trained": True},
                   epochs_trained=hist["epochs_done"], stopped_early=hist["stopped_early"])
        for k in ("loss", "recon_loss", "kl", "heldout_recon", "decoding_accuracy", "epoch_seconds"):
            res[k] = list(hist[k])
        res["e3"] = _e3_numbers(hist)
        if hist["within_step"]:
            ep, st, rec, acc = (hist[k] for k in WITHIN_EPOCH_KEYS)
            res["within_epoch"] = {"steps_per_epoch": steps_per_epoch, "epoch": [int(e) for e in ep],
                                   "step": [int(s) for s in st], "heldout_recon": list(rec),
                                   "decoding_accuracy": list(acc)}
    del x_train  # the analyses read the memories and held-out scenes, not the replays
    peak["measure_vae" if given else "training"] = peak_rss_bytes()

    # 4. analyses (docs/paper-experiments.md, E2, E4-E8)
    untrained = _untrained_like(cfg, vae if given else None)  # same init seed, no training
    held_mu = encode_mu(vae, heldout)
    n8 = cfg.n_heldout if cfg.e8_test is None else min(cfg.e8_test, cfg.n_heldout)
    steps = [
        ("e2", lambda: recall_noisy(vae, untrained, heldout[:cfg.e2_n], cfg.e2_fraction, sub["e2"])),
        ("e4", lambda: latent_structure(vae, heldout[:cfg.e4_n], held_labels[:cfg.e4_n, SHAPE], cfg.e4_k,
                                        untrained)),
        ("e5", lambda: interpolation(vae, heldout, cfg.e5_pairs, cfg.e5_steps, cfg.e5_reference, sub["e5"])),
        ("e6", lambda: relational_inference(vae, held_mu, held_labels, cfg.e6_triples, sub["e6"],
                                            cfg.supersample, cfg.probe_kind)),
        ("e7", lambda: imagination(vae, held_mu, held_labels[:, SHAPE], cfg.e7_samples, cfg.e7_top, sub["e7"],
                                   cfg.probe_kind, reference=heldout)),
        ("e8", lambda: few_shot(vae, memories, mem_labels[:, SHAPE], heldout[:n8], held_labels[:n8, SHAPE],
                                cfg.e8_sizes, ENCODER_LAYERS, cfg.probe_kind, untrained)),
    ]
    for name, fn in steps:
        t = time.perf_counter()
        res[name] = fn()
        timings[name] = time.perf_counter() - t
        peak[name] = peak_rss_bytes()
        say(f"{name.upper()} [{format_seconds(timings[name])}]")

    # 5. figures, results, report
    t = time.perf_counter()
    more, skipped = figs.write_figures(out_dir, hist, res, SHAPE_NAMES)
    res["figures"], res["skipped_figures"] = written + more, skipped
    timings["figures"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t_all
    res["timings"] = timings
    peak["figures"] = peak_rss_bytes()
    res["peak_rss_bytes"] = peak["figures"]  # this process's peak resident memory (ru_maxrss)
    res["peak_rss_bytes_after"] = peak  # the peak so far after each stage: where it was reached
    res["factor_names"] = list(FACTOR_NAMES)
    res["effects"] = judge(res)
    write_results(path["results"], res)
    write_report(path["report"], res, res["effects"])
    return res


def judge(res: Dict) -> list:
    """The effects table of a run's results under the current criteria.

    Every consolidation criterion is a function of the numbers in ``results.json`` (the
    measures of :mod:`.criteria` read the analyses' dicts, the controls included), so a
    finished run can be judged again without running anything.

    Parameters
    ----------
    res : dict
        A run's results (``config``, ``replay``, ``e2`` ... ``e8``; ``skipped_criteria``
        for a given VAE).

    Returns
    -------
    list of dict
        The rows of :func:`refmem.experiments.criteria.evaluate`.
    """
    used = [c for c in criteria(res["config"]) if c.id not in res.get("skipped_criteria", ())]
    return evaluate(used, measures(res), control_measures(res))


def rejudge(out_dir: str) -> Dict:
    """Judge a finished run again under the current criteria; rewrite its results and report.

    Only the verdicts change: ``results.json`` keeps every measured number and gains
    ``rejudged`` (the versions that judged it, and the verdicts of the run itself by id);
    ``report.md`` is written afresh from it.

    Parameters
    ----------
    out_dir : str
        The folder of a finished consolidation run (it holds ``results.json``).

    Returns
    -------
    dict
        The updated results.

    Raises
    ------
    UsageError
        If the folder holds no finished consolidation run.
    """
    path = os.path.join(out_dir, FILES["results"])
    if not os.path.isfile(path):
        raise UsageError(f"{out_dir}: no results.json (rejudging needs a finished run)")
    try:
        res = load_json(path)
    except ValueError as exc:
        raise UsageError(f"{path}: not a readable results file ({exc})") from None
    if not isinstance(res, dict) or res.get("experiment") != "consolidation" or "effects" not in res:
        raise UsageError(f"{path}: not the results of a finished consolidation run")
    before = {r["id"]: r["result"] for r in res["effects"]}
    res["effects"] = judge(res)
    as_run = res.get("rejudged", {}).get("results_as_run", before)
    res["rejudged"] = {"versions": versions(), "results_as_run": as_run}
    write_results(path, res)
    write_report(os.path.join(out_dir, FILES["report"]), res, res["effects"])
    return res
