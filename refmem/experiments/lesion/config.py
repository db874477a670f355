"""Configuration of the memory-age / hippocampal-lesion experiment (E9, a reconstruction).

=========  ===========================================================================
preset     meaning
=========  ===========================================================================
``quick``  5 days x 100 scenes (each day its own wall hues), 16 epochs a day, a
           half-width VAE (same layers, half the channels) with batch 16, both arrival
           orders: about 7 minutes on 2 idle cores
``paper``  5 days x 2,000 scenes (10,000 memories, the paper's count; each day its own
           wall hues), 10 epochs a day (so the first group is replayed for 50 epochs in
           all, the paper's count), the paper's VAE and batch 32, both orders: 600,000
           training images, about an hour on 2 idle cores; resumable after every day
``tiny``   seconds, for tests (numbers carry no weight)
=========  ===========================================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from refmem.experiments.common import check_at_most, check_positive_ints

#: scenes a run may draw in all (a tenth of the 480,000 distinct ones, so that drawing
#: distinct, matched cohorts never runs out of combinations)
MAX_SCENES = 48000

__all__ = ["LesionConfig", "CONFIGS", "validate_config"]


@dataclass(frozen=True)
class LesionConfig:
    """All settings of one lesion run.

    Attributes
    ----------
    seed : int
        Fixes every random stream.
    n_days, n_per_cohort : int
        ``T`` days, each bringing a cohort of this many new scenes.
    epochs_per_day : int
        ``k``: VAE epochs on each day's replays (the consolidation continued; no restart).
    replays_per_day : int or None
        Replay events a day; None = one per stored memory.
    n_probe : int
        Extra held-out scenes for the shape-decoding probe (fit on half, test on half).
    supersample : int
        Renderer anti-aliasing.
    beta, normalize, max_iter
        Hopfield network (paper: 20, True, 10 updates).
    cue_fraction : float
        Fraction of a cue's elements zeroed (paper: 0.1).
    latent_dim, vae_widths, lr, batch_size
        The Shapes3D VAE (paper: 20, (32, 64, 128, 256), 1e-3 AMSGrad, 32).
    lesion_fractions : tuple of float
        Partial lesions: fraction of stored memories removed at random.
    probe_kind : str
        ``svc`` (the paper's) or ``logreg``.
    alpha : float
        Significance level of the age-gradient tests.
    max_intact_ratio : float
        Intact recall error must stay below this fraction of the lesioned error in every cohort.
    min_decoding : float
        Shape decoding from ``mu`` after the lesion must reach this (paper.md E9: 0.6).
    n_examples : int
        Example scenes per cohort in the figure.
    context_factor : int or None
        A Shapes3D factor (0 floor hue, 1 wall hue, 2 object hue) whose values are split
        between the days, so each day's scenes share a context (day ``t`` uses values
        ``v`` with ``v mod T = t``); None = every day's scenes drawn alike.
    """

    seed: int = 0
    n_days: int = 5
    n_per_cohort: int = 100
    epochs_per_day: int = 16
    replays_per_day: object = None
    n_probe: int = 400
    supersample: int = 2
    beta: float = 20.0
    normalize: bool = True
    max_iter: int = 10
    cue_fraction: float = 0.1
    latent_dim: int = 20
    vae_widths: Tuple[int, ...] = (16, 32, 64, 128)
    lr: float = 1e-3
    batch_size: int = 16
    lesion_fractions: Tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    probe_kind: str = "svc"
    alpha: float = 0.01
    max_intact_ratio: float = 0.05
    min_decoding: float = 0.6
    n_examples: int = 2
    context_factor: Optional[int] = None


def validate_config(cfg: LesionConfig) -> LesionConfig:
    """Check a config's values (``ValueError`` naming the field); return it unchanged."""
    if not isinstance(cfg, LesionConfig):
        raise TypeError(f"expected a LesionConfig, got {type(cfg).__name__}")
    check_positive_ints(cfg, ("n_days", "n_per_cohort", "n_probe", "supersample", "max_iter", "latent_dim",
                              "batch_size"))
    if cfg.n_days < 2:
        raise ValueError(f"n_days must be >= 2 (an age gradient needs two ages), got {cfg.n_days}")
    if cfg.n_per_cohort < 4 or cfg.n_probe < 4:
        raise ValueError("n_per_cohort and n_probe must be >= 4")
    if isinstance(cfg.epochs_per_day, bool) or not isinstance(cfg.epochs_per_day, int) or cfg.epochs_per_day < 0:
        raise ValueError(f"epochs_per_day must be an integer >= 0, got {cfg.epochs_per_day!r}")
    if cfg.replays_per_day is not None and (isinstance(cfg.replays_per_day, bool)
                                            or not isinstance(cfg.replays_per_day, int) or cfg.replays_per_day < 1):
        raise ValueError(f"replays_per_day must be a positive integer or null, got {cfg.replays_per_day!r}")
    if not 0.0 <= cfg.cue_fraction < 1.0:
        raise ValueError(f"cue_fraction must lie in [0, 1), got {cfg.cue_fraction}")
    if not cfg.lesion_fractions or any(not 0.0 <= f <= 1.0 for f in cfg.lesion_fractions):
        raise ValueError(f"lesion_fractions must be fractions in [0, 1], got {list(cfg.lesion_fractions)}")
    if not (cfg.beta > 0 and cfg.lr > 0 and 0 < cfg.alpha < 1 and cfg.max_intact_ratio > 0):
        raise ValueError("beta, lr, max_intact_ratio must be > 0 and alpha in (0, 1)")
    if len(cfg.vae_widths) != 4 or min(cfg.vae_widths) < 1:
        raise ValueError(f"vae_widths must be 4 positive integers, got {cfg.vae_widths!r}")
    if cfg.context_factor is not None and cfg.context_factor not in (0, 1, 2):
        raise ValueError(f"context_factor must be 0, 1, 2 (a hue factor) or null, got {cfg.context_factor!r}")
    if cfg.context_factor is not None and cfg.n_days > 10:
        raise ValueError("context_factor needs n_days <= 10 (a hue has 10 values)")
    if cfg.probe_kind not in ("svc", "logreg"):
        raise ValueError(f"probe_kind must be 'svc' or 'logreg', got {cfg.probe_kind!r}")
    check_positive_ints(cfg, ("n_examples",))
    check_at_most(cfg, [("n_probe", MAX_SCENES - cfg.n_days * cfg.n_per_cohort,
                         f"{MAX_SCENES} scenes in all minus the memories")])
    return cfg


CONFIGS = {
    "quick": LesionConfig(context_factor=1),
    "paper": LesionConfig(context_factor=1, n_per_cohort=2000, epochs_per_day=10, n_probe=950,
                          vae_widths=(32, 64, 128, 256),
                          batch_size=32, n_examples=3),
    "tiny": LesionConfig(n_days=3, n_per_cohort=8, epochs_per_day=1, n_probe=16, supersample=1,
                         vae_widths=(4, 8, 8, 16), batch_size=8, n_examples=1),
}
