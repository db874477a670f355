"""Configuration of the consolidation simulation: one dataclass and three presets.

Every field can be set from the command line (``--set key=value``, parsed by
:func:`refmem.config.apply_overrides`) and the whole config round-trips through JSON
(``config.json`` in the run folder). The ``seed`` fixes every random stream of a run
(:data:`STREAMS`, derived with :func:`refmem._utils.spawn_rngs`).

Presets (:data:`CONFIGS`):

``quick`` (default; what the README runs)
    Sized to finish within 5 minutes on a 2-core machine including rendering (4m23s
    measured on an idle 2-core Xeon with an empty render cache), and still to show the
    consolidation effects of E3: 2,000 memories, 22 epochs, 950 held-out scenes (probe
    fitted on 200, scored on 750 as in the paper). It deviates from the paper in one
    hyperparameter: batch size 16 instead of 32, because decoding accuracy grows with
    the number of optimiser steps and batch 16 gives 1.7x more steps per second here
    (see ``docs/consolidation.md``).
``paper``
    The paper's scale (docs/paper-experiments.md, 1.2-1.9, E1-E8): 10,000 memories, up to 50 epochs,
    1,500 held-out scenes split 750/750, probe fitted on 200. Runs for hours in NumPy.
``tiny``
    For tests and CI: seconds. Every stage and analysis runs, at toy sizes, so the
    numbers it reports carry no scientific weight.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional, Tuple

from refmem.config import apply_overrides, config_from_dict, config_to_dict

__all__ = ["ConsolidationConfig", "CONFIGS", "STREAMS", "get_config", "validate_config"]

#: Named random streams, each an independent child of ``SeedSequence(seed)``.
STREAMS = ("data", "replay", "init", "batches", "probes", "analysis")

#: few-shot training-set sizes of docs/paper-experiments.md, E8
PAPER_FEW_SHOT_SIZES = (10, 20, 50, 100, 200, 300, 400, 500, 1000)


@dataclass(frozen=True)
class ConsolidationConfig:
    """All settings of one consolidation run (docs/paper-experiments.md sections 1.2-1.9, E1-E8).

    Attributes
    ----------
    seed : int
        Fixes every random stream (:data:`STREAMS`).
    n_memories : int
        Scenes stored in the hippocampus (paper: 10,000).
    n_heldout : int
        Held-out scenes, disjoint from the memories (paper: 1,500).
    n_replay : int or None
        Replay events (noise cues); ``None`` means ``n_memories`` (paper: one per memory).
    supersample : int
        Anti-aliasing factor of the renderer (1 = faster, 2 = the renderer's default).
    beta, normalize, max_replay_iter, replay_batch
        Hopfield inverse temperature (20; effective beta/sqrt(d)), scaling by sqrt(d),
        updates per replay (10) and cues per batched replay call.
    converged_weight : float
        A replay "converged to a single memory" if its cosine with the winning memory
        or its largest attention weight is >= this (0.99, docs/paper-experiments.md, E1).
    latent_dim, vae_widths, bn_mode, lr, amsgrad, batch_size, epochs, patience
        The VAE (``refmem.neocortex.vae.shapes3d_vae``; ``vae_widths`` are the encoder conv widths,
        the paper's (32, 64, 128, 256); smaller only for tests) and its training
        (docs/paper-experiments.md, 1.4-1.6).
    probe_kind, probe_train, probe_test
        Semantic decoding probe (docs/paper-experiments.md, 1.9: standardised RBF SVC fitted on 200
        held-out examples, scored on 750 others).
    heldout_recon_n : int or None
        Held-out scenes (the first ones) on which the per-epoch reconstruction error is
        measured; ``None`` = all.
    within_epoch_every, within_epoch_epochs : int
        Also take the epoch-start measurement after every ``within_epoch_every`` training
        steps (default 0: never) of the first ``within_epoch_epochs`` epochs (default 2,
        at least 1 when measuring): the course of early consolidation at a finer
        resolution. It does not change the training.
    min_final_accuracy, min_accuracy_spearman, min_loss_ratio
        Thresholds of the E3 criteria (:func:`refmem.experiments.consolidation.criteria.criteria`).
    e2_n, e2_fraction
        E2: number of held-out scenes and fraction of elements zeroed.
    e4_n, e4_k
        E4: scenes in the latent projection and the k of the neighbour agreement.
    e5_pairs, e5_steps, e5_reference
        E5: interpolated pairs, steps (endpoints included) and reference scenes (at
        most this many: the first ``min(e5_reference, n_heldout)`` held-out scenes).
    e6_triples
        E6: number of analogy triples (A, B, C).
    e7_samples, e7_top
        E7: prior samples and top-scoring samples kept per class.
    e8_sizes, e8_test
        E8: few-shot training sizes and test scenes (``None`` = all held-out scenes).
    """

    seed: int = 0
    n_memories: int = 1500
    n_heldout: int = 500
    n_replay: Optional[int] = None
    supersample: int = 2
    # hippocampus (docs/paper-experiments.md, 1.3)
    beta: float = 20.0
    normalize: bool = True
    max_replay_iter: int = 10
    replay_batch: int = 250
    converged_weight: float = 0.99
    # neocortex (docs/paper-experiments.md, 1.4-1.6)
    latent_dim: int = 20
    vae_widths: Tuple[int, ...] = (32, 64, 128, 256)
    bn_mode: str = "as_run"
    lr: float = 1e-3
    amsgrad: bool = True
    batch_size: int = 32
    epochs: int = 16
    patience: int = 3
    # semantic decoding (docs/paper-experiments.md, 1.9)
    probe_kind: str = "svc"
    probe_train: int = 200
    probe_test: int = 300
    heldout_recon_n: Optional[int] = 200
    within_epoch_every: int = 0
    within_epoch_epochs: int = 2
    # thresholds of the E3 criteria (criteria.criteria(cfg))
    min_loss_ratio: float = 3.0
    min_final_accuracy: float = 0.6
    min_accuracy_spearman: float = 0.5
    # analyses (docs/paper-experiments.md, E2, E4-E8)
    e2_n: int = 100
    e2_fraction: float = 0.1
    e4_n: int = 500
    e4_k: int = 5
    e5_pairs: int = 10
    e5_steps: int = 10
    e5_reference: int = 1000
    e6_triples: int = 100
    e7_samples: int = 10000
    e7_top: int = 20
    e8_sizes: Tuple[int, ...] = PAPER_FEW_SHOT_SIZES[:-1]
    e8_test: Optional[int] = None

    @property
    def replay_count(self) -> int:
        """Number of replay events (``n_replay``, defaulting to ``n_memories``)."""
        return self.n_memories if self.n_replay is None else self.n_replay


def validate_config(cfg: ConsolidationConfig) -> ConsolidationConfig:
    """Check the values of a config; return it unchanged.

    Raises
    ------
    TypeError
        ``cfg`` is not a :class:`ConsolidationConfig`.
    ValueError
        A size, rate or threshold out of range (the message names the field), or a
        size that does not fit the scenes it is taken from (``e2_n``, ``e4_n``,
        ``e8_test``, ``heldout_recon_n`` <= ``n_heldout``; ``e4_k`` < ``e4_n``;
        ``e7_top`` in [2, min(``e7_samples``, ``n_heldout``)]; ``e8_sizes`` <=
        ``n_memories``; ``probe_train`` >= 2).
    """
    if not isinstance(cfg, ConsolidationConfig):
        raise TypeError(f"expected a ConsolidationConfig, got {type(cfg).__name__}")
    positive_ints = ["n_memories", "n_heldout", "supersample", "max_replay_iter", "replay_batch",
                     "latent_dim", "batch_size", "epochs", "patience", "probe_train", "probe_test",
                     "e2_n", "e4_n", "e4_k", "e5_pairs", "e6_triples", "e7_samples", "e7_top",
                     "e5_reference"]
    for name in positive_ints:
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    for name in ("within_epoch_every", "within_epoch_epochs"):
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    if cfg.within_epoch_every and not cfg.within_epoch_epochs:
        raise ValueError("within_epoch_epochs must be >= 1 when within_epoch_every > 0")
    if cfg.n_replay is not None and cfg.n_replay < 1:
        raise ValueError(f"n_replay must be a positive integer or null, got {cfg.n_replay!r}")
    if cfg.heldout_recon_n is not None and cfg.heldout_recon_n < 1:
        raise ValueError(f"heldout_recon_n must be a positive integer or null, got {cfg.heldout_recon_n!r}")
    if cfg.e8_test is not None and cfg.e8_test < 2:
        raise ValueError(f"e8_test must be >= 2 or null, got {cfg.e8_test!r}")
    if cfg.e5_steps < 3:
        raise ValueError(f"e5_steps must be >= 3 (two endpoints and an intermediate), got {cfg.e5_steps}")
    if cfg.probe_train + cfg.probe_test > cfg.n_heldout:
        raise ValueError(f"probe_train + probe_test ({cfg.probe_train} + {cfg.probe_test}) must not "
                         f"exceed n_heldout ({cfg.n_heldout})")
    if cfg.n_heldout < 3:
        raise ValueError(f"n_heldout must be >= 3 (E5 needs a pair and a reference), got {cfg.n_heldout}")
    for name in ("beta", "lr"):
        if not 0 < getattr(cfg, name) < float("inf"):
            raise ValueError(f"{name} must be finite and > 0, got {getattr(cfg, name)!r}")
    for name in ("converged_weight", "e2_fraction"):
        if not 0.0 < getattr(cfg, name) <= 1.0:
            raise ValueError(f"{name} must be in (0, 1], got {getattr(cfg, name)!r}")
    if cfg.bn_mode not in ("as_run", "batch"):
        raise ValueError(f"bn_mode must be 'as_run' or 'batch', got {cfg.bn_mode!r}")
    if cfg.probe_kind not in ("svc", "logreg"):
        raise ValueError(f"probe_kind must be 'svc' or 'logreg', got {cfg.probe_kind!r}")
    if len(cfg.vae_widths) != 4 or min(cfg.vae_widths) < 1:
        raise ValueError(f"vae_widths must be 4 positive integers, got {cfg.vae_widths!r}")
    if not cfg.e8_sizes or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in cfg.e8_sizes):
        raise ValueError(f"e8_sizes must be a non-empty list of positive integers, got {cfg.e8_sizes!r}")
    _check_sizes_fit(cfg)
    return cfg


def _check_sizes_fit(cfg: ConsolidationConfig) -> None:
    """Every size an analysis takes from the scenes must fit them (nothing is clipped)."""
    from refmem.datasets.shapes3d import N_IMAGES

    if cfg.n_memories + cfg.n_heldout > N_IMAGES:
        raise ValueError(f"n_memories + n_heldout ({cfg.n_memories} + {cfg.n_heldout}) must not exceed the "
                         f"{N_IMAGES} distinct scenes")
    if cfg.probe_train < 2:
        raise ValueError(f"probe_train must be >= 2 (a decoding probe needs two classes), got {cfg.probe_train}")
    held = [("e2_n", "E2's noisy scenes"), ("e4_n", "E4's scenes"), ("heldout_recon_n", "the per-epoch error"),
            ("e8_test", "E8's test scenes")]
    for name, what in held:
        v = getattr(cfg, name)
        if v is not None and v > cfg.n_heldout:
            raise ValueError(f"{name} ({v}, {what}) must not exceed n_heldout ({cfg.n_heldout})")
    if cfg.e4_k > cfg.e4_n - 1:
        raise ValueError(f"e4_k ({cfg.e4_k}) must be below e4_n ({cfg.e4_n}): the neighbours of a scene are "
                         f"the other scenes")
    if not 2 <= cfg.e7_top <= min(cfg.e7_samples, cfg.n_heldout):
        raise ValueError(f"e7_top ({cfg.e7_top}) must lie in [2, min(e7_samples, n_heldout)] = "
                         f"[2, {min(cfg.e7_samples, cfg.n_heldout)}] (diversity needs two images per class)")
    too_big = [n for n in cfg.e8_sizes if n > cfg.n_memories]
    if too_big:
        raise ValueError(f"e8_sizes {too_big} exceed n_memories ({cfg.n_memories}), the few-shot training scenes")


CONFIGS = {
    # quick: sizes measured to fit 5 minutes on 2 cores (docs/consolidation.md, "configs")
    "quick": ConsolidationConfig(n_memories=2000, n_heldout=950, probe_test=750, batch_size=16,
                                 epochs=22),
    # paper: docs/paper-experiments.md, 1.2 (10,000 memories, 1,500 held-out), 1.6 (50 epochs), 1.9 (200/750)
    "paper": ConsolidationConfig(n_memories=10000, n_heldout=1500, epochs=50, probe_train=200,
                                 probe_test=750, heldout_recon_n=None, e4_n=800, e5_reference=1000,
                                 e8_sizes=PAPER_FEW_SHOT_SIZES,
                                 min_final_accuracy=0.7, min_accuracy_spearman=0.8),
    # tiny: seconds, for CI; every stage runs at toy size
    "tiny": ConsolidationConfig(n_memories=48, n_heldout=40, heldout_recon_n=None, supersample=1, epochs=2,
                                vae_widths=(4, 8, 8, 16), replay_batch=16, probe_train=16, probe_test=16,
                                e2_n=8, e4_n=24,
                                e5_pairs=2, e5_steps=4, e5_reference=20, e6_triples=6,
                                e7_samples=200, e7_top=3, e8_sizes=(4, 8, 16, 32), e8_test=16),
}


def get_config(name: str, overrides=(), seed: Optional[int] = None) -> ConsolidationConfig:
    """The preset ``name`` with an optional seed and ``key=value`` overrides applied.

    Raises
    ------
    ValueError
        Unknown preset, unknown key, or a value of the wrong type or out of range.
    """
    if name not in CONFIGS:
        raise ValueError(f"unknown config {name!r}; choose from {', '.join(CONFIGS)}")
    cfg = CONFIGS[name]
    if seed is not None:
        cfg = dataclasses.replace(cfg, seed=int(seed))
    cfg = apply_overrides(cfg, list(overrides))
    return validate_config(cfg)


def config_json(cfg: ConsolidationConfig) -> dict:
    """The config as a JSON-ready dict (:func:`refmem.config.config_to_dict`)."""
    return config_to_dict(cfg)


def config_load(data: dict) -> ConsolidationConfig:
    """Inverse of :func:`config_json` (unknown keys raise ``ValueError``)."""
    return validate_config(config_from_dict(ConsolidationConfig, data))
