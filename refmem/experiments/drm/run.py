"""``run``: the DRM false-memory experiment end to end (paper.md E15).

1. Corpus (synthetic, or ``corpus_file``) -> binary bags of words.
2. Train the text VAE (:func:`refmem.bow_vae`) as the paper did, or load it.
3. (a) Full lists; (b) list-length curve, 400 trials per k.
4. Negative controls (:mod:`.criteria`) and the co-occurrence sensitivity sweep.
5. ``results.json``, ``report.md`` and figures in ``out_dir``.

Trained VAEs are cached in ``out_dir/vaes/`` (with their vocabulary); with
``resume=True`` a cached VAE whose vocabulary matches is reused, so an interrupted
run restarts at the next untrained model.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Callable, Optional

import numpy as np

from refmem import bow_vae, load_vae
from refmem._utils import load_json, portable_path, save_json
from refmem.config import config_to_dict
from refmem._errors import UsageError, one_line, warn
from refmem.experiments.common import prepare_out_dir, versions
from refmem.experiments.criteria import count_passed, evaluate
from refmem.progress import format_seconds, log

from refmem.experiments.drm.config import DRMConfig, validate_config
from refmem.experiments.drm.corpus import decouple_stories, read_stories, synthetic_stories, vectorize
from refmem.experiments.drm.criteria import CRITERIA, measures
from refmem.experiments.drm.figures import make_figures
from refmem.experiments.drm.measure import corpus_stats, full_lists, list_length_curve
from refmem.experiments.drm.model import hippocampus_only_recall_fn, prior_recall_fn, vae_recall_fn
from refmem.experiments.drm.report import write_report

__all__ = ["run", "train_text_vae", "corpus_for", "STREAM_ENTROPY"]

STREAM_ENTROPY = 0xD43  # "DRM"


def _seq(cfg: DRMConfig, *tags) -> np.random.SeedSequence:
    """A named random stream: depends only on the seed and the tags."""
    ints = [int(cfg.seed), STREAM_ENTROPY] + [int.from_bytes(hashlib.sha256(str(t).encode()).digest()[:4], "little")
                                              for t in tags]
    return np.random.SeedSequence(ints)


def _rng(cfg, *tags) -> np.random.Generator:
    return np.random.default_rng(_seq(cfg, *tags))


def _vocab_hash(vocabulary) -> str:
    return hashlib.sha256("\n".join(vocabulary).encode()).hexdigest()[:16]


def train_text_vae(X, cfg: DRMConfig, rng_init, rng_train, say: Callable = lambda m: None,
                   label: str = "vae"):
    """Build :func:`refmem.bow_vae` for ``X`` (n, V) and train it as the paper did.

    AMSGrad (``cfg.lr``), batch ``cfg.batch_size``, at most ``cfg.epochs`` epochs, early
    stopping on the training loss with ``cfg.patience``; ``X`` is fed sparse if
    ``cfg.sparse``. Returns ``(vae, history)``.
    """
    vae = bow_vae(int(X.shape[1]), cfg.latent_dim, rng=rng_init)
    every = max(1, cfg.epochs // 5)
    t0 = time.perf_counter()

    def progress(epoch, logs, _vae):
        if (epoch + 1) % every == 0 or epoch == 0:
            say(f"  {label}: epoch {epoch + 1}/{cfg.epochs} loss {logs['loss']:.5f} "
                f"(recon {logs['recon']:.5f}, kl {logs['kl']:.3f}) {format_seconds(time.perf_counter() - t0)}")

    x = X if cfg.sparse else X.toarray()
    hist = vae.fit(x, cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, amsgrad=True,
                   patience=cfg.patience, rng=rng_train, callbacks=[progress])
    hist["train_s"] = time.perf_counter() - t0
    return vae, hist


def _vae_for(tag, X, vocabulary, cfg, out_dir, resume, say, seed_tag=None):
    """Train (or, with ``resume``, reload from ``out_dir/vaes``) the VAE ``tag``."""
    vdir = os.path.join(out_dir, "vaes")
    os.makedirs(vdir, exist_ok=True)
    path, meta_path = os.path.join(vdir, f"{tag}.npz"), os.path.join(vdir, f"{tag}.json")
    vh = _vocab_hash(vocabulary)
    if resume and os.path.exists(path) and os.path.exists(meta_path):
        try:
            meta = load_json(meta_path)
            if meta.get("vocab_hash") == vh:
                vae, hist = load_vae(path), meta["history"]
                say(f"  {tag}: reusing the trained VAE in {path}")
                return vae, hist
            say(f"  {tag}: cached VAE has another vocabulary; retraining")
        except (ValueError, KeyError, AttributeError) as exc:  # a damaged cache file: train again
            warn(f"the cached VAE {path} cannot be used ({one_line(exc)}); training it again")
    seed_tag = seed_tag or tag
    vae, hist = train_text_vae(X, cfg, _rng(cfg, seed_tag, "init"), _rng(cfg, seed_tag, "train"), say, tag)
    vae.save(path)
    save_json(meta_path, {"vocab_hash": vh, "vocab_size": len(vocabulary), "history": hist})
    say(f"  {tag}: trained {hist['epochs']} epochs in {format_seconds(hist['train_s'])}, "
        f"final loss {hist['loss'][-1]:.5f}")
    return vae, hist


def corpus_for(cfg: DRMConfig, corpus_file: Optional[str] = None, *, decouple: bool = False,
               lure_weight: Optional[float] = None):
    """The run's stories: the user's file (decoupled by deleting lures next to their
    associates) or the synthetic corpus (seeded by ``cfg.seed``; decoupled at generation,
    or with another ``lure_weight`` for the sweep)."""
    if corpus_file:
        stories = read_stories(corpus_file)
        return decouple_stories(stories) if decouple else stories
    return synthetic_stories(cfg.corpus, _rng(cfg, "corpus"), lure_weight=lure_weight, decouple=decouple)


def _curve(recall, vocabulary, cfg, n_reps=None):
    return list_length_curve(recall, vocabulary, cfg.ks, n_reps or cfg.n_reps, _rng(cfg, "lists"),
                             cfg.threshold)


def run(config: DRMConfig, out_dir: str, *, preset: str = "custom", corpus_file: Optional[str] = None,
        vae_path: Optional[str] = None, resume: bool = False, verbose: bool = True) -> dict:
    """Run the DRM experiment and write its outputs to ``out_dir``.

    Parameters
    ----------
    config : DRMConfig
    out_dir : str
    preset : str
        Name recorded in the report.
    corpus_file : str, optional
        A real corpus (one story per line, or ROCStories CSV); default: synthetic.
        The sensitivity sweep needs the synthetic corpus and is skipped otherwise.
    vae_path : str, optional
        A trained text VAE (``.npz``) for this corpus's vocabulary, instead of training.
    resume : bool
        Reuse the VAEs cached in ``out_dir/vaes`` by an earlier run of the same config.
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
    timings = {}

    # 1. corpus
    t0 = time.perf_counter()
    stories = corpus_for(cfg, corpus_file)
    if corpus_file:
        source = f"file {os.path.basename(corpus_file)} ({len(stories)} stories)"
    else:
        source = f"synthetic ({cfg.corpus.n_stories} stories, lure_weight {cfg.corpus.lure_weight:g})"
    X, voc = vectorize(stories, cfg.corpus.max_df, cfg.corpus.min_df)
    stats = corpus_stats(X, voc)
    timings["corpus_s"] = time.perf_counter() - t0
    say(f"drm: corpus {source}: V = {stats['vocab_size']}, {stats['words_per_story']:.1f} words/story, "
        f"lure df ratio {stats['df_ratio']}, P(lure | associate) {stats['p_lure_given_assoc']}")
    if stats["missing_drm_words"]:
        say(f"drm: {len(stats['missing_drm_words'])} DRM words are not in the vocabulary: "
            f"{', '.join(stats['missing_drm_words'][:12])}")

    # 2. text VAE
    t0 = time.perf_counter()
    if vae_path:
        vae, hist = load_vae(vae_path), None
        if vae.input_shape != (len(voc),):
            raise UsageError(f"VAE {vae_path} reads {vae.input_shape[0]} words but the corpus "
                             f"vocabulary has {len(voc)}")
    else:
        vae, hist = _vae_for("main", X, voc, cfg, out_dir, resume, say)
    timings["vae_s"] = time.perf_counter() - t0

    # 3. measurements
    t0 = time.perf_counter()
    model = vae_recall_fn(vae, cfg.beta, cfg.max_iter)
    full = full_lists(model, voc, cfg.threshold)
    curve = _curve(model, voc, cfg)
    ms = measures(curve)
    timings["measure_s"] = time.perf_counter() - t0
    say(f"drm: full lists: {full['n_lures_recalled']}/20 lures recalled ({', '.join(full['lures_recalled'])}); "
        f"false recall by k: " + " ".join(f"{k}:{r:.3f}" for k, r in zip(curve["ks"], curve["rate"])))

    # 4a. controls
    controls, control_curves, control_info = {}, {}, {}
    if cfg.controls:
        t0 = time.perf_counter()
        dc_stories = decouple_stories(stories) if corpus_file else corpus_for(cfg, decouple=True)
        X_dc, voc_dc = vectorize(dc_stories, cfg.corpus.max_df, cfg.corpus.min_df)
        vae_dc, hist_dc = _vae_for("decoupled", X_dc, voc_dc, cfg, out_dir, resume, say)
        control_info["decoupled corpus"] = {"corpus": corpus_stats(X_dc, voc_dc),
                                            "full_lists": full_lists(vae_recall_fn(vae_dc, cfg.beta, cfg.max_iter),
                                                                     voc_dc, cfg.threshold)}
        fns = {"decoupled corpus": (vae_recall_fn(vae_dc, cfg.beta, cfg.max_iter), voc_dc),
               "hippocampus only": (hippocampus_only_recall_fn(cfg.beta, cfg.max_iter), voc),
               "untrained VAE": (vae_recall_fn(bow_vae(len(voc), cfg.latent_dim, rng=_rng(cfg, "untrained")),
                                               cfg.beta, cfg.max_iter), voc),
               "constant decoder": (prior_recall_fn(vae), voc)}
        for name, (fn, v) in fns.items():
            control_curves[name] = _curve(fn, v, cfg)
            controls[name] = measures(control_curves[name])
        timings["controls_s"] = time.perf_counter() - t0
        say("drm: controls: " + "; ".join(f"{n}: max false recall {m['max_rate']:.3f}, studied recall "
                                          f"{m['studied_recall_k15']:.2f}" for n, m in controls.items()))

    # 4b. sensitivity sweep over the co-occurrence strength
    sweep = []
    if cfg.sweep_lure_weights and not corpus_file:
        t0 = time.perf_counter()
        for w in cfg.sweep_lure_weights:
            if w == cfg.corpus.lure_weight:
                c, st, h = curve, stats, hist
            else:
                s_w = corpus_for(cfg, lure_weight=w)
                X_w, voc_w = vectorize(s_w, cfg.corpus.max_df, cfg.corpus.min_df)
                st = corpus_stats(X_w, voc_w)
                vae_w, h = _vae_for(f"sweep_w{w:g}", X_w, voc_w, cfg, out_dir, resume, say)
                c = _curve(vae_recall_fn(vae_w, cfg.beta, cfg.max_iter), voc_w, cfg, cfg.sweep_n_reps)
            sweep.append({"lure_weight": float(w), "df_ratio": st["df_ratio"],
                          "p_lure_given_assoc": st["p_lure_given_assoc"], "vocab_size": st["vocab_size"],
                          "ks": c["ks"], "rate": c["rate"], "sem": c["sem"],
                          "studied_recall": c["studied_recall"], "measures": measures(c),
                          "epochs": None if h is None else h["epochs"]})
            say(f"drm: sweep lure_weight {w:g} (P(lure | associate) {st['p_lure_given_assoc']:.3f}): "
                + " ".join(f"{k}:{r:.3f}" for k, r in zip(c["ks"], c["rate"])))
        sweep.sort(key=lambda e: e["lure_weight"])
        timings["sweep_s"] = time.perf_counter() - t0

    rows = evaluate(CRITERIA, ms, controls)
    n_pass, n_crit = count_passed(rows)
    results = {
        "experiment": "drm", "preset": preset, "config": config_to_dict(cfg),
        "corpus": {"source": source, "file": corpus_file, **stats},
        "vae": {"path": portable_path(vae_path), "history": hist},
        "full_lists": full, "curve": curve, "measures": ms,
        "controls": {n: {"measures": controls[n], "curve": control_curves[n], **control_info.get(n, {})}
                     for n in controls},
        "sweep": sweep, "criteria": rows, "passed": bool(n_pass == n_crit), "n_passed": n_pass,
        "n_criteria": n_crit, "timings": timings, "versions": versions(),
    }
    results["figures"], results["skipped_figures"] = make_figures(results, out_dir)
    results["timings"]["total_s"] = time.perf_counter() - t_start
    save_json(os.path.join(out_dir, "results.json"), json.loads(json.dumps(results, default=_plain)))
    write_report(results, os.path.join(out_dir, "report.md"))
    say(f"drm: {n_pass}/{n_crit} criteria pass; total {format_seconds(results['timings']['total_s'])}; "
        f"outputs in {out_dir}")
    return results


def _plain(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
